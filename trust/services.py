"""Computing and storing trust health: snapshots, the account's latest health, alerts.

One code path serves every caller: the one-account recompute after a write, the
periodic recompute of stale accounts, and ``--all`` (evidence fades with time
even when nothing happens). Accounts are taken in chunks; each chunk costs two
aggregate queries, one scoring pass in Python and a set-based write. For every
account, the next chunk's queries run on a second connection while this one
scores and writes, so the database and Python work at the same time; and on
PostgreSQL the chunks are shared among one forked process per CPU, since
scoring is Python.
"""

import contextlib
import gc
import hashlib
import json
import logging
import os
import pickle
import queue
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from promises.services import raise_health_drop_alert
from trust import evidence as evidence_sql
from trust.model import COMPONENTS, Evidence, Health, Params, score
from trust.models import TrustSnapshot

logger = logging.getLogger(__name__)

AT_RISK = TrustSnapshot.Band.AT_RISK


def params() -> Params:
    """The model's parameters: the documented defaults, overridden by settings."""
    return Params(**getattr(settings, "RELCRM_TRUST_PARAMS", {}))


@dataclass
class ComputeResult:
    """What a recompute did, for the command's output and the task's log line."""

    accounts: int = 0
    snapshots: int = 0
    alerts: int = 0
    unchanged: int = 0
    account_ids_alerted: list[int] = field(default_factory=list)

    def add(self, other: "ComputeResult") -> None:
        self.accounts += other.accounts
        self.snapshots += other.snapshots
        self.alerts += other.alerts
        self.unchanged += other.unchanged
        self.account_ids_alerted += other.account_ids_alerted

    def __str__(self) -> str:
        return (
            f"Computed the trust health of {self.accounts} account(s): "
            f"{self.snapshots} new snapshot(s), {self.unchanged} unchanged, "
            f"{self.alerts} health_drop alert(s)."
        )


def digest(health: Health) -> str:
    """A fingerprint of everything a snapshot shows, to skip storing an unchanged one."""
    return _digest(health.to_dict())


SEPS = (",", ":")


def _digest(shown: dict) -> str:
    payload = json.dumps(shown, sort_keys=True, separators=SEPS)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def health_for(account_ids: Sequence[int], *, as_of: datetime) -> dict[int, Health]:
    """Score the given accounts as of ``as_of`` without writing anything."""
    model_params = params()
    evidence = evidence_sql.evidence_for(account_ids, as_of=as_of, params=model_params)
    return {pk: score(ev, params=model_params) for pk, ev in evidence.items()}


def compute_account_health(account_id: int, *, as_of: datetime | None = None) -> ComputeResult:
    """Recompute one account right after a write to it (the on-commit task)."""
    as_of = as_of or timezone.now()
    model_params = params()
    seen_stale, evidence = _read([account_id], as_of=as_of, model_params=model_params)
    return _compute_chunk(evidence, seen_stale, as_of=as_of, model_params=model_params)


def compute_trust_health(
    *,
    all_accounts: bool = False,
    account_ids: Iterable[int] | None = None,
    as_of: datetime | None = None,
    chunk_size: int | None = None,
    processes: int | None = None,
) -> ComputeResult:
    """Recompute the accounts whose data changed since their last health (or all of them).

    Safe to run twice or concurrently: each chunk locks its accounts while it
    writes, a stale mark is cleared only if no write came after this run began,
    and an account entering ``at_risk`` raises one alert however many runs see it.

    Every account (``all_accounts``) on PostgreSQL: the chunks are shared among
    ``processes`` (default ``RELCRM_TRUST_PROCESSES``) forked processes, each
    with its own connection, since scoring is Python and one process would
    use one CPU.
    """
    as_of = as_of or timezone.now()
    chunk_size = chunk_size or settings.RELCRM_TRUST_CHUNK_SIZE
    processes = processes or settings.RELCRM_TRUST_PROCESSES
    model_params = params()
    chunks = _chunks(_candidates(all_accounts, account_ids), chunk_size)

    def compute(chunks: Iterable[list[int]]) -> ComputeResult:
        return _compute_chunks(
            chunks, as_of=as_of, model_params=model_params, read_ahead=all_accounts
        )

    if (
        all_accounts
        and processes > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and hasattr(os, "fork")
    ):
        chunk_list = list(chunks)
        # Interleaved: each process's chunks are spread over the id range.
        shares = [chunk_list[i::processes] for i in range(processes)]
        return _forked([share for share in shares if share], compute)
    return compute(chunks)


def _compute_chunks(
    chunks: Iterable[list[int]], *, as_of: datetime, model_params: Params, read_ahead: bool
) -> ComputeResult:
    def read(chunk: list[int]) -> tuple[dict[int, datetime], dict[int, Evidence]]:
        return _read(chunk, as_of=as_of, model_params=model_params)

    total = ComputeResult()
    # Every account: read each chunk ahead (its accounts' rows are one stretch
    # of the covering indexes, so a chunk costs its share of one pass).
    chunks = iter(chunks)
    reads = _read_ahead(chunks, read) if read_ahead else ((c, read(c)) for c in chunks)
    # Closed on the way out, even by an error: the reader thread and its
    # connection stop now, not when the traceback is let go.
    with contextlib.closing(reads), _no_cycle_collection():
        for _, (seen_stale, evidence) in reads:
            total.add(_compute_chunk(evidence, seen_stale, as_of=as_of, model_params=model_params))
    return total


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while chunks are scored (restored after).

    Scoring a chunk allocates thousands of small objects that live until the
    chunk is written; each collection walks all of them again, which cost a
    third of the scoring time. They hold no reference cycles: reference
    counting frees every one of them as soon as its chunk is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _forked(
    shares: list[list[list[int]]], compute: Callable[[list[list[int]]], ComputeResult]
) -> ComputeResult:
    """``compute(share)`` for each share, the first here and each other in a forked child.

    Every connection is closed before forking, so that each process opens its
    own. A child hands back its result (or the traceback of its error) through
    a pipe; an error in any process is raised here once all of them are done.
    """
    connections.close_all()
    children: list[tuple[int, int]] = []
    for share in shares[1:]:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, report, and leave without running the parent's exit
            os.close(read_fd)
            status = 0
            try:
                report = pickle.dumps(compute(share))
            except BaseException:
                status = 1
                report = pickle.dumps(traceback.format_exc())
            finally:
                with contextlib.suppress(BaseException):
                    connections.close_all()
                    with os.fdopen(write_fd, "wb") as pipe:
                        pipe.write(report)
                os._exit(status)
        os.close(write_fd)
        children.append((pid, read_fd))
    total = ComputeResult()
    errors: list[str] = []
    try:
        total.add(compute(shares[0]))
    finally:
        for pid, read_fd in children:
            with os.fdopen(read_fd, "rb") as pipe:
                report = pipe.read()
            _, status = os.waitpid(pid, 0)
            outcome = pickle.loads(report) if report else None
            if isinstance(outcome, ComputeResult) and os.waitstatus_to_exitcode(status) == 0:
                total.add(outcome)
            else:
                errors.append(outcome or f"exit status {os.waitstatus_to_exitcode(status)}")
    if errors:
        raise RuntimeError("A trust recompute process failed:\n" + "\n".join(errors))
    return total


def _read(
    account_ids: list[int], *, as_of: datetime, model_params: Params
) -> tuple[dict[int, datetime], dict[int, Evidence]]:
    """What a chunk's recompute reads before it writes: the stale marks, then the evidence.

    The marks are read first: a mark is cleared only if it still holds the
    value seen here, so a write that commits while we compute (and whose rows
    the evidence may therefore miss) keeps its account stale.
    """
    seen_stale = _stale_marks(account_ids)
    evidence = evidence_sql.evidence_for(account_ids, as_of=as_of, params=model_params)
    return seen_stale, evidence


def _stale_marks(account_ids: list[int]) -> dict[int, datetime]:
    """The accounts' stale marks that are set, by id."""
    if connection.vendor != "postgresql":
        return dict(
            Account.objects.filter(pk__in=account_ids, health_stale_at__isnull=False).values_list(
                "pk", "health_stale_at"
            )
        )
    from psycopg.types.datetime import TimestamptzLoader

    values: dict = {}
    # A chunk's ids are dense: one stretch of the primary key (ids_clause) rather
    # than a probe per id. The accounts in it but not asked for are dropped.
    predicate = evidence_sql.ids_clause(account_ids, values, column="id")
    asked = set(account_ids)
    with evidence_sql.server_cursor() as cursor:
        # psycopg's own (compiled) loader: Django's is pure Python, and the
        # session's time zone is already Django's.
        cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(
            f"SELECT id, health_stale_at FROM {Account._meta.db_table}"
            f" WHERE {predicate} AND health_stale_at IS NOT NULL",
            values,
        )
        return {pk: stale for pk, stale in cursor.fetchall() if pk in asked}


_DONE = object()


def _read_ahead(
    chunks: Iterator[list[int]], read: Callable[[list[int]], Any]
) -> Iterator[tuple[list[int], Any]]:
    """``(chunk, read(chunk))`` for each chunk, the next read already under way.

    A second thread reads on a connection of its own (Django's are per thread)
    while the caller works on the chunk it was handed; it is at most two
    chunks ahead. Inside a transaction (or off PostgreSQL) the reads stay on
    the caller's connection, in turn: they must see what it has written.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from ((chunk, read(chunk)) for chunk in chunks)
        return
    handed: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            with connection.cursor() as cursor:
                # This connection is the thread's own. The CPUs are already busy
                # scoring and writing (in every process): the workers of a
                # parallel plan would only add their start-up, for each chunk.
                cursor.execute("SET max_parallel_workers_per_gather = 0")
            for chunk in chunks:
                if not hand((chunk, read(chunk))):
                    return
            hand(_DONE)
        except BaseException as exc:  # handed over, raised in the caller's thread
            hand(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=reader, name="trust-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := handed.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _candidates(all_accounts: bool, account_ids: Iterable[int] | None) -> Iterator[int]:
    accounts = Account.objects.active().order_by("pk")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    elif not all_accounts:
        accounts = accounts.filter(
            Q(health_stale_at__isnull=False) | Q(health_computed_at__isnull=True)
        )
    # Ids only, fetched in pages by key: memory stays flat at any table size.
    last = 0
    while True:
        page = list(accounts.filter(pk__gt=last).values_list("pk", flat=True)[:10_000])
        if not page:
            return
        yield from page
        last = page[-1]


def _chunks(ids: Iterator[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# A snapshot's two JSON documents as ``json.dumps(..., sort_keys=True,
# separators=SEPS)`` writes them, filled in directly: every number of a Health
# that ``score`` built is a float, which JSON spells as ``repr`` does.
_SORTED_COMPONENTS = sorted(COMPONENTS)
_COMPONENTS_JSON = (
    "{"
    + ",".join(f'"{c}":{{"points":%r,"value":%r,"weight":%r}}' for c in _SORTED_COMPONENTS)
    + "}"
)
_FACT_JSON = '{"effect":%r,"text":%s}'
_SHOWN_JSON = '{"band":%s,"components":%s,"confidence":%r,"explanation":%s,"score":%r}'


@dataclass
class _Row:
    account_id: int
    health: Health
    old_band: str
    seen_stale: datetime | None
    # The two JSON documents of the snapshot, encoded once, and the digest of
    # everything it shows (``digest``: its payload is assembled from them).
    components_json: str = field(init=False)
    explanation_json: str = field(init=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        health = self.health
        components = health.components
        shown: list[float] = []
        for name in _SORTED_COMPONENTS:
            component = components[name]
            shown += (component.points, component.value, component.weight)
        self.components_json = _COMPONENTS_JSON % tuple(shown)
        self.explanation_json = (
            "["
            + ",".join(
                _FACT_JSON % (fact.effect, encode_basestring_ascii(fact.text))
                for fact in health.explanation
            )
            + "]"
        )
        payload = _SHOWN_JSON % (
            encode_basestring_ascii(health.band),
            self.components_json,
            health.confidence,
            self.explanation_json,
            health.score,
        )
        self.digest = hashlib.sha256(payload.encode()).hexdigest()[:32]


def _compute_chunk(
    evidence: dict[int, Evidence],
    seen_stale: dict[int, datetime],
    *,
    as_of: datetime,
    model_params: Params,
) -> ComputeResult:
    """Score, store and alert for a chunk of accounts, given what ``_read`` read for it."""
    healths = {pk: score(ev, params=model_params) for pk, ev in evidence.items()}
    result = ComputeResult(accounts=len(healths))
    # Only a transaction of our own may skip waiting for its WAL (see _lock): a
    # caller's transaction holds writes that are not derived.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        # Lock the chunk's accounts in id order (as the overdue sweep does, so the
        # two cannot deadlock) and read what they show now: the band we compare
        # against for the alert and the digest of the latest snapshot.
        current = _lock(list(healths), durable=not own_transaction)
        rows = [
            _Row(pk, health, current[pk][0], seen_stale.get(pk))
            for pk, health in healths.items()
            if pk in current
        ]
        changed = [row for row in rows if row.digest != current[row.account_id][1]]
        result.unchanged = len(rows) - len(changed)
        computed_at = timezone.now()
        _insert_snapshots(changed, as_of=as_of, computed_at=computed_at)
        result.snapshots = len(changed)
        _write_latest(rows, computed_at)
        for row in rows:
            if row.health.band == AT_RISK and row.old_band != AT_RISK:
                raise_health_drop_alert(
                    Account(pk=row.account_id),
                    detail=_drop_detail(row.health),
                    at=computed_at,
                )
                result.alerts += 1
                result.account_ids_alerted.append(row.account_id)
        if result.alerts and own_transaction and connection.vendor == "postgresql":
            # An alert is not derived data a later run writes again (a lead may
            # already have seen it): this commit waits for its WAL after all.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = on")
    return result


def _lock(account_ids: list[int], *, durable: bool) -> dict[int, tuple[str, str]]:
    """Lock the accounts in id order; each one's band and the digest of its latest snapshot.

    Unless ``durable``, the transaction's commit does not wait for its WAL.
    """
    if connection.vendor != "postgresql":
        return {
            pk: (band, old_digest)
            for pk, band, old_digest in Account.objects.select_for_update()
            .filter(pk__in=account_ids)
            .order_by("pk")
            .values_list("pk", "health_band", "health_digest")
        }
    with evidence_sql.server_cursor() as cursor:
        # What this transaction writes is derived from rows already committed:
        # if a crash lost it, the accounts would show the health they showed
        # before and keep their stale marks, and the next recompute would
        # write it again. So the commit need not wait for its WAL to be flushed
        # (a snapshot lost that way is a point of history not written again).
        if not durable:
            cursor.execute("SET LOCAL synchronous_commit = off")
        values: dict = {}
        # A chunk's stretch of the primary key (see _stale_marks); the accounts
        # in it but not asked for (archived ones) are locked too, and left alone.
        predicate = evidence_sql.ids_clause(account_ids, values, column="id")
        cursor.execute(
            f"SELECT id, health_band, health_digest FROM {Account._meta.db_table}"
            f" WHERE {predicate} ORDER BY id FOR UPDATE",
            values,
        )
        return {pk: (band, old_digest) for pk, band, old_digest in cursor}


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


def _insert_snapshots(rows: list[_Row], *, as_of: datetime, computed_at: datetime) -> None:
    """Store a snapshot of each row: COPY on PostgreSQL, ``bulk_create`` elsewhere.

    COPY streams the rows in one round trip, the JSON written once per row as
    text; the ORM's INSERTs quote every value in Python (Django's psycopg
    cursor binds on the client) and cost more than the scoring.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        TrustSnapshot.objects.bulk_create(
            (
                TrustSnapshot(
                    account_id=row.account_id,
                    computed_at=computed_at,
                    as_of=as_of,
                    score=row.health.score,
                    band=row.health.band,
                    confidence=row.health.confidence,
                    components=json.loads(row.components_json),
                    explanation=json.loads(row.explanation_json),
                )
                for row in rows
            ),
            batch_size=1000,
        )
        return
    table = TrustSnapshot._meta.db_table
    copy_sql = f"COPY {table} ({', '.join(SNAPSHOT_COLUMNS)}) FROM STDIN"
    # COPY's text format, written here in one piece: psycopg's write_row adapts
    # every value of every row in turn. Each value is a number, a band, a time
    # in ISO 8601 or ASCII JSON, in which only a backslash needs escaping.
    times = f"{computed_at.isoformat()}\t{as_of.isoformat()}"
    text = "".join(
        [
            f"{row.account_id}\t{times}\t{row.health.score!r}\t{row.health.band}"
            f"\t{row.health.confidence!r}\t{row.components_json.replace(BACKSLASH, ESCAPED)}"
            f"\t{row.explanation_json.replace(BACKSLASH, ESCAPED)}\n"
            for row in rows
        ]
    )
    with evidence_sql.server_cursor() as cursor, cursor.copy(copy_sql) as copy:
        copy.write(text)


BACKSLASH, ESCAPED = "\\", "\\\\"


def _array_literal(values: Iterable) -> str:
    """A PostgreSQL array literal of numbers, words without spaces or quotes, or ISO times.

    psycopg adapts a list one element at a time in Python; for the thousands of
    values of a chunk, joining their text is many times faster.
    """
    return "{" + ",".join(map(str, values)) + "}"


def _drop_detail(health: Health) -> str:
    reasons = "; ".join(fact.text for fact in health.explanation[:3])
    detail = f"Trust health fell to {health.score:.0f} (at risk)."
    return f"{detail} {reasons}." if reasons else detail


def _write_latest(rows: list[_Row], computed_at: datetime) -> None:
    """Denormalise each account's latest health onto it and clear the stale marks seen.

    One set-based statement on PostgreSQL; on SQLite (small data) one per row.
    """
    if not rows:
        return
    table = Account._meta.db_table
    if connection.vendor == "postgresql":
        ids = [row.account_id for row in rows]
        with evidence_sql.server_cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS a
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
                        "NULL" if row.seen_stale is None else row.seen_stale.isoformat()
                        for row in rows
                    ),
                    # The range lets the join read the chunk's stretch of the
                    # primary key rather than every account.
                    min(ids),
                    max(ids),
                ],
            )
        return
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"""
            UPDATE {table}
            SET health_score = %s, health_band = %s, health_confidence = %s,
                health_digest = %s, health_computed_at = %s,
                health_stale_at = CASE WHEN health_stale_at = %s
                                       THEN NULL ELSE health_stale_at END
            WHERE id = %s
            """,
            [
                (
                    row.health.score,
                    row.health.band,
                    row.health.confidence,
                    row.digest,
                    adapt(computed_at),
                    adapt(row.seen_stale),
                    row.account_id,
                )
                for row in rows
            ],
        )
