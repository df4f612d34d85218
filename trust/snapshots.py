"""Storing computed health: a chunk's row locks, its snapshots (COPY) and each account's latest.

Everything one chunk of the recompute writes, in the transaction the caller
opens (``trust.services``): lock the accounts, store a snapshot for each one
whose health changed, and write every account's latest health back onto it.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii

from django.db import connection

from accounts.models import Account
from trust.evidence import ids_clause, server_cursor
from trust.model import COMPONENTS, Health
from trust.models import TrustSnapshot

ACCOUNT_TABLE = Account._meta.db_table
SEPS = (",", ":")


def digest(health: Health) -> str:
    """A fingerprint of everything a snapshot shows, to skip storing an unchanged one."""
    payload = json.dumps(health.to_dict(), sort_keys=True, separators=SEPS)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# A snapshot's two JSON documents as ``json.dumps(..., sort_keys=True,
# separators=SEPS)`` writes them, filled in directly: every number of a Health
# that ``score`` built is a float, which JSON spells as ``repr`` does. Encoding
# them with ``json.dumps(health.to_dict())`` instead took 0.32 s rather than
# 0.17 s over 9,771 accounts, 10% of their in-process recompute (1.5 s).
_SORTED_COMPONENTS = sorted(COMPONENTS)
_COMPONENTS_JSON = (
    "{"
    + ",".join(f'"{c}":{{"points":%r,"value":%r,"weight":%r}}' for c in _SORTED_COMPONENTS)
    + "}"
)
_FACT_JSON = '{"effect":%r,"text":%s}'
_SHOWN_JSON = '{"band":%s,"components":%s,"confidence":%r,"explanation":%s,"score":%r}'


@dataclass
class SnapshotRow:
    """One account's computed health, as a chunk writes it."""

    account_id: int
    health: Health
    old_band: str
    seen_stale: datetime | None
    # The two JSON documents of the snapshot, encoded once, and the digest of
    # everything it shows (``digest``'s payload, assembled from them).
    components_json: str = field(init=False)
    explanation_json: str = field(init=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        health = self.health
        shown: list[float] = []
        for name in _SORTED_COMPONENTS:
            component = health.components[name]
            shown += (component.points, component.value, component.weight)
        self.components_json = _COMPONENTS_JSON % tuple(shown)
        facts = (
            _FACT_JSON % (fact.effect, encode_basestring_ascii(fact.text))
            for fact in health.explanation
        )
        self.explanation_json = "[" + ",".join(facts) + "]"
        payload = _SHOWN_JSON % (
            encode_basestring_ascii(health.band),
            self.components_json,
            health.confidence,
            self.explanation_json,
            health.score,
        )
        self.digest = hashlib.sha256(payload.encode()).hexdigest()[:32]


def stale_marks(account_ids: list[int]) -> dict[int, datetime]:
    """The accounts' stale marks that are set, by id.

    A chunk's ids are dense: one stretch of the primary key (``ids_clause``)
    rather than a probe per id. The accounts in it but not asked for are dropped.
    """
    values: dict = {}
    predicate = ids_clause(account_ids, values, column="id")
    asked = set(account_ids)
    with server_cursor() as cursor:
        cursor.execute(
            f"SELECT id, health_stale_at FROM {ACCOUNT_TABLE}"
            f" WHERE {predicate} AND health_stale_at IS NOT NULL",
            values,
        )
        return {pk: stale for pk, stale in cursor.fetchall() if pk in asked}


def lock(account_ids: list[int], *, durable: bool) -> dict[int, tuple[str, str]]:
    """Lock the accounts in id order; each one's band and the digest of its latest snapshot.

    In id order, as the overdue sweep locks them, so that the two cannot
    deadlock. Unless ``durable``, the transaction's commit does not wait for
    its WAL.
    """
    with server_cursor() as cursor:
        # What this transaction writes is derived from rows already committed:
        # if a crash lost it, the accounts would show the health they showed
        # before and keep their stale marks, and the next recompute would
        # write it again. So the commit need not wait for its WAL to be flushed
        # (a snapshot lost that way is a point of history not written again).
        if not durable:
            cursor.execute("SET LOCAL synchronous_commit = off")
        values: dict = {}
        # The chunk's stretch of the primary key (see stale_marks); the accounts
        # in it but not asked for (archived ones) are locked too, and left alone.
        predicate = ids_clause(account_ids, values, column="id")
        cursor.execute(
            f"SELECT id, health_band, health_digest FROM {ACCOUNT_TABLE}"
            f" WHERE {predicate} ORDER BY id FOR UPDATE",
            values,
        )
        return {pk: (band, old_digest) for pk, band, old_digest in cursor}


def make_durable() -> None:
    """Make this transaction's commit wait for its WAL after all (it raised an alert)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = on")


SNAPSHOT_COLUMNS = (
    "account_id",
    "computed_at",
    "as_of",
    "score",
    "band",
    "confidence",
    "components",
    "explanation",
)


def insert_snapshots(rows: list[SnapshotRow], *, as_of: datetime, computed_at: datetime) -> None:
    """Store a snapshot of each row, by COPY.

    COPY streams the rows in one round trip, the JSON written once per row;
    the ORM's INSERTs quote every value in Python (Django's psycopg cursor
    binds on the client) and cost more than the scoring.
    """
    if not rows:
        return
    copy_sql = f"COPY {TrustSnapshot._meta.db_table} ({', '.join(SNAPSHOT_COLUMNS)}) FROM STDIN"
    with server_cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            health = row.health
            copy.write_row(
                (
                    row.account_id,
                    computed_at,
                    as_of,
                    health.score,
                    health.band,
                    health.confidence,
                    row.components_json,
                    row.explanation_json,
                )
            )


def _array_literal(values) -> str:
    """A PostgreSQL array literal of numbers, words without spaces or quotes, or ISO times.

    psycopg adapts a list one element at a time in Python: binding the six
    columns below as lists took 0.22 s rather than 0.13 s over 9,771 accounts,
    6% of their in-process recompute (1.5 s).
    """
    return "{" + ",".join(map(str, values)) + "}"


def write_latest(rows: list[SnapshotRow], computed_at: datetime) -> None:
    """Denormalise each account's latest health onto it and clear the stale marks seen.

    One set-based statement; a mark is cleared only if it still holds the value
    seen before the evidence was read, so a write that landed since keeps its
    account stale.
    """
    if not rows:
        return
    ids = [row.account_id for row in rows]
    with server_cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {ACCOUNT_TABLE} AS a
            SET health_score = v.score, health_band = v.band,
                health_confidence = v.confidence, health_digest = v.digest,
                health_computed_at = %s,
                health_stale_at = CASE WHEN a.health_stale_at = v.seen_stale
                                       THEN NULL ELSE a.health_stale_at END
            FROM unnest(%s::bigint[], %s::float8[], %s::text[], %s::float8[], %s::text[],
                        %s::timestamptz[])
                AS v(id, score, band, confidence, digest, seen_stale)
            WHERE a.id = v.id AND a.id BETWEEN %s AND %s
            """,
            [
                computed_at,
                _array_literal(ids),
                _array_literal(row.health.score for row in rows),
                _array_literal(row.health.band for row in rows),
                _array_literal(row.health.confidence for row in rows),
                _array_literal(row.digest for row in rows),
                _array_literal(
                    "NULL" if row.seen_stale is None else row.seen_stale.isoformat() for row in rows
                ),
                # The range lets the join read the chunk's stretch of the
                # primary key rather than every account.
                min(ids),
                max(ids),
            ],
        )
