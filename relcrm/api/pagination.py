"""Cursor pagination: ``{"next", "previous", "results"}`` and no ``COUNT(*)`` of the table."""

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable order by id, so paging through a changing list yields every row once."""

    ordering: str | tuple[str, ...] = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """``page_size`` if given, a whole number from 1 to ``max_page_size``: a 400 otherwise.

        DRF's own reading quietly takes any other value (``abc``, ``0``, ``5000``) for the
        default or the maximum, so a caller never learns that its page is not the size it
        asked for.
        """
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        field = forms.IntegerField(min_value=1, max_value=self.max_page_size)
        try:
            return field.clean(text)
        except DjangoValidationError as error:
            raise serializers.ValidationError(
                {self.page_size_query_param: error.messages}
            ) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        # Every page carries both links, null at either end.
        answer["required"] = ["next", "previous", "results"]
        return answer


class TimelinePagination(IdCursorPagination):
    """Newest first by when it happened (a back-filled call sorts where it belongs).

    The id breaks ties, and ``interaction_account_time`` (account, occurred_at, id)
    serves an account's timeline straight from the index.
    """

    ordering = ("-occurred_at", "-id")
