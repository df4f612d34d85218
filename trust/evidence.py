"""The trust model's evidence, aggregated in SQL for many accounts at once.

Each field of ``trust.model.Evidence`` is one plain aggregate over an account's
promise or interaction rows (its docstring in ``trust/model.py`` gives the SQL).
Two GROUP BY queries, one per table, yield the evidence of every account in a
set of ids; the one-account recompute runs the very same queries for one id, so
the bulk and the single path cannot disagree. ``trust.model.evidence_from_rows``
is the Python reference the tests hold these queries to.
"""

from collections.abc import Sequence
from dataclasses import fields
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
    sum of no rows is 0.0 rather than NULL, so that every value arrives as the
    float or int its ``Evidence`` field holds.
    """
    if value is None:
        return f"COUNT(*) FILTER (WHERE {predicate})"
    return f"COALESCE(SUM({value}) FILTER (WHERE {predicate}), 0.0)"


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
        "renegotiations": f"COALESCE(SUM(renegotiated_count * {dp('created_at')}), 0.0)",
        "renegotiation_count": "COALESCE(SUM(renegotiated_count), 0)",
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


def _moment_sql(aggregate: str) -> str:
    """A timestamp aggregate as the result carries it.

    PostgreSQL: seconds since the epoch as a float8, which holds every
    microsecond timestamp exactly enough to give it back (``_to_datetime``);
    Django's timestamptz loader is pure Python and cost more per account than
    the rest of the row. SQLite: the stored text.
    """
    if connection.vendor == "postgresql":
        return f"date_part('epoch', {aggregate})"
    return aggregate


def _interaction_sql(ids_clause: str) -> str:
    # The per-row values (the decay, and whether an inbound contact counts as
    # answered or as expected) are computed once per row in a subquery and
    # summed by the outer query: written inline, each would be evaluated again
    # in every aggregate that uses it (PostgreSQL does not share common
    # subexpressions). ``OFFSET 0`` keeps PostgreSQL from pulling the subquery
    # up, which would inline them again.
    hours = _answered_hours()
    # 2: answered (within the window, and by as_of); 1: expected but not
    # answered (the window has passed); 0: neither (or not inbound).
    inbound_state = (
        "CASE WHEN direction = 'inbound' AND answered_at IS NOT NULL"
        f" AND {hours} <= %(window_hours)s AND {hours} <= 24.0 * {_age('occurred_at')} THEN 2"
        " WHEN direction = 'inbound' AND occurred_at <= %(answer_cutoff)s THEN 1"
        " ELSE 0 END"
    )
    expected, answered = "inbound > 0", "inbound = 2"
    fields = {
        "interaction_count": "COUNT(*)",
        "first_interaction_at": _moment_sql("MIN(occurred_at)"),
        "last_interaction_at": _moment_sql("MAX(occurred_at)"),
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
        f"SELECT account_id, occurred_at, sentiment,\n"
        f"    {_decay('interaction_rate', 'occurred_at')} AS di,\n"
        f"    {inbound_state} AS inbound\n"
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
    if isinstance(value, float):
        # Epoch seconds (``_moment_sql``): within a tenth of a microsecond of the
        # stored value, which rounding to the microsecond gives back exactly.
        return datetime.fromtimestamp(value, UTC)
    # SQLite returns MIN/MAX of a datetime column as its stored text.
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if timezone.is_naive(parsed) else parsed


def ids_clause(account_ids: Sequence[int], values: dict, column: str = "account_id") -> str:
    """The predicate on ``column`` for these ids (adding its parameters to ``values``).

    One id, or a range when the ids are dense (the chunks of every account),
    as parameters: the statement's text is the same for every account or
    chunk, so the server can keep its plan. A range reads one stretch of the
    (account, occurred_at) covering index, where a long ``IN`` list costs
    planning time and a probe per id; the rows of accounts in the range but
    not asked for are aggregated and dropped.
    """
    ids = sorted({int(pk) for pk in account_ids})
    if len(ids) == 1:
        values["account_id"] = ids[0]
        return f"{column} = %(account_id)s"
    if ids[-1] - ids[0] < 2 * len(ids):
        values["first_id"], values["last_id"] = ids[0], ids[-1]
        return f"{column} BETWEEN %(first_id)s AND %(last_id)s"
    return f"{column} IN (" + ", ".join(map(str, ids)) + ")"


def evidence_for(
    account_ids: Sequence[int], *, as_of: datetime, params: Params
) -> dict[int, Evidence]:
    """The evidence of each account in ``account_ids`` as of ``as_of``: two queries in all.

    Accounts with no rows at all get empty evidence (the model's prior).
    """
    if not account_ids:
        return {}
    values = _parameters(as_of, params)
    predicate = ids_clause(account_ids, values)
    found: list[dict[int, tuple]] = []
    with server_cursor() if connection.vendor == "postgresql" else connection.cursor() as cursor:
        for sql, _ in (_promise_sql(predicate), _interaction_sql(predicate)):
            cursor.execute(sql, values)
            found.append({row[0]: row[1:] for row in cursor.fetchall()})
    promises, interactions = found
    return {int(pk): _evidence(as_of, promises.get(pk), interactions.get(pk)) for pk in account_ids}


def server_cursor():
    """A psycopg cursor on Django's connection (PostgreSQL) that binds on the server.

    Django's cursor quotes every parameter into the text in Python; this one
    sends them apart, so the server may also keep the plan of a statement run
    again. Same connection, so the same transaction.
    """
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


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


# Each field's value for an account with no rows (and for a sum over no rows),
# in the order of Evidence's fields after ``as_of``: the promise aggregates
# (``_promise_sql``), then the interaction ones from ``interaction_count`` on
# (``_interaction_sql``), as the two queries select them; ``_evidence`` builds
# an Evidence positionally from the two rows.
_NAMES = [field.name for field in fields(Evidence)][1:]
_ZEROS = tuple(
    0 if field.type in (int, "int") else None if "datetime" in str(field.type) else 0.0
    for field in fields(Evidence)[1:]
)
_PROMISE_ZEROS = _ZEROS[: _NAMES.index("interaction_count")]
_INTERACTION_ZEROS = _ZEROS[_NAMES.index("interaction_count") :]


def _evidence(
    as_of: datetime, promise_row: tuple | None, interaction_row: tuple | None
) -> Evidence:
    """An account's ``Evidence`` from its row of each query (None: it has no rows there).

    Each aggregate arrives as its field's type (``_sum``); only the two times
    are converted.
    """
    if interaction_row is None:
        return Evidence.of((as_of, *(promise_row or _PROMISE_ZEROS), *_INTERACTION_ZEROS))
    count, first, last, *sums = interaction_row
    return Evidence.of(
        (
            as_of,
            *(promise_row or _PROMISE_ZEROS),
            count,
            _to_datetime(first),
            _to_datetime(last),
            *sums,
        )
    )
