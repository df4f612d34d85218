"""A lean read path for the hot lists: one page of plain rows, written without instances.

A stock list builds a model instance per row and walks every serializer field
of it; for 50 accounts or a timeline page that costs more than the query
(DESIGN "Performance"). ``LeanListMixin.list`` reads the page with
``values()`` through the same filters, scope and cursor pagination, and writes
each row with a plain function. The serializer stays the contract: it
validates writes, answers the detail and every other action, and documents the
list in the schema; tests/test_lean_lists.py holds the lean answer equal to the
serializer's for the same rows.
"""

from datetime import datetime

from django.utils import timezone
from rest_framework.response import Response


def iso(moment: datetime | None, tz=None) -> str | None:
    """A time as ``DateTimeField`` writes it: ISO 8601 in the current time zone, UTC as Z."""
    if moment is None:
        return None
    text = moment.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class LeanListMixin:
    """``list`` as the serializer would answer it, from ``values(*lean_fields)``.

    Subclasses name the columns a row needs in ``lean_fields`` and write a page
    of them in ``lean_rows`` (which may read related rows for the whole page).
    """

    lean_fields: tuple[str, ...] = ()

    def lean_rows(self, rows: list[dict]) -> list[dict]:
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        # The instances' prefetches do not apply to rows: lean_rows reads what it needs.
        queryset = self.filter_queryset(self.get_queryset()).prefetch_related(None)
        rows = queryset.values(*self.lean_fields)
        page = self.paginate_queryset(rows)
        if page is None:  # a list served without pagination
            return Response(self.lean_rows(list(rows)))
        return self.get_paginated_response(self.lean_rows(page))
