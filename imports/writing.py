"""Writing many rows at once: ids drawn ahead from the table's sequence, rows sent by COPY.

``COPY`` is PostgreSQL's bulk load: it costs the database what the rows cost
and Python one tuple per row, where ``bulk_create`` builds and prepares a model
instance per row first (for 10,000 promises that preparation took longer than
the database took to write them). Every column of the model is written, its
default where a row gives none, so the statement follows the model as it grows.
"""

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model


def next_ids(model: type[Model], count: int) -> list[int]:
    """``count`` new ids of ``model`` from its sequence, so that rows can name each other first."""
    if not count:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Write ``rows`` (values in the order of ``columns``, by attname) into ``model``'s table."""
    quote = connection.ops.quote_name
    column_of = {field.attname: str(field.column) for field in model._meta.concrete_fields}
    names = ", ".join(quote(column_of[name]) for name in columns)
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def copy_instances(model: type[Model], objs: Sequence[Model], *, with_pk: bool) -> None:
    """Write unsaved instances of ``model`` (each field as ``save`` would prepare it)."""
    fields = [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]
    rows = (
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        for obj in objs
    )
    copy_rows(model, [field.attname for field in fields], rows)


def model_defaults(model: type[Model], now) -> dict[str, object]:
    """Each column's value for a row that gives none: the field's default, ``now`` for timestamps.

    ``auto_now`` and ``auto_now_add`` fields take ``now``: one time for every row
    of the write. The primary key is left out (drawn by ``next_ids``).
    """
    defaults: dict[str, object] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        defaults[field.attname] = now if auto else field.get_default()
    return defaults
