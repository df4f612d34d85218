"""Serializer fields that respect the caller's visibility, and times that carry their offset."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.fields import empty

from relcrm.ids import MAX_ID
from relcrm.moments import PATTERN, check_moment


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id, chosen among the rows the caller may see.

    ``scope`` is a selector ``f(user) -> QuerySet``; ``model`` names the model for
    the schema (``VisibleRelatedFieldSchema``). There is no ``queryset``: DRF
    deep-copies every declared field each time it builds a serializer, and a
    queryset made that the most expensive part of listing accounts. An id of a row
    the caller may not see gets exactly the message of an id that does not exist,
    so a request body cannot probe another team's data.
    """

    default_error_messages = {"fractional": "An id is a whole number."}

    def __init__(self, scope, *, model, **kwargs):
        self.scope = scope
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))

    def to_internal_value(self, data):
        # int(1.5) is 1, and so would the database read it: 1.5 must not name row 1.
        if isinstance(data, float) and not data.is_integer():
            self.fail("fractional")
        # An id out of range is one that does not exist, and answers the same.
        if not isinstance(data, bool):
            try:
                number = int(data)
            except (TypeError, ValueError):
                number = None
            if number is not None and not 0 < number <= MAX_ID:
                self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class VisibleRelatedFieldSchema(OpenApiSerializerFieldExtension):
    """The field's id as its model's primary key documents it (an integer)."""

    target_class = VisibleRelatedField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_model_field(self.target.model._meta.pk, direction)
        # A primary key is read-only on its own model, not where it names a related row.
        schema.pop("readOnly", None)
        return schema


class RequestResponseField(serializers.Field):
    """One name with two shapes: ``write`` reads it from a request, ``read`` writes it back.

    For a field whose answer is richer than what a client sends (an interaction's
    ``promises``: the commitments to create go in, the full promises come out).
    Both serializers are built once with their parent, not once per row, and the
    schema documents each in its direction (``RequestResponseFieldSchema``).
    """

    def __init__(self, *, read, write, **kwargs):
        self.read = read
        self.write = write
        super().__init__(**kwargs)

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        # Bound below this field, both reach the root serializer's context.
        self.read.bind(field_name, self)
        self.write.bind(field_name, self)

    def get_value(self, dictionary):
        return self.write.get_value(dictionary)

    def run_validation(self, data=empty):
        is_empty, data = self.validate_empty_values(data)
        if is_empty:
            return data
        return self.write.run_validation(data)

    def to_representation(self, value):
        return self.read.to_representation(value)


class RequestResponseFieldSchema(OpenApiSerializerFieldExtension):
    target_class = RequestResponseField

    def map_serializer_field(self, auto_schema, direction):
        shape = self.target.write if direction == "request" else self.target.read
        return auto_schema._map_serializer_field(shape, direction)


class MomentField(serializers.DateTimeField):
    """A time, by the rule every time relcrm is given follows (``relcrm.moments``).

    Every time a request may carry is one of these: ``RowSerializer`` maps the
    models' ``DateTimeField`` to it, and serializers of their own declare it.
    """

    def enforce_timezone(self, value):
        try:
            value = check_moment(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages, code=error.code) from None
        return super().enforce_timezone(value)


class MomentFieldSchema(OpenApiSerializerFieldExtension):
    """A time as ISO 8601 with the offsets ``check_moment`` takes (in a request; answers say Z)."""

    target_class = MomentField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = PATTERN
        return schema
