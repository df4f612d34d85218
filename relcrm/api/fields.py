"""Serializer fields that respect the caller's visibility."""

from rest_framework import serializers

# Ids are BigAutoFields: a larger number cannot be one, and the database would
# refuse to compare it (an OverflowError on SQLite, a 500 for the caller).
MAX_ID = 2**63 - 1


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
