"""Trust health: the bulk recompute and one account's recompute, each next to its SQL floor.

``compute_trust --all --in-process`` runs as a child process (``harness.run_child``: wall
time, Python and Django start-up included, and its own peak RSS), with a fixed
``--as-of`` so that every run computes the same health. Each run starts from
the state the data set was found in, with every account's ``health_digest``
cleared, so that it reads, scores and writes a snapshot and the latest health
of every active account and raises the ``health_drop`` alerts of the accounts
entering ``at_risk`` (the nightly case: evidence fades, every digest changes).
Right after it, the same command runs again ("repeat"): the digests are
unchanged, so no snapshot is stored and only the latest health is rewritten.

The same recompute is then spread over real Celery workers (``celery -A relcrm
worker --concurrency=N`` in a child process, N = 1 then 2, on the broker of
``REDIS_URL``), timed from sending its chunk tasks to the run's finish as
recorded by the finishing task (``trust.services.spread_bulk_recompute``, then
``wait_for_bulk_recompute``), each run from the same cleared digests. One run
warms each worker's processes first, untimed. The figure over 2 worker
processes is the one held to the target: that is how the nightly recompute runs.

The floor is the aggregation ``trust.evidence`` builds, run for every account
at once (one GROUP BY statement over the promises and one over the
interactions, with the same decay expressions and parameters), every row
fetched, in this process (no start-up).

One account's recompute is ``trust.services.compute_account_health`` for the
account with 5,000 interactions, as the on-commit task calls it (``as_of``
now; its digest is cleared before each call, untimed, so that each call
stores a snapshot, as after a write that changes the health), next to the
same two statements for that one account; the two alternate.

Afterwards everything is put back: the snapshots and alerts the runs wrote are
deleted and every account's health columns restored as found.
"""

import os
import re
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from benchmarks.dataset import HEAVY_ACCOUNT_ID
from benchmarks.harness import INFO, Bench, Figure, below, run_child, time_runs, within_floor_ratio
from trust import evidence as evidence_sql
from trust import services
from trust.services import compute_account_health, params

PROJECT_DIR = Path(__file__).resolve().parents[2]
ONE_ACCOUNT_RUNS = 30
HEALTH_COLUMNS = (
    "health_score",
    "health_band",
    "health_confidence",
    "health_digest",
    "health_computed_at",
    "health_stale_at",
)
SNAPSHOTS = re.compile(r"(\d+) account\(s\): (\d+) new snapshot\(s\), (\d+) unchanged")


class SavedHealth:
    """The accounts' health columns as found, and the snapshot and alert ids before the runs."""

    def save(self) -> None:
        columns = ", ".join(HEALTH_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_trust_saved")
            cursor.execute(
                f"CREATE TEMPORARY TABLE bench_trust_saved AS SELECT id, {columns} "
                "FROM accounts_account"
            )
            cursor.execute("SELECT coalesce(max(id), 0) FROM trust_trustsnapshot")
            self.last_snapshot = cursor.fetchone()[0]
            cursor.execute("SELECT coalesce(max(id), 0) FROM promises_alert")
            self.last_alert = cursor.fetchone()[0]

    def restore(self, *, clear_digests: bool = False) -> None:
        """Back to the saved state (``clear_digests``: with no digest, so every account writes)."""
        assignments = ", ".join(
            f"{column} = ''"
            if clear_digests and column == "health_digest"
            else f"{column} = s.{column}"
            for column in HEALTH_COLUMNS
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM trust_trustsnapshot WHERE id > %s", [self.last_snapshot])
            cursor.execute(
                "DELETE FROM promises_alert WHERE id > %s AND kind = 'health_drop'",
                [self.last_alert],
            )
            cursor.execute(
                f"UPDATE accounts_account a SET {assignments} FROM bench_trust_saved s "
                "WHERE a.id = s.id"
            )
            cursor.execute("VACUUM accounts_account, trust_trustsnapshot, promises_alert")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_trust_saved")


# For the one pass over every account: 100,000 groups overflow the default 4 MB
# of hash memory and the aggregate spills to disk (12.9 s instead of 7.5 s).
ONE_PASS_SETTINGS = ("SET LOCAL work_mem = '64MB'",)


def _floor(ids_clause: str, values: dict, *, bulk: bool = False) -> int:
    """Run the two aggregate statements and fetch every row; the number of rows.

    ``bulk``: in one pass over every account, with the hash memory that needs,
    in a transaction for it.
    """
    rows = 0
    with transaction.atomic() if bulk else nullcontext(), connection.cursor() as cursor:
        for statement in ONE_PASS_SETTINGS if bulk else ():
            cursor.execute(statement)
        for sql in evidence_sql.aggregation_queries(ids_clause):
            cursor.execute(sql, values)
            rows += len(cursor.fetchall())
    return rows


def _compute_all(as_of: datetime, expect_snapshots: int | None) -> tuple[float, int, int]:
    """``compute_trust --all`` in a child process: seconds, peak RSS, snapshots stored."""
    child = run_child(
        [
            sys.executable,
            str(PROJECT_DIR / "manage.py"),
            "compute_trust",
            "--all",
            "--in-process",
            "--as-of",
            as_of.isoformat(),
        ]
    )
    found = SNAPSHOTS.search(child.output)
    if child.returncode != 0 or not found:
        raise RuntimeError(f"compute_trust --all failed ({child.returncode}):\n{child.output}")
    _, snapshots, _ = (int(group) for group in found.groups())
    if expect_snapshots is not None and snapshots != expect_snapshots:
        raise RuntimeError(
            f"compute_trust --all stored {snapshots} snapshots, "
            f"expected {expect_snapshots}:\n{child.output}"
        )
    return child.seconds, child.peak_rss_bytes, snapshots


WORKER_COUNTS = (1, 2)


def start_worker(concurrency: int, *, env: dict | None = None) -> subprocess.Popen:
    """``celery -A relcrm worker --concurrency=N`` on this database and broker, once it answers.

    ``env``: what to set in the worker's environment (the tests give it their database).
    """
    current_app.control.purge()  # messages of an earlier, interrupted run
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "relcrm",
            "worker",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=bench-trust-{os.getpid()}-{concurrency}@%h",
            "--loglevel=WARNING",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "RELCRM_RECOMPUTE_ON_WRITE": "0", **(env or {})},
    )
    deadline = time.monotonic() + 60
    while not services.workers_answer():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise RuntimeError(f"celery worker --concurrency={concurrency} did not answer")
    return child


def _spread(as_of: datetime, active: int) -> float:
    """The recompute of every account over the running workers: seconds from send to finish."""
    started = time.perf_counter()
    run = services.spread_bulk_recompute(as_of=as_of)
    result = services.wait_for_bulk_recompute(run, timeout=3600)
    seconds = time.perf_counter() - started
    if result is None or result.snapshots != active:
        raise RuntimeError(f"the spread recompute (run {run.pk}) wrote {result}, not {active}")
    return seconds


def _spread_runs(bench: Bench, saved: "SavedHealth", as_of: datetime, active: int) -> dict:
    """Seconds of each run of the spread recompute, by number of worker processes."""
    spread: dict[int, list[float]] = {}
    for concurrency in WORKER_COUNTS:
        bench.log(f"trust: the recompute over {concurrency} Celery worker process(es)")
        worker = start_worker(concurrency)
        try:
            saved.restore(clear_digests=True)
            _spread(as_of, active)  # warm every worker process up, untimed
            spread[concurrency] = []
            for _ in range(bench.runs):
                saved.restore(clear_digests=True)
                spread[concurrency].append(_spread(as_of, active))
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    return spread


def run(bench: Bench) -> list[Figure]:
    # A whole second, so that the child's --as-of parses to the very same moment.
    as_of = timezone.now().replace(microsecond=0)
    values = evidence_sql.aggregation_parameters(as_of, params())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_account WHERE archived_at IS NULL")
        active = cursor.fetchone()[0]
    # Every account's rows, as the recompute reads them (it skips the archived ones).
    all_rows = "TRUE"
    saved = SavedHealth()
    saved.save()
    try:
        bench.log(f"trust: compute_trust --all ({active:,} active accounts), {bench.runs} runs")
        _floor(all_rows, values, bulk=True)  # warm the caches outside the timing
        first, repeat, floor, memory, memory_repeat = [], [], [], [], []
        for _ in range(bench.runs):
            saved.restore(clear_digests=True)
            seconds, rss, _ = _compute_all(as_of, expect_snapshots=active)
            first.append(seconds)
            memory.append(rss / 2**20)
            seconds, rss, _ = _compute_all(as_of, expect_snapshots=0)
            repeat.append(seconds)
            memory_repeat.append(rss / 2**20)
            floor += time_runs(lambda: _floor(all_rows, values, bulk=True), runs=1, scale=1.0)
        spread = _spread_runs(bench, saved, as_of, active)

        bench.log(f"trust: one account's recompute, {ONE_ACCOUNT_RUNS} runs")
        one_values = evidence_sql.aggregation_parameters(timezone.now(), params())
        one = f"account_id IN ({int(HEAVY_ACCOUNT_ID)})"
        compute_account_health(HEAVY_ACCOUNT_ID)  # warm up
        _floor(one, one_values)
        single, single_floor = [], []
        for _ in range(ONE_ACCOUNT_RUNS):
            single += time_runs(
                lambda: compute_account_health(HEAVY_ACCOUNT_ID), runs=1, setup=_forget_digest
            )
            single_floor += time_runs(lambda: _floor(one, one_values), runs=1)
    finally:
        saved.restore()
        saved.drop()

    chunk = settings.RELCRM_TRUST_CHUNK_SIZE
    floor_note = "floor: the GROUP BY over promises and over interactions for every account"
    spread_figures = [
        Figure(
            name=f"bulk recompute over {n} Celery worker process(es)",
            unit="s",
            runs=spread[n],
            floor_runs=floor,
            target=within_floor_ratio(2) if n == max(WORKER_COUNTS) else INFO,
            note=(
                f"celery worker --concurrency={n}; from sending the {chunk}-account chunk tasks "
                "to the finishing task's mark, every account writing a snapshot"
            ),
        )
        for n in WORKER_COUNTS
    ]
    return [
        Figure(
            name="compute_trust --all --in-process",
            unit="s",
            runs=first,
            floor_runs=floor,
            target=INFO,
            note=(
                f"{active:,} accounts, every one writing a snapshot (digests cleared before each "
                f"run), a child process incl. start-up; chunks of {chunk}; {floor_note}"
            ),
        ),
        *spread_figures,
        Figure(
            name="compute_trust --all, repeat",
            unit="s",
            runs=repeat,
            floor_runs=floor,
            target=INFO,
            note="the same --as-of again: digests unchanged, no snapshot stored",
        ),
        Figure(
            name="one account's recompute (5,000 interactions)",
            unit="ms",
            runs=single,
            floor_runs=single_floor,
            target=below(10, "ms"),
            note=(
                f"compute_account_health({HEAVY_ACCOUNT_ID}), a snapshot stored each call "
                "(its digest cleared before, untimed); "
                f"median of {ONE_ACCOUNT_RUNS}; floor: the same two GROUP BY for that account"
            ),
        ),
        Figure(
            name="compute_trust --all, peak memory",
            unit="MiB",
            runs=memory,
            target=below(1024, "MiB"),
            note=f"peak RSS of the child; repeat runs: {max(memory_repeat):,.0f} MiB at most",
        ),
    ]


def _forget_digest() -> None:
    """Make the next recompute of the heavy account store its snapshot (as after a write)."""
    Account.objects.filter(pk=HEAVY_ACCOUNT_ID).update(health_digest="")
