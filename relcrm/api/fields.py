"""Serializer fields that respect the caller's visibility."""

from rest_framework import serializers


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id, chosen among the rows the caller may see.

    ``scope`` is a selector ``f(user) -> QuerySet``; ``queryset`` names the model
    (for the schema) and is never used to look rows up. An id of a row the caller
    may not see gets exactly the message of an id that does not exist, so a
    request body cannot probe another team's data.
    """

    def __init__(self, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))
