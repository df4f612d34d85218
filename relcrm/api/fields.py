"""Serializer fields that respect the caller's visibility, and times that carry their offset."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.fields import empty

# Ids are BigAutoFields: a larger number cannot be one, and the database would
# refuse to compare it (a 500 for the caller).
MAX_ID = 2**63 - 1


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id, chosen among the rows the caller may see.

    ``scope`` is a selector ``f(user) -> QuerySet``; ``model`` names the model for
    the schema (``VisibleRelatedFieldSchema``). There is no ``queryset``: DRF
    deep-copies every declared field each time it builds a serializer, and a
    queryset made that the most expensive part of listing accounts. An id of a row
    the caller may not see gets exactly the message of an id that does not exist,
    so a request body cannot probe another team's data.
    """

    def __init__(self, scope, *, model, **kwargs):
        self.scope = scope
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))

    def to_internal_value(self, data):
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


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must say its offset from UTC (``Z``, ``+01:00``, ...).

    DRF reads a time without one in the server's time zone, which is seldom the
    caller's: a call logged at "09:30" from Berlin would land an hour off. It is
    refused instead, as a date alone is.
    """

    default_error_messages = {
        "offset": "Give the time with its offset from UTC, such as 2026-03-01T09:30:00+01:00.",
    }

    def to_internal_value(self, value):
        moment = value
        if isinstance(value, str):
            try:
                moment = parse_datetime(value.strip())
            except ValueError:  # well formed but no such time: DRF words that error
                moment = None
        if isinstance(moment, datetime) and timezone.is_naive(moment):
            self.fail("offset")
        return super().to_internal_value(value)
