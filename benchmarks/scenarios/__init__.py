"""The scenarios ``make bench`` runs, in order.

A scenario is a module with ``run(bench: Bench) -> list[Figure]`` (see
``benchmarks.harness``): it measures each figure and its floor in the same
run, several times, and returns them with their target
(docs/architecture.md, "Performance"). To add one,
write the module and list it here under a short name; ``python -m
benchmarks.run NAME ...`` runs only the named ones.

``trust`` (``trust_recompute``) returns the trust figures: ``compute_trust
--all`` in a child process (``harness.run_child``) next to the SQL aggregation
of the same rows, target ``within_floor_ratio(2)``; the same again with
unchanged digests (shown); one account's recompute (``HEAVY_ACCOUNT_ID``,
5,000 interactions) next to the same aggregation for that account, target
``below(10, "ms")``; the bulk recompute's peak RSS, target ``below(1024,
"MiB")``.

``csv`` (``csv_import_export``) returns the CSV figures: importing
``BENCH_CSV_ROWS`` interactions next to COPY of the same file into a bare
table, target ``within_floor_ratio(3)``; the import's peak RSS, target
``below(500, "MiB")``; exporting every interaction next to ``COPY (SELECT
...) TO STDOUT``, in rows per second, target ``at_least_floor_ratio(0.5)``.
"""

from benchmarks.scenarios import api_load, csv_import_export, overdue_sweep, trust_recompute

SCENARIOS = {
    "sweep": overdue_sweep.run,
    "api": api_load.run,
    "trust": trust_recompute.run,
    "csv": csv_import_export.run,
}
