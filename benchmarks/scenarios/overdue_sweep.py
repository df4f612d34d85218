"""The overdue sweep: nothing due, and 10,000 promises newly overdue, each next to SQL.

What is timed is ``promises.services.flag_overdue_promises`` as the job calls
it. Its floor is the same work in one set-based statement on the same rows:
claim, break, append the events, raise the alerts, mark the accounts stale.

The sweep is called with ``now`` = the earliest due time of the open promises
of the data set, so that the promises the data set leaves overdue on purpose
are not swept. For the 10,000, fresh open promises (with their ``created``
events) are inserted due before that moment, committed, swept, then deleted
with what the sweep wrote and the tables vacuumed: every run, of the service
and of the floor, starts from the same state and pays for real commits, which
a rolled-back transaction would hide.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from benchmarks.harness import Bench, Figure, below, time_runs

# The floors, shared with the self-contained sweep benchmark: the whole sweep as one
# set-based statement, and the empty question as one round trip.
from benchmarks.sweep import EMPTY_FLOOR, SET_BASED_SWEEP
from promises.services import flag_overdue_promises

NEWLY_OVERDUE = 10_000
EMPTY_RUNS = 50


def _sweep_moment() -> datetime:
    """Just before the earliest due time of any open promise: a sweep then finds nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(due_at) FROM promises_promise WHERE status = 'open'")
        earliest = cursor.fetchone()[0]
    return earliest or timezone.now()


class OverduePromises:
    """Inserts the promises that become overdue, and removes them and all the sweep wrote."""

    def __init__(self, now: datetime, count: int) -> None:
        self.now = now
        self.count = count
        self.ids: list[int] = []

    def insert(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH new AS (
                    INSERT INTO promises_promise (description, due_at, status, broken_disclosed,
                        renegotiated_count, repaired_at, created_at, updated_at, account_id,
                        owner_id)
                    SELECT 'Send the revised quote', due, 'open', false, 0, NULL,
                        due - interval '7 days', due - interval '7 days', a.id, a.owner_id
                    FROM (
                        SELECT a.id, a.owner_id,
                            %(now)s - interval '1 minute' - random() * interval '30 days' AS due
                        FROM accounts_account a
                        ORDER BY random() LIMIT %(count)s
                    ) a
                    RETURNING id, due_at, created_at, owner_id
                ), events AS (
                    INSERT INTO promises_promiseevent (promise_id, kind, at, note, new_due_at,
                        by_id)
                    SELECT id, 'created', created_at, '', due_at, owner_id FROM new
                )
                SELECT id FROM new
                """,
                {"now": self.now, "count": self.count},
            )
            self.ids = [row[0] for row in cursor.fetchall()]
        _vacuum("promises_promise")

    def remove(self) -> None:
        with connection.cursor() as cursor:
            for table, column in (
                ("promises_alert", "promise_id"),
                ("promises_promiseevent", "promise_id"),
                ("promises_promise", "id"),
            ):
                cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [self.ids])
        # The accounts too: the sweep marked them stale, and each run should find
        # their pages as the first one did.
        _vacuum("promises_promise", "promises_promiseevent", "promises_alert", "accounts_account")


def _vacuum(*tables: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(tables)}")


def _expect(broken: int, expected: int, what: str) -> None:
    if broken != expected:
        raise RuntimeError(f"{what} broke {broken} promises, expected {expected}")


def run(bench: Bench) -> list[Figure]:
    now = _sweep_moment()
    batch_size = settings.RELCRM_SWEEP_BATCH_SIZE

    def empty_sweep() -> None:
        _expect(flag_overdue_promises(now=now), 0, "the empty sweep")

    def empty_claim() -> None:
        with connection.cursor() as cursor:
            cursor.execute(EMPTY_FLOOR, [now])
            _expect(len(cursor.fetchall()), 0, "the empty question")

    bench.log("sweep: nothing due")
    empty_sweep()  # connect and warm the caches outside the timing
    empty, empty_floor = [], []
    for _ in range(EMPTY_RUNS):  # alternating, as below
        empty += time_runs(empty_sweep, runs=1)
        empty_floor += time_runs(empty_claim, runs=1)

    overdue = OverduePromises(now - timedelta(seconds=1), NEWLY_OVERDUE)

    def orm_sweep() -> None:
        _expect(flag_overdue_promises(now=now), NEWLY_OVERDUE, "flag_overdue_promises")

    def sql_sweep() -> None:
        with connection.cursor() as cursor:
            cursor.execute(SET_BASED_SWEEP, {"now": now})
            _expect(cursor.fetchone()[0], NEWLY_OVERDUE, "the set-based sweep")

    bench.log(f"sweep: {NEWLY_OVERDUE:,} newly overdue, {bench.runs} runs each")
    sweep_runs, floor_runs = [], []
    # Alternate the two so that a burst of load on the machine hits both alike.
    for _ in range(bench.runs):
        sweep_runs += time_runs(
            orm_sweep, runs=1, setup=overdue.insert, teardown=overdue.remove, scale=1.0
        )
        floor_runs += time_runs(
            sql_sweep, runs=1, setup=overdue.insert, teardown=overdue.remove, scale=1.0
        )
    return [
        Figure(
            name="sweep, nothing due",
            unit="ms",
            runs=empty,
            floor_runs=empty_floor,
            target=below(2, "ms"),
            note=f"median of {EMPTY_RUNS} calls; floor: one SELECT through the partial index",
        ),
        Figure(
            name=f"sweep, {NEWLY_OVERDUE:,} newly overdue",
            unit="s",
            runs=sweep_runs,
            floor_runs=floor_runs,
            target=below(1, "s"),
            note=(
                f"batches of {batch_size}; events and alerts included; "
                "floor: one set-based SQL statement"
            ),
        ),
    ]
