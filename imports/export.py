"""CSV exports: a resource's rows written through its one JSON function, streamed.

The columns are the API's field names, as the resource's serializer declares
them (a nested object such as an account's ``health`` becomes ``health.score``,
``health.band``, ...). Each cell is the value the API's JSON holds: a time in
ISO 8601 with its offset, a list of related objects as their ids joined by
``;``, nothing for null. The rows are read from a server-side cursor, a batch
at a time, and each batch goes through the resource's JSON function
(``accounts_json``, ``interactions_json``, ...), so an export holds one batch in
memory whatever its size and says exactly what the API says.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework import serializers

from relcrm.api.fields import RequestResponseField
from relcrm.api.rows import RowSerializer

# The separator of the ids in a list cell: not the CSV's own, so a spreadsheet keeps them in one.
LIST_SEPARATOR = ";"
# Rows fetched from the cursor and written per batch: each batch costs the JSON
# function's own reads (an interaction's contacts and promises) once.
BATCH_SIZE = 2000
CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Column:
    """One CSV column: the JSON key it comes from and, for a nested object, the key inside."""

    name: str
    key: str
    part: str | None = None


def csv_columns(serializer_class: type[RowSerializer]) -> list[Column]:
    """The columns of a resource's export, in the order its serializer declares its fields."""
    columns = []
    for name, field in serializer_class().fields.items():
        if field.write_only:
            continue
        shape = field.read if isinstance(field, RequestResponseField) else field
        if isinstance(shape, serializers.Serializer):  # a nested object, not a list of them
            columns += [Column(f"{name}.{part}", name, part) for part, _ in shape.fields.items()]
        else:
            columns.append(Column(name, name))
    return columns


def cell(value) -> str:
    """One JSON value as a CSV cell (a list of objects as their ids)."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(
            str(item["id"] if isinstance(item, dict) else item) for item in value
        )
    return str(value)


def csv_row(item: dict, columns: list[Column]) -> list[str]:
    """One resource's JSON as the cells of ``columns``."""
    cells = []
    for column in columns:
        value = item[column.key]
        if column.part is not None:
            value = None if value is None else value[column.part]
        cells.append(cell(value))
    return cells


class _Line:
    """What ``csv.writer`` writes into: the text of the last row, taken back at once."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(
    serializer_class: type[RowSerializer], rows: Iterable[dict], *, batch_size: int = BATCH_SIZE
) -> Iterator[bytes]:
    """The CSV of ``rows`` (of the serializer's ``columns``): the header, then one chunk a batch."""
    columns = csv_columns(serializer_class)
    buffer = _Line()
    # RFC 4180's line ends, which Excel writes and reads.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in columns])
    yield buffer.take().encode()
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            writer.writerows(csv_row(item, columns) for item in serializer_class.represent(batch))
            yield buffer.take().encode()
            batch = []
    if batch:
        writer.writerows(csv_row(item, columns) for item in serializer_class.represent(batch))
        yield buffer.take().encode()


def _cursor_rows(queryset: QuerySet, columns: Iterable[str], batch_size: int) -> Iterator[dict]:
    """The rows of ``queryset`` from a server-side cursor, in one transaction.

    Inside a transaction the cursor is a plain one, read as it is fetched; in
    autocommit Django declares it ``WITH HOLD``, which makes PostgreSQL compute
    every row before the first is sent.
    """
    with transaction.atomic():
        yield from queryset.values(*columns).iterator(chunk_size=batch_size)


def csv_response(
    serializer_class: type[RowSerializer], queryset: QuerySet, *, name: str
) -> StreamingHttpResponse:
    """Stream ``queryset`` as the CSV of its resource, as a download named after ``name``."""
    rows = _cursor_rows(queryset.prefetch_related(None), serializer_class.columns, BATCH_SIZE)
    chunks = csv_chunks(serializer_class, rows, batch_size=BATCH_SIZE)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
