"""``make bench``: run every scenario several times and print one table of figures and floors.

Usage::

    python -m benchmarks.run                 # every scenario
    python -m benchmarks.run sweep           # only the named ones
    python -m benchmarks.run --compare OLD.json NEW.json

``BENCH_RUNS`` sets how many times each figure is measured (default 5); the
median is reported. The data set must have been loaded with ``make
bench-data``; the scale is read from it. The table is also written as JSON
under ``benchmarks/results/`` so that two runs can be compared.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relcrm.settings")
django.setup()

from django.db import connection  # noqa: E402

from benchmarks import harness  # noqa: E402
from benchmarks.dataset import HEAVY_ACCOUNT_ID, REFERENCE, require_postgres  # noqa: E402
from benchmarks.scenarios import SCENARIOS  # noqa: E402


def _data_set() -> tuple[int, int]:
    """Accounts and (estimated) interactions in the database; exits if there is no data set."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_account")
        accounts = cursor.fetchone()[0]
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'interactions_interaction'"
        )
        interactions = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM interactions_interaction WHERE account_id = %s",
            [HEAVY_ACCOUNT_ID],
        )
        heavy = cursor.fetchone()[0]
    if not accounts or not heavy:
        sys.exit("No bench data set in this database: run `make bench-data` (SCALE=...) first.")
    return accounts, interactions


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)}")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), type=Path)
    args = parser.parse_args()
    if args.compare:
        print(harness.compare(*args.compare))
        return
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        sys.exit(f"Unknown scenario {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")

    require_postgres()
    accounts, interactions = _data_set()
    scale = accounts / REFERENCE["accounts"]
    bench = harness.Bench(
        runs=int(os.environ.get("BENCH_RUNS", "5")),
        scale=scale,
        accounts=accounts,
        interactions=interactions,
        log=lambda message: print(f"... {message}", flush=True),
    )
    machine = harness.machine()
    print(
        f"relcrm bench: {accounts:,} accounts, ~{interactions:,} interactions "
        f"(SCALE={scale:g}); {machine['nproc']} cores, "
        f"{machine['memory_bytes'] / 2**30:.1f} GiB, load {machine['load_average'][0]:.2f}; "
        f"{bench.runs} runs per figure",
        flush=True,
    )
    figures = []
    for name in args.scenarios or SCENARIOS:
        figures += SCENARIOS[name](bench)
    machine_after = harness.machine()
    print()
    print(harness.table(figures))
    print(
        f"\nload average before {machine['load_average'][0]:.2f}, "
        f"after {machine_after['load_average'][0]:.2f} on {machine['nproc']} cores"
    )
    path = harness.write_results(
        figures,
        {
            "scale": scale,
            "accounts": accounts,
            "interactions": interactions,
            "runs": bench.runs,
            "git_commit": _git_commit(),
            "postgres": _postgres_version(),
            "machine": machine,
            "load_average_after": machine_after["load_average"],
        },
    )
    print(
        f"\nwritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )
    if any(figure.passed is False for figure in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
