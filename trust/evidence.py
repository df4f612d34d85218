"""The trust model's evidence, aggregated in SQL for many accounts at once: every statement here.

Each field of ``trust.model.Evidence`` is one plain aggregate over an account's
promise or interaction rows. ``PROMISE_COLUMNS`` and ``INTERACTION_COLUMNS``
name each field's SQL; ``promise_sql`` and ``interaction_sql`` group them by
account, and a row becomes an ``Evidence`` by its column names. Two statements
yield the evidence of every account in a set of ids; the one-account recompute
runs the very same ones for one id, so the bulk and the single path cannot
disagree. ``trust.model.evidence_from_rows`` is the Python reference the tests
hold these statements to.
"""

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta

import psycopg
from django.db import connection
from psycopg.types.datetime import TimestamptzLoader

from interactions.models import Interaction
from promises.models import Promise
from trust.model import Evidence, Params

PROMISE_TABLE = Promise._meta.db_table
INTERACTION_TABLE = Interaction._meta.db_table


def _age(column: str) -> str:
    """SQL for the days from ``column`` to the ``as_of`` parameter, as a float.

    date_part() is float8 arithmetic; EXTRACT() computes in numeric, several
    times slower over millions of rows, and rounds to the same double.
    """
    return f"((%(as_of_epoch)s - date_part('epoch', {column})) / 86400.0)"


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


def _promise_columns() -> dict[str, str]:
    """Each promise field of ``Evidence`` and its aggregate over the account's promises."""
    kept = _by("kept_at")
    on_time = f"({kept} AND kept_at <= due_at AND broken_at IS NULL)"
    late = f"({kept} AND (kept_at > due_at OR broken_at IS NOT NULL))"
    broken = f"(NOT {kept} AND {_by('broken_at')})"
    silent = f"({broken} AND broken_at >= due_at)"
    disclosed = f"({broken} AND broken_at < due_at)"
    overdue = (
        f"(NOT {kept} AND NOT {_by('broken_at')} AND NOT {_by('released_at')}"
        " AND due_at < %(as_of)s)"
    )
    repaired = (
        f"({broken} AND {_by('repaired_at')} AND repaired_at <= broken_at + %(repair_window)s)"
    )
    wound = f"(({broken} AND NOT {repaired}) OR {overdue})"
    failed_at = (
        "(CASE WHEN broken_at IS NOT NULL AND broken_at < due_at THEN broken_at ELSE due_at END)"
    )
    wound_at = f"(CASE WHEN {broken} THEN broken_at ELSE due_at END)"
    dp = lambda column: _decay("promise_rate", column)  # noqa: E731
    return {
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


# The per-row values of an interaction (its decay ``di``, and whether an inbound
# contact counts as answered or as expected) are computed once per row in a
# subquery and summed by the outer query: written inline, each would be
# evaluated again in every aggregate that uses it (PostgreSQL does not share
# common subexpressions). ``OFFSET 0`` keeps PostgreSQL from pulling the
# subquery up, which would inline them again.
_ANSWERED_HOURS = "(date_part('epoch', answered_at - occurred_at) / 3600.0)"
# 2: answered (within the window, and by as_of); 1: expected but not answered
# (the window has passed); 0: neither (or not inbound).
_INBOUND_STATE = (
    "CASE WHEN direction = 'inbound' AND answered_at IS NOT NULL"
    f" AND {_ANSWERED_HOURS} <= %(window_hours)s"
    f" AND {_ANSWERED_HOURS} <= 24.0 * {_age('occurred_at')} THEN 2"
    " WHEN direction = 'inbound' AND occurred_at <= %(answer_cutoff)s THEN 1"
    " ELSE 0 END"
)


def _interaction_columns() -> dict[str, str]:
    """Each interaction field of ``Evidence`` and its aggregate over the per-row values."""
    expected, answered = "inbound > 0", "inbound = 2"
    return {
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


PROMISE_COLUMNS = _promise_columns()
INTERACTION_COLUMNS = _interaction_columns()


def check_columns(selected: Sequence[str]) -> None:
    """Raise unless ``selected`` names every field of Evidence but ``as_of``, each once.

    Run at import on the two statements' columns: a field added to one side
    only fails there, not in a recompute.
    """
    expected = sorted(field.name for field in fields(Evidence) if field.name != "as_of")
    if sorted(selected) != expected:
        raise ImportError(
            "trust.evidence selects other columns than Evidence's fields: "
            f"missing {sorted(set(expected) - set(selected))}, "
            f"unknown {sorted(set(selected) - set(expected))}, "
            f"or a field selected twice in {sorted(selected)}"
        )


check_columns([*PROMISE_COLUMNS, *INTERACTION_COLUMNS])


def _select(columns: dict[str, str]) -> str:
    return ",\n  ".join(f"{sql} AS {name}" for name, sql in columns.items())


def promise_sql(ids_clause: str) -> str:
    """The promise aggregates of every account matching ``ids_clause``, one row each."""
    return (
        f"SELECT account_id,\n  {_select(PROMISE_COLUMNS)}\nFROM {PROMISE_TABLE}\n"
        f"WHERE created_at <= %(as_of)s AND {ids_clause}\nGROUP BY account_id"
    )


def interaction_sql(ids_clause: str) -> str:
    """The interaction aggregates of every account matching ``ids_clause``, one row each."""
    per_row = (
        f"SELECT account_id, occurred_at, sentiment,\n"
        f"    {_decay('interaction_rate', 'occurred_at')} AS di,\n"
        f"    {_INBOUND_STATE} AS inbound\n"
        f"  FROM {INTERACTION_TABLE}\n"
        f"  WHERE occurred_at <= %(as_of)s AND {ids_clause}\n"
        "  OFFSET 0"
    )
    return (
        f"SELECT account_id,\n  {_select(INTERACTION_COLUMNS)}\n"
        f"FROM (\n  {per_row}\n) AS i\nGROUP BY account_id"
    )


def aggregation_queries(ids_clause: str) -> list[str]:
    """The two statements ``evidence_for`` runs, for any ``account_id`` predicate.

    Run with the parameters of ``aggregation_parameters``. The benchmarks time
    these very statements as the floor of the recompute.
    """
    return [promise_sql(ids_clause), interaction_sql(ids_clause)]


def aggregation_parameters(as_of: datetime, params: Params) -> dict:
    """The named parameters of ``aggregation_queries``."""
    return {
        "as_of": as_of,
        "as_of_epoch": as_of.timestamp(),
        "recent_since": as_of - timedelta(days=params.recent_days),
        "answer_cutoff": as_of - timedelta(hours=params.response_window_hours),
        "window_hours": float(params.response_window_hours),
        "repair_window": timedelta(days=params.repair_window_days),
        "promise_rate": params.decay_per_day(params.promise_half_life_days),
        "wound_rate": params.decay_per_day(params.wound_half_life_days),
        "interaction_rate": params.decay_per_day(params.interaction_half_life_days),
    }


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


def server_cursor() -> psycopg.Cursor:
    """A psycopg cursor on Django's connection that binds on the server.

    Django's cursor quotes every parameter into the text in Python; this one
    sends them apart, so the server may also keep the plan of a statement run
    again. Same connection, so the same transaction. Times load with
    psycopg's own (compiled) loader: Django's is pure Python, and the session's
    time zone is already Django's.
    """
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
    return cursor


def _by_account(cursor: psycopg.Cursor, sql: str, values: dict) -> dict[int, dict]:
    """Each account's row of ``sql``, as a dict of its columns by name (but the account's id)."""
    cursor.execute(sql, values)
    _, *names = (column.name for column in cursor.description or ())
    return {account_id: dict(zip(names, rest, strict=True)) for account_id, *rest in cursor}


def evidence_for(
    account_ids: Sequence[int], *, as_of: datetime, params: Params
) -> dict[int, Evidence]:
    """The evidence of each account in ``account_ids`` as of ``as_of``: two statements in all.

    Accounts with no rows at all get empty evidence (the model's prior); every
    aggregate arrives as its field's type (``_sum``).
    """
    if not account_ids:
        return {}
    values = aggregation_parameters(as_of, params)
    predicate = ids_clause(account_ids, values)
    with server_cursor() as cursor:
        promises = _by_account(cursor, promise_sql(predicate), values)
        interactions = _by_account(cursor, interaction_sql(predicate), values)
    return {
        pk: Evidence(as_of=as_of, **promises.get(pk, {}), **interactions.get(pk, {}))
        for pk in account_ids
    }
