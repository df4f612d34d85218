"""Filter sets for the API that cannot be used to probe another team's data."""

from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from relcrm.ids import MAX_ID, IdField
from relcrm.moments import PATTERN, MomentField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A foreign key filtered by its integer id, without looking the row up.

    django-filter's default for a foreign key is a ``ModelChoiceFilter`` over
    the whole table: an id that exists in another team filters to an empty
    list while a missing one is a 400, which tells a caller what exists. An id
    compared as a plain number answers both the same way (the list is already
    scoped to the caller), and costs no query.
    """

    field_class = IdField


@extend_schema_field({"type": "string", "format": "date-time", "pattern": PATTERN})
class MomentFilter(filters.IsoDateTimeFilter):
    """A time in ISO 8601, by the rule every time relcrm is given follows (``relcrm.moments``)."""

    field_class = MomentField


class FilterSet(filters.FilterSet):
    """The base of every API filter set: foreign keys in ``Meta.fields`` become ``IdFilter``,
    times ``MomentFilter``."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": MomentFilter},
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.ManyToManyField: {"filter_class": IdFilter},
    }

    def is_valid(self):
        """Also refuse what django-filter quietly reads as "no filter".

        An empty value (``?occurred_before=``) and a boolean other than ``true`` or
        ``false`` (``?overdue=null``) would each list everything, as if the filter had
        not been sent: a caller with a bug in building its query would never learn of
        it. A search is a text, and an empty one matches everything on purpose.
        """
        valid = super().is_valid()
        for name, value in self.data.items():
            declared = self.filters.get(name)
            if declared is None or isinstance(declared, filters.CharFilter):
                continue
            if value == "":
                self.form.add_error(name, "Give a value, or leave this filter out.")
            elif isinstance(declared, filters.BooleanFilter) and value not in ("true", "false"):
                self.form.add_error(name, "Send true or false.")
            else:
                continue
            valid = False
        return valid

    def get_form_class(self):
        """The form class, built once per filter set rather than once per request.

        Its fields come from the filters' declarations alone (no filter here
        reads the request to build its field), and each form made from it
        copies them, as every Django form does.
        """
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            cls._form_class = form_class
        return form_class
