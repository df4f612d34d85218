"""The trust model's evidence, aggregated in SQL for many accounts at once.

Each field of ``trust.model.Evidence`` is one plain aggregate over an account's
promise or interaction rows (its docstring in ``trust/model.py`` gives the SQL).
Two GROUP BY queries, one per table, yield the evidence of every account in a
set of ids; the one-account recompute runs the very same queries for one id, so
the bulk and the single path cannot disagree. ``trust.model.evidence_from_rows``
is the Python reference the tests hold these queries to.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from interactions.models import Interaction
from promises.models import Promise
from trust.model import Evidence, Params

PROMISE_TABLE = Promise._meta.db_table
INTERACTION_TABLE = Interaction._meta.db_table


def _age(column: str) -> str:
    """SQL for the days from ``column`` to the ``as_of`` parameter, as a float."""
    if connection.vendor == "postgresql":
        # date_part() is float8 arithmetic; EXTRACT() computes in numeric, several
        # times slower over millions of rows, and rounds to the same double.
        return f"((%(as_of_epoch)s - date_part('epoch', {column})) / 86400.0)"
    return f"(julianday(%(as_of)s) - julianday({column}))"


def _decay(rate_param: str, column: str) -> str:
    return f"EXP(-%({rate_param})s * {_age(column)})"


def _by(column: str) -> str:
    """The event stamped in ``column`` had happened by ``as_of``."""
    return f"({column} IS NOT NULL AND {column} <= %(as_of)s)"


def _sum(predicate: str, value: str | None = None) -> str:
    """The sum of ``value`` (the count without one) over the rows where ``predicate`` holds.

    A ``FILTER`` clause: the value is not even evaluated for the other rows. The
    sum of no rows is NULL, read as 0.
    """
    if value is None:
        return f"COUNT(*) FILTER (WHERE {predicate})"
    return f"SUM({value}) FILTER (WHERE {predicate})"


def _promise_sql(ids_clause: str) -> str:
    kept = _by("kept_at")
    on_time = f"({kept} AND kept_at <= due_at)"
    late = f"({kept} AND kept_at > due_at)"
    broken = f"(NOT {kept} AND {_by('broken_at')})"
    silent = f"({broken} AND broken_at >= due_at)"
    disclosed = f"({broken} AND broken_at < due_at)"
    overdue = (
        f"(NOT {kept} AND NOT {_by('broken_at')} AND NOT {_by('released_at')}"
        " AND due_at < %(as_of)s)"
    )
    repaired = f"({broken} AND {_by('repaired_at')} AND {_repaired_in_time()})"
    wound = f"(({broken} AND NOT {repaired}) OR {overdue})"
    failed_at = (
        "(CASE WHEN broken_at IS NOT NULL AND broken_at < due_at THEN broken_at ELSE due_at END)"
    )
    wound_at = f"(CASE WHEN {broken} THEN broken_at ELSE due_at END)"
    dp = lambda column: _decay("promise_rate", column)  # noqa: E731
    fields = {
        "kept_on_time": _sum(on_time, dp("kept_at")),
        "kept_on_time_count": _sum(on_time),
        "kept_late_credit": _sum(late, dp("kept_at")),
        "kept_late_debit": _sum(late, dp(failed_at)),
        "kept_late_count": _sum(late),
        "silent_breaks": _sum(silent, dp("broken_at")),
        "silent_break_count": _sum(silent),
        "silent_break_recent_count": _sum(f"({silent} AND broken_at > %(recent_since)s)"),
        "disclosed_breaks": _sum(disclosed, dp("broken_at")),
        "disclosed_break_count": _sum(disclosed),
        "disclosed_break_recent_count": _sum(f"({disclosed} AND broken_at > %(recent_since)s)"),
        "overdue_open": _sum(overdue, dp("due_at")),
        "overdue_open_count": _sum(overdue),
        "renegotiations": f"SUM(renegotiated_count * {dp('created_at')})",
        "renegotiation_count": "SUM(renegotiated_count)",
        "unrepaired": _sum(wound, _decay("wound_rate", wound_at)),
        "unrepaired_count": _sum(wound),
    }
    columns = ",\n  ".join(f"{sql} AS {name}" for name, sql in fields.items())
    return (
        f"SELECT account_id,\n  {columns}\nFROM {PROMISE_TABLE}\n"
        f"WHERE created_at <= %(as_of)s AND {ids_clause}\nGROUP BY account_id"
    ), list(fields)


def _repaired_in_time() -> str:
    """The repair came within the repair window after the break, in each dialect."""
    if connection.vendor == "postgresql":
        return "repaired_at <= broken_at + %(repair_window)s"
    return "(julianday(repaired_at) - julianday(broken_at)) <= %(repair_window_days)s"


def _answered_hours() -> str:
    if connection.vendor == "postgresql":
        return "(date_part('epoch', answered_at - occurred_at) / 3600.0)"
    return "((julianday(answered_at) - julianday(occurred_at)) * 24.0)"


def _interaction_sql(ids_clause: str) -> str:
    # The per-row values (the decay, the age, the answer time) are computed once
    # per row in a subquery and summed by the outer query: written inline, each
    # would be evaluated again in every aggregate that uses it (PostgreSQL does
    # not share common subexpressions). ``OFFSET 0`` keeps PostgreSQL from
    # pulling the subquery up, which would inline them again.
    inbound = "direction = 'inbound'"
    answered = (
        f"({inbound} AND answered_at IS NOT NULL AND hours <= %(window_hours)s"
        " AND hours <= 24.0 * age)"
    )
    expected = f"({answered} OR ({inbound} AND occurred_at <= %(answer_cutoff)s))"
    fields = {
        "interaction_count": "COUNT(*)",
        "first_interaction_at": "MIN(occurred_at)",
        "last_interaction_at": "MAX(occurred_at)",
        "sentiment_weight": _sum("sentiment IS NOT NULL", "di"),
        "sentiment_positive": _sum("sentiment > 0", "sentiment * di"),
        "sentiment_negative": _sum("sentiment < 0", "sentiment * di"),
        "sentiment_negative_weight": _sum("sentiment < 0", "di"),
        "sentiment_count": _sum("sentiment IS NOT NULL"),
        "sentiment_positive_count": _sum("sentiment > 0"),
        "sentiment_negative_count": _sum("sentiment < 0"),
        "sentiment_negative_recent_count": _sum(
            "(sentiment < 0 AND occurred_at > %(recent_since)s)"
        ),
        "inbound_expected": _sum(expected, "di"),
        "inbound_answered": _sum(answered, "di"),
        "inbound_expected_count": _sum(expected),
        "inbound_answered_count": _sum(answered),
    }
    columns = ",\n  ".join(f"{sql} AS {name}" for name, sql in fields.items())
    per_row = (
        f"SELECT account_id, occurred_at, sentiment, direction, answered_at,\n"
        f"    {_decay('interaction_rate', 'occurred_at')} AS di,\n"
        f"    {_age('occurred_at')} AS age,\n"
        f"    {_answered_hours()} AS hours\n"
        f"  FROM {INTERACTION_TABLE}\n"
        f"  WHERE occurred_at <= %(as_of)s AND {ids_clause}"
        + ("\n  OFFSET 0" if connection.vendor == "postgresql" else "")
    )
    return (
        f"SELECT account_id,\n  {columns}\nFROM (\n  {per_row}\n) AS i\nGROUP BY account_id"
    ), list(fields)


def _parameters(as_of: datetime, params: Params) -> dict:
    ops = connection.ops

    def moment(value: datetime):
        # SQLite stores naive UTC text: compare against the same representation.
        return ops.adapt_datetimefield_value(value) if connection.vendor == "sqlite" else value

    values = {
        "as_of": moment(as_of),
        "as_of_epoch": as_of.timestamp(),
        "recent_since": moment(as_of - timedelta(days=params.recent_days)),
        "answer_cutoff": moment(as_of - timedelta(hours=params.response_window_hours)),
        "window_hours": float(params.response_window_hours),
        "promise_rate": params.decay_per_day(params.promise_half_life_days),
        "wound_rate": params.decay_per_day(params.wound_half_life_days),
        "interaction_rate": params.decay_per_day(params.interaction_half_life_days),
    }
    # Only what the dialect's SQL names: SQLite cannot even quote an interval
    # (Django's debug cursor quotes every parameter when DEBUG is on).
    if connection.vendor == "postgresql":
        values["repair_window"] = timedelta(days=params.repair_window_days)
    else:
        values["repair_window_days"] = float(params.repair_window_days)
    return values


def _to_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    # SQLite returns MIN/MAX of a datetime column as its stored text.
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if timezone.is_naive(parsed) else parsed


INTEGER_FIELDS = {
    name for name, field in Evidence.__dataclass_fields__.items() if field.type in (int, "int")
}


def evidence_for(
    account_ids: Sequence[int], *, as_of: datetime, params: Params
) -> dict[int, Evidence]:
    """The evidence of each account in ``account_ids`` as of ``as_of``: two queries in all.

    Accounts with no rows at all get empty evidence (the model's prior).
    """
    if not account_ids:
        return {}
    values = _parameters(as_of, params)
    ids_clause = "account_id IN (" + ", ".join(str(int(pk)) for pk in account_ids) + ")"
    rows: dict[int, dict] = {int(pk): {} for pk in account_ids}
    with connection.cursor() as cursor:
        for sql, names in (_promise_sql(ids_clause), _interaction_sql(ids_clause)):
            cursor.execute(sql, values)
            for account_id, *aggregates in cursor.fetchall():
                rows[account_id].update(zip(names, aggregates, strict=True))
    return {pk: _evidence(fields, as_of) for pk, fields in rows.items()}


# For the one-pass aggregation of every account: 100,000 groups overflow the
# default 4 MB of hash memory and the aggregate spills to disk (measured: 12.9 s
# instead of 7.5 s at the reference scale); and a cursor is planned for its
# first rows unless told the whole result is wanted (a fast-start plan through
# the (account, occurred_at) index was 5x slower than a plain fetch).
BULK_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL cursor_tuple_fraction = 1.0")
FETCH_SIZE = 2000


class EvidenceStream:
    """The evidence of every account, aggregated in one pass and handed out in id order.

    For the recompute of all accounts, where ``evidence_for`` with chunks of ids
    would read the interactions table once per chunk (an account's rows are
    spread over the whole table). On PostgreSQL both aggregates run to
    completion when opened (``WITH HOLD`` cursors, materialised as the
    transaction commits, no lock held) and are then fetched a batch at a time,
    so memory stays flat; elsewhere ``take`` falls back to ``evidence_for``.
    Use as a context manager, and call ``take`` with ascending ids.
    """

    def __init__(self, *, as_of: datetime, params: Params) -> None:
        self.as_of = as_of
        self.params = params
        self._streams: list[tuple[object, list[str], list]] = []

    def __enter__(self) -> "EvidenceStream":
        if connection.vendor != "postgresql":
            return self
        import psycopg
        from django.db import transaction

        values = _parameters(self.as_of, self.params)
        with transaction.atomic(), connection.cursor() as settings_cursor:
            for statement in BULK_SETTINGS:
                settings_cursor.execute(statement)
            for index, (sql, names) in enumerate((_promise_sql("TRUE"), _interaction_sql("TRUE"))):
                cursor = psycopg.ServerCursor(
                    connection.connection, f"trust_evidence_{index}", withhold=True
                )
                self._streams.append((cursor, names, []))
                cursor.execute(f"{sql}\nORDER BY account_id", values)
        return self

    def __exit__(self, *exc) -> None:
        for cursor, _, _ in self._streams:
            cursor.close()
        self._streams = []

    def take(self, account_ids: Sequence[int]) -> dict[int, Evidence]:
        """The evidence of these accounts (ascending, each after those of the last call)."""
        if not self._streams:
            return evidence_for(account_ids, as_of=self.as_of, params=self.params)
        rows: dict[int, dict] = {int(pk): {} for pk in account_ids}
        for cursor, names, buffer in self._streams:
            for pk in rows:
                while True:
                    if not buffer:
                        buffer.extend(reversed(cursor.fetchmany(FETCH_SIZE)))
                        if not buffer:
                            break
                    account_id = buffer[-1][0]
                    if account_id > pk:
                        break
                    account_id, *aggregates = buffer.pop()
                    if account_id == pk:
                        rows[pk].update(zip(names, aggregates, strict=True))
        return {pk: _evidence(fields, self.as_of) for pk, fields in rows.items()}


def aggregation_queries(ids_clause: str) -> list[str]:
    """The two aggregate statements ``evidence_for`` runs, for any ``account_id`` predicate.

    With the parameters bound (``cursor.execute(sql, values)`` needs ``values``
    from ``aggregation_parameters``). The benchmarks time these very statements
    as the floor of the recompute.
    """
    return [sql for sql, _ in (_promise_sql(ids_clause), _interaction_sql(ids_clause))]


def aggregation_parameters(as_of: datetime, params: Params) -> dict:
    """The named parameters of ``aggregation_queries``."""
    return _parameters(as_of, params)


def _evidence(fields: dict, as_of: datetime) -> Evidence:
    cleaned = {}
    for name, value in fields.items():
        if name in ("first_interaction_at", "last_interaction_at"):
            cleaned[name] = _to_datetime(value)
        elif name in INTEGER_FIELDS:
            cleaned[name] = int(value or 0)
        else:
            cleaned[name] = float(value or 0.0)
    return Evidence(as_of=as_of, **cleaned)
