"""Cursor pagination: ``{"next", "previous", "results"}`` and no ``COUNT(*)`` of the table."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable order by id, so paging through a changing list yields every row once."""

    ordering: str | tuple[str, ...] = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

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
