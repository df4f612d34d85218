"""CSV: importing a million interactions, and exporting every one, each next to PostgreSQL's COPY.

Import: a file of ``BENCH_CSV_ROWS`` interactions (1,000,000 by default; the
API's columns: account, kind, direction, occurred_at, summary, sentiment,
external_id) over ``IMPORT_ACCOUNTS`` accounts made for the run in the first
team, imported by its lead in a child process (``benchmarks.csv_child``:
``imports.services.run_import``, what the worker and ``import_csv`` run; timed
from inside, so without Python's start-up): every cell checked by the
serializer's fields, the accounts looked up, the rows written by COPY with
their ids drawn first, the answer times of the touched accounts brought up to
date and each account marked stale, in one transaction. The floor is ``COPY
... FROM STDIN (FORMAT csv)`` of the same file into a bare table of the same
columns (no index, no constraint), in this process. After each run the
imported interactions are deleted and the tables vacuumed; at the end the
accounts too. The child's peak RSS is the memory figure.

Export: every interaction a temporary admin may see, streamed as ``GET
/interactions/export/`` streams it (in a child process, timed from inside,
into nothing), next to ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` of the
interaction's own columns for the same rows in the same order, read in this
process. The figures are rows per second, so the target reads the same at any
scale; the export also reads each batch's contacts and promises, which the
floor does not.
"""

import csv
import json
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, User
from benchmarks.harness import (
    INFO,
    Bench,
    Figure,
    at_least_floor_ratio,
    below,
    run_child,
    within_floor_ratio,
)
from interactions.models import Interaction

PROJECT_DIR = Path(__file__).resolve().parents[2]
IMPORT_ROWS = int(os.environ.get("BENCH_CSV_ROWS", "1000000"))
IMPORT_ACCOUNTS = 1000
# A million rows take a minute or so a run: fewer runs than the quick figures.
IMPORT_RUNS = 3
ADMIN = "bench-csv-admin"
HEADER = ["account", "kind", "direction", "occurred_at", "summary", "sentiment", "external_id"]
BARE_TABLE = "bench_csv_bare_interactions"
BARE_COLUMNS = """
    account_id bigint, kind varchar(10), direction varchar(10), occurred_at timestamptz,
    summary text, sentiment smallint, external_id varchar(200)
"""
SUMMARIES = [
    "Renewal call, pricing for the next year",
    'Asked about "the new API", sent the docs',
    "Follow-up on the onboarding workshop; Åsa joins next time",
    "Complaint about an invoice, resolved on the call",
    "Quarterly review: usage up, two seats more",
]


def _child(*args: str) -> dict:
    child = run_child([sys.executable, "-m", "benchmarks.csv_child", *args])
    if child.returncode != 0:
        raise RuntimeError(f"csv_child {args[0]} failed ({child.returncode}):\n{child.output}")
    return json.loads(child.output.strip().splitlines()[-1])


def _write_file(path: Path, account_ids: list[int], rows: int) -> None:
    rng = random.Random(20261203)
    now = timezone.now()
    kinds = ["call", "email", "meeting", "message", "note"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for number in range(rows):
            writer.writerow(
                [
                    account_ids[number % len(account_ids)],
                    kinds[number % 5],
                    "inbound" if number % 3 == 0 else "outbound",
                    (now - timedelta(minutes=rows - number)).isoformat(),
                    SUMMARIES[number % len(SUMMARIES)],
                    rng.choice(["", "-2", "-1", "0", "1", "2"]),
                    f"csv-{number}",
                ]
            )


class _RolledBack(Exception):
    pass


def _floor_import(path: Path, logged_by: int) -> tuple[float, float]:
    """COPY of the file into a bare table; then the same rows into the interactions table.

    The second (rolled back) is what the database alone spends writing the rows
    where they belong: its indexes, its unique external ids, its foreign keys.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        cursor.execute(f"CREATE TABLE {BARE_TABLE} ({BARE_COLUMNS})")
    started = time.perf_counter()
    with connection.cursor() as cursor, path.open("rb") as source:
        statement = f"COPY {BARE_TABLE} FROM STDIN WITH (FORMAT csv, HEADER)"
        with cursor.copy(statement) as copy:
            while data := source.read(1 << 20):
                copy.write(data)
    bare = time.perf_counter() - started
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO interactions_interaction (account_id, kind, direction, occurred_at, "
                "summary, sentiment, external_id, logged_by_id, created_at, updated_at) "
                "SELECT account_id, kind, direction, occurred_at, coalesce(summary, ''), "
                f"sentiment, external_id, %s, now(), now() FROM {BARE_TABLE}",
                [logged_by],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys, checked
            real = time.perf_counter() - started
            raise _RolledBack
    except _RolledBack:
        pass
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {BARE_TABLE}")
    return bare, real


def _forget_import(account_ids: list[int]) -> None:
    imported = Interaction.objects.filter(account_id__in=account_ids)
    Interaction.contacts.through.objects.filter(interaction__in=imported).delete()
    imported.delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) interactions_interaction, accounts_account")


def _floor_export(user) -> tuple[float, int]:
    """COPY of the interaction's own columns, for the rows the export streams, in its order."""
    columns = ", ".join(f"i.{name}" for name in (
        "id", "account_id", "kind", "direction", "occurred_at", "summary", "sentiment",
        "external_id", "logged_by_id", "created_at",
    ))  # fmt: skip
    statement = (
        f"COPY (SELECT {columns} FROM interactions_interaction i "
        "JOIN accounts_account a ON a.id = i.account_id "
        "WHERE a.archived_at IS NULL ORDER BY i.id) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    started = time.perf_counter()
    size = 0
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for data in copy:
            size += len(data)
    return time.perf_counter() - started, size


def run(bench: Bench) -> list[Figure]:
    lead = User.objects.leads().order_by("pk").first()
    if lead is None or lead.team_id is None:
        raise RuntimeError("the bench data set has no lead")
    accounts = Account.objects.bulk_create(
        [Account(name=f"bench csv {n}", owner=lead, team=lead.team) for n in range(IMPORT_ACCOUNTS)]
    )
    account_ids = [account.pk for account in accounts]
    admin = User.objects.create(username=ADMIN, is_superuser=True, is_staff=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "interactions.csv"
            bench.log(f"csv: writing {IMPORT_ROWS:,} interactions to import")
            _write_file(path, account_ids, IMPORT_ROWS)
            size_mib = path.stat().st_size / 2**20
            runs = min(bench.runs, IMPORT_RUNS)
            bench.log(
                f"csv: importing {IMPORT_ROWS:,} interactions ({size_mib:,.0f} MiB), {runs} runs"
            )
            imports, floors, table_floors, memory = [], [], [], []
            for _ in range(runs):
                bare, real = _floor_import(path, lead.pk)
                floors.append(bare)
                table_floors.append(real)
                result = _child("import", str(path), lead.username)
                if result["status"] != "succeeded" or result["created"] != IMPORT_ROWS:
                    raise RuntimeError(f"the import did not write every row: {result}")
                imports.append(result["seconds"])
                memory.append(result["peak_rss_mib"])
                _forget_import(account_ids)

        bench.log(f"csv: exporting every interaction, {bench.runs} runs")
        exports, export_floors = [], []
        rows = 0
        for _ in range(bench.runs):
            seconds, _ = _floor_export(admin)
            result = _child("export", ADMIN)
            export_rss = result["peak_rss_mib"]
            rows = result["rows"]
            export_floors.append(rows / seconds)
            exports.append(rows / result["seconds"])
    finally:
        _forget_import(account_ids)
        Account.objects.filter(pk__in=account_ids).delete()
        admin.delete()

    return [
        Figure(
            name=f"CSV import of {IMPORT_ROWS:,} interactions",
            unit="s",
            runs=imports,
            floor_runs=floors,
            target=within_floor_ratio(3),
            note=(
                f"run_import in a child ({size_mib:,.0f} MiB file, {IMPORT_ACCOUNTS:,} accounts, "
                "checked, written, answer times and stale marks); floor: COPY of the file "
                "into a bare table of the same columns"
            ),
        ),
        Figure(
            name=f"CSV import of {IMPORT_ROWS:,} interactions, the table's own floor",
            unit="s",
            runs=imports,
            floor_runs=table_floors,
            target=INFO,
            note=(
                "the same import next to the database alone writing the same rows into the "
                "interactions table (INSERT ... SELECT from the bare table, foreign keys checked)"
            ),
        ),
        Figure(
            name="CSV import, peak memory",
            unit="MiB",
            runs=memory,
            target=below(500, "MiB"),
            note="peak RSS (VmHWM) of the importing child process",
        ),
        Figure(
            name=f"CSV export of every interaction ({rows:,})",
            unit="rows/s",
            runs=exports,
            floor_runs=export_floors,
            target=at_least_floor_ratio(0.5),
            note=(
                "the export's queryset and stream, as GET /interactions/export/ (a child, "
                f"peak RSS {export_rss:,.0f} MiB); floor: COPY (SELECT ...) TO STDOUT "
                "of the interaction's own columns"
            ),
        ),
    ]
