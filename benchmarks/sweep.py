"""Time the overdue sweep on PostgreSQL: an empty sweep on a big table, and 10,000 newly overdue.

Self-contained: it creates a scratch database next to the one in DATABASE_URL
(``<name>_sweepbench``), migrates it, fills it with plain SQL, times
``promises.services.flag_overdue_promises`` exactly as the job calls it, and
drops the database (``--keep`` keeps it). Each figure is printed next to its
floor, measured in the same run:

- empty sweep: the floor is one round trip of the same question in SQL
  (``SELECT 1 ... LIMIT 1`` through the partial index of open promises);
- 10,000 newly overdue: the floor is the whole sweep as one set-based
  statement (claim, break, events, alerts, stale accounts), no ORM.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relcrm_jobs \\
        .venv/bin/python benchmarks/sweep.py [--promises 500000] [--overdue 10000] [--runs 5]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent

# Promises by number n: most are history (kept, broken, released), 4 % are open and
# due in the coming two months, as in a live CRM. None is overdue: the sweep finds nothing.
PROMISE_COLUMNS = {
    "account_id": "(SELECT min(id) FROM accounts_account) + n %% %(accounts)s",
    "owner_id": "(SELECT min(id) FROM accounts_user) + n %% 100",
    "due_at": "now() + CASE WHEN n %% 100 < 4 THEN 1 ELSE -1 END"
    " * (n %% 1800 + 1) * interval '1 hour'",
    "status": "CASE WHEN n %% 100 < 4 THEN 'open' WHEN n %% 100 < 80 THEN 'kept'"
    " WHEN n %% 100 < 95 THEN 'broken' ELSE 'released' END",
    "kept_at": "CASE WHEN n %% 100 BETWEEN 4 AND 79 THEN now() - interval '1 hour' END",
    "broken_at": "CASE WHEN n %% 100 BETWEEN 80 AND 94 THEN now() - interval '1 hour' END",
    "released_at": "CASE WHEN n %% 100 >= 95 THEN now() - interval '1 hour' END",
}

# The whole sweep as one statement: the floor of what the ORM version costs. ARRAY()
# claims the rows through the partial index, then reaches each by primary key; with
# IN (...) the planner scanned the whole promise table to join them.
SET_BASED_SWEEP = """
WITH claimed AS (
    UPDATE promises_promise SET status = 'broken', broken_at = %(now)s,
        broken_disclosed = false, updated_at = %(now)s
    WHERE id = ANY(ARRAY(SELECT id FROM promises_promise
                         WHERE status = 'open' AND due_at < %(now)s FOR UPDATE SKIP LOCKED))
    RETURNING id, account_id
), events AS (
    INSERT INTO promises_promiseevent (promise_id, kind, at, note)
    SELECT id, 'broken', %(now)s, 'Overdue' FROM claimed
), alerts AS (
    INSERT INTO promises_alert (kind, status, detail, created_at, note, account_id, promise_id)
    SELECT 'promise_broken', 'open', '', %(now)s, '', account_id, id FROM claimed
    ON CONFLICT DO NOTHING
), stale AS (
    UPDATE accounts_account SET health_stale_at = %(now)s
    WHERE id IN (SELECT account_id FROM claimed)
)
SELECT count(*) FROM claimed
"""

EMPTY_FLOOR = "SELECT 1 FROM promises_promise WHERE status = 'open' AND due_at < %s LIMIT 1"


def scratch_url(url: str) -> tuple[str, str]:
    """The scratch database's URL and name, next to the database in ``url``."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_sweepbench"
    return urlunsplit(parts._replace(path="/" + name)), name


def clone(template, count: int, columns: dict[str, str], params: dict) -> None:
    """Insert ``count`` copies of the row ``template``, numbered n = 1..count, in one statement.

    ``columns`` gives SQL (over ``n``) for the columns that vary; every other
    column is copied from the template, which the ORM created with the model's
    defaults, so the rows stay valid whatever columns the model grows.
    """
    from django.db import connection

    model = type(template)
    names = [field.column for field in model._meta.concrete_fields if not field.primary_key]
    values = [columns.get(name, f"t.{connection.ops.quote_name(name)}") for name in names]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(connection.ops.quote_name, names))}) "
            f"SELECT {', '.join(values)} FROM {table} t, generate_series(1, %(count)s) n "
            f"WHERE t.id = %(template)s",
            {**params, "count": count, "template": template.pk},
        )


def fill(accounts: int, promises: int) -> None:
    """One team of 100 reps, ``accounts`` accounts and ``promises`` promises, mostly history."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account, Team, User
    from promises.models import Promise

    team = Team.objects.create(name="Bench")
    rep = User.objects.create(username="rep0", team=team)
    clone(rep, 99, {"username": "'rep' || n"}, {})
    account = Account.objects.create(name="Account 0", owner=rep, team=team)
    clone(
        account,
        accounts - 1,
        {"name": "'Account ' || n", "owner_id": "(SELECT min(id) FROM accounts_user) + n %% 100"},
        {},
    )
    first = Promise.objects.create(
        account=account,
        owner=rep,
        description="Send the revised quote",
        due_at=timezone.now() - timedelta(days=400),
        status=Promise.Status.KEPT,
        kept_at=timezone.now() - timedelta(days=401),
        created_at=timezone.now() - timedelta(days=402),
    )
    clone(first, promises - 1, PROMISE_COLUMNS, {"accounts": accounts})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def admin_execute(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--promises", type=int, default=500_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="runs of the 10,000 (median shown)")
    parser.add_argument("--empty-runs", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the figures are PostgreSQL's.")
    bench_url, bench_name = scratch_url(url)
    admin_execute(url, f'DROP DATABASE IF EXISTS "{bench_name}"')
    admin_execute(url, f'CREATE DATABASE "{bench_name}"')
    try:
        run(bench_url, args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_execute(url, f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')


def run(bench_url: str, args) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["RELCRM_RECOMPUTE_ON_WRITE"] = "0"  # time the sweep, not the broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relcrm.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from promises import tasks
    from promises.models import Alert, Promise, PromiseEvent
    from promises.services import flag_overdue_promises

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    fill(args.accounts, args.promises)
    print(
        f"data: {args.promises:,} promises ({Promise.objects.filter(status='open').count():,} "
        f"open, none due) on {args.accounts:,} accounts, "
        f"built in {time.perf_counter() - started:.1f} s; "
        f"batch size {settings.RELCRM_SWEEP_BATCH_SIZE}"
    )

    # --- empty sweep -------------------------------------------------------------------
    with CaptureQueriesContext(connection) as queries:
        assert flag_overdue_promises() == 0
    empty, as_task, floor = [], [], []
    for _ in range(args.empty_runs):
        started = time.perf_counter()
        flag_overdue_promises()
        empty.append(time.perf_counter() - started)
        started = time.perf_counter()
        tasks.flag_overdue_promises()
        as_task.append(time.perf_counter() - started)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(EMPTY_FLOOR, [timezone.now()])
            cursor.fetchall()
        floor.append(time.perf_counter() - started)
    print(
        f"empty sweep      median {ms(statistics.median(empty))}  "
        f"p95 {ms(statistics.quantiles(empty, n=20)[-1])}  "
        f"({len(queries)} query)   floor: one round trip {ms(statistics.median(floor))}"
    )
    print(
        f"  as the task    median {ms(statistics.median(as_task))}  "
        f"p95 {ms(statistics.quantiles(as_task, n=20)[-1])}  (with its advisory lock: 3 queries)"
    )

    # --- 10,000 newly overdue ----------------------------------------------------------
    def make_overdue() -> list[int]:
        """Move ``--overdue`` open promises' due time into the past; committed."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE promises_promise SET due_at = now() - interval '1 minute' * (id %% 600 + 1)
                WHERE id IN (SELECT id FROM promises_promise WHERE status = 'open'
                             ORDER BY random() LIMIT %s)
                RETURNING id
                """,
                [args.overdue],
            )
            return [row[0] for row in cursor.fetchall()]

    def restore(ids: list[int]) -> None:
        """Undo what a sweep wrote, so that every run starts from the same state."""
        Alert.objects.filter(promise_id__in=ids).delete()
        PromiseEvent.objects.filter(promise_id__in=ids).delete()
        Promise.objects.filter(pk__in=ids).update(
            status="open", broken_at=None, due_at=timezone.now() + timedelta(days=30)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE promises_promise, promises_promiseevent, promises_alert, "
                "accounts_account"
            )

    sweep_times, floor_times = [], []
    for _ in range(args.runs):
        ids = make_overdue()
        started = time.perf_counter()
        broken = flag_overdue_promises()
        sweep_times.append(time.perf_counter() - started)
        assert broken == len(ids), (broken, len(ids))
        assert Alert.objects.filter(promise_id__in=ids).count() == len(ids)
        assert PromiseEvent.objects.filter(promise_id__in=ids, kind="broken").count() == len(ids)
        restore(ids)

        ids = make_overdue()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(SET_BASED_SWEEP, {"now": timezone.now()})
            assert cursor.fetchone()[0] == len(ids)
        floor_times.append(time.perf_counter() - started)
        restore(ids)
    print(
        f"{args.overdue:,} overdue   median {ms(statistics.median(sweep_times))}  "
        f"runs {', '.join(f'{t * 1000:.0f}' for t in sweep_times)} ms   "
        f"floor: one SQL statement {ms(statistics.median(floor_times))}"
    )


if __name__ == "__main__":
    main()
