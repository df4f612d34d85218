"""Each resource's JSON, written by one function of plain rows.

A resource (an account, a promise, an interaction...) has one function that
turns rows of its columns into its JSON: ``accounts_json(rows)``,
``promises_json(rows)``, ``interactions_json(rows)``. The list, the detail, a
create's answer and an idempotent replay all answer through it, and so can
anything else that needs the resource's JSON (a webhook's payload): it takes
plain data (``values()`` rows, or ``columns_of(instance)``) and no request.

Why rows and not a serializer's fields: a stock serializer builds a model
instance per row and walks every field of it, which cost more than the query
for a page of 50 accounts or a timeline page. The serializer stays the
contract for what comes in: ``RowSerializer`` validates writes and documents
the resource in the OpenAPI schema with its declared fields, and answers with
the function; tests/openapi_check.py holds every answer of the suite to that
schema.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from django.db import models
from django.db.models import Manager
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from relcrm.api.fields import MomentField


def iso(moment: datetime | None, tz=None) -> str | None:
    """A time as ``DateTimeField`` writes it: ISO 8601 in the current time zone, UTC as Z."""
    if moment is None:
        return None
    text = moment.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def columns_of(instance, columns: Sequence[str]) -> dict:
    """A model instance as the row ``values(*columns)`` reads."""
    return {name: getattr(instance, name) for name in columns}


class RowListSerializer(serializers.ListSerializer):
    """``many=True``: the whole batch through the function at once (it may read related rows)."""

    def to_representation(self, data):
        items = data.all() if isinstance(data, Manager) else data
        columns = self.child.columns
        return self.child.represent([columns_of(item, columns) for item in items])


class RowSerializer(serializers.ModelSerializer):
    """A model serializer that validates with its fields and answers with its resource's function.

    Subclasses name the ``columns`` the function reads and set ``represent``
    (``staticmethod(f)``, ``f(rows) -> list[dict]``). The declared fields
    document the answer in the schema; they are not used to write it.
    """

    columns: tuple[str, ...] = ()
    represent: Callable[[list[dict]], list[dict]]
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: MomentField,
    }
    #: The fields a PATCH may not change, each with the message it answers; the
    #: schema leaves them out of the PATCH body (relcrm.api.schema).
    unpatchable: Mapping[str, str] = {}

    class Meta:
        # Subclasses' ``class Meta(RowSerializer.Meta)`` inherit this.
        list_serializer_class = RowListSerializer

    def to_representation(self, instance):
        return self.represent([columns_of(instance, self.columns)])[0]


class RowListMixin:
    """``list`` from ``values(*columns)``, through the same filters, scope and pagination."""

    def list(self, request, *args, **kwargs):
        serializer_class = self.get_serializer_class()
        # Instances' prefetches do not apply to rows: the function reads what it needs.
        queryset = self.filter_queryset(self.get_queryset()).prefetch_related(None)
        rows = queryset.values(*serializer_class.columns)
        page = self.paginate_queryset(rows)
        if page is None:  # a list served without pagination
            return Response(serializer_class.represent(list(rows)))
        return self.get_paginated_response(serializer_class.represent(page))
