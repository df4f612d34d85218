"""The scenarios ``make bench`` runs, in order.

A scenario is a module with ``run(bench: Bench) -> list[Figure]`` (see
``benchmarks.harness``): it measures each figure and its floor in the same
run, several times, and returns them with their DESIGN.md target. To add one,
write the module and list it here under a short name; ``python -m
benchmarks.run NAME ...`` runs only the named ones.

Where the trust recompute plugs in (when the trust engine lands), as a
``trust`` scenario returning three figures:
- ``compute_trust --all``: ``harness.run_child([sys.executable, "manage.py",
  "compute_trust", "--all"])`` next to one hand-written SQL aggregation of the
  same rows, target ``within_floor_ratio(2)``;
- one account's recompute (``HEAVY_ACCOUNT_ID``, 5,000 interactions) next to
  the same aggregation for that one account, target ``below(10, "ms")``;
- the bulk recompute's peak memory, ``ChildRun.peak_rss_bytes`` of the run
  above in MiB, target ``below(1024, "MiB")``.
"""

from benchmarks.scenarios import api_load, overdue_sweep, trust_recompute

SCENARIOS = {
    "sweep": overdue_sweep.run,
    "api": api_load.run,
    "trust": trust_recompute.run,
}
