"""What every scenario shares: timing, figures with their floor and target, the table, the JSON.

A scenario is a function ``run(bench: Bench) -> list[Figure]`` listed in
``benchmarks/scenarios/__init__.py``. It measures each figure *and its floor*
in the same run (the floor is the same work done the cheapest way this
machine allows), because on a shared two-core machine an absolute number
means little and a ratio to a floor measured a second earlier means a lot.
"""

import json
import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --- targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A figure's target: an absolute bound, a bound relative to its floor, or none.

    ``kind`` is one of ``below`` (median < value), ``at_least_floor_ratio``
    (median / floor >= value, for throughput) and ``within_floor_ratio``
    (median / floor <= value, for durations allowed to cost a few times the
    floor); ``info`` figures are shown without a verdict.
    """

    kind: str
    value: float = 0.0
    unit: str = ""

    def describe(self) -> str:
        if self.kind == "below":
            return f"< {self.value:g} {self.unit}".strip()
        if self.kind == "at_least_floor_ratio":
            return f">= {self.value:g}x floor"
        if self.kind == "within_floor_ratio":
            return f"<= {self.value:g}x floor"
        return ""

    def check(self, median: float, floor: float | None) -> bool | None:
        if self.kind == "below":
            return median < self.value
        if floor in (None, 0):
            return None
        if self.kind == "at_least_floor_ratio":
            return median / floor >= self.value
        if self.kind == "within_floor_ratio":
            return median / floor <= self.value
        return None


def below(value: float, unit: str) -> Target:
    return Target("below", value, unit)


def at_least_floor_ratio(value: float) -> Target:
    return Target("at_least_floor_ratio", value)


def within_floor_ratio(value: float) -> Target:
    return Target("within_floor_ratio", value)


INFO = Target("info")


# --- figures ---------------------------------------------------------------------------


@dataclass
class Figure:
    """One line of the table: the median of several runs next to the floor's median."""

    name: str
    unit: str
    runs: list[float]
    floor_runs: list[float] = field(default_factory=list)
    target: Target = INFO
    note: str = ""
    # Set when the figure could not be measured (say, wrk is missing): shown, never passed.
    skipped: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def floor(self) -> float | None:
        return statistics.median(self.floor_runs) if self.floor_runs else None

    @property
    def ratio(self) -> float | None:
        if self.median is None or not self.floor:
            return None
        return self.median / self.floor

    @property
    def passed(self) -> bool | None:
        if self.skipped or self.median is None:
            return None
        return self.target.check(self.median, self.floor)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["target"] = self.target.describe()
        data.update(median=self.median, floor=self.floor, ratio=self.ratio, passed=self.passed)
        return data


def skipped(name: str, unit: str, reason: str, target: Target = INFO) -> Figure:
    return Figure(name=name, unit=unit, runs=[], target=target, skipped=reason)


# --- measuring -------------------------------------------------------------------------


def time_runs(
    work: Callable[[], object],
    *,
    runs: int,
    setup: Callable[[], object] | None = None,
    teardown: Callable[[], object] | None = None,
    scale: float = 1000.0,
) -> list[float]:
    """Time ``work`` ``runs`` times (in ms by default), with untimed setup and teardown."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * scale)
        if teardown:
            teardown()
    return times


@dataclass
class ChildRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str


def run_child(argv: list[str], *, env: dict | None = None) -> ChildRun:
    """Run a command and measure its wall time and *its own* peak resident memory.

    ``os.wait4`` returns the rusage of exactly that child, whereas
    ``getrusage(RUSAGE_CHILDREN)`` reports the largest of every child ever
    waited for. Linux gives ``ru_maxrss`` in KiB. This is how the bulk trust
    recompute's "stays under 1 GiB" is checked.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(seconds, usage.ru_maxrss * 1024, process.returncode, output)


# --- the run ---------------------------------------------------------------------------


@dataclass
class Bench:
    """What a scenario is given: how many runs, and the shape of the data set in use."""

    runs: int
    scale: float
    accounts: int
    interactions: int
    log: Callable[[str], None] = print


def machine() -> dict:
    """The facts a reader of the figures needs: cores, memory, load, versions."""
    memory = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {
        "nproc": os.cpu_count(),
        "memory_bytes": memory,
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "peak_rss_self_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.3g} {unit}".strip()


def table(figures: list[Figure]) -> str:
    """The one table ``make bench`` prints: figure, median, floor, ratio, target, result."""
    header = ("figure", "median", "floor", "ratio", "target", "result")
    rows = []
    for figure in figures:
        result = {True: "pass", False: "FAIL", None: ""}[figure.passed]
        if figure.skipped:
            result = f"skipped: {figure.skipped}"
        ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"
        rows.append(
            (
                figure.name,
                _format(figure.median, figure.unit),
                _format(figure.floor, figure.unit),
                ratio,
                figure.target.describe(),
                result,
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for index, row in enumerate([header, *rows]):
        cells = [
            str(cell).ljust(width) if column in (0, 4, 5) else str(cell).rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  {figure.name}: {figure.note}" for figure in figures if figure.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def write_results(figures: list[Figure], context: dict) -> Path:
    """Write the run as JSON under benchmarks/results/ (git-ignored) and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{stamp}-scale{context['scale']:g}.json"
    payload = {**context, "figures": [figure.as_dict() for figure in figures]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def compare(old_path: Path, new_path: Path) -> str:
    """Two result files side by side: each figure's median in both and the change."""
    old = {f["name"]: f for f in json.loads(old_path.read_text())["figures"]}
    new = json.loads(new_path.read_text())["figures"]
    header = ("figure", old_path.name, new_path.name, "change")
    rows = []
    for figure in new:
        before = old.get(figure["name"], {}).get("median")
        after = figure["median"]
        change = f"{(after / before - 1):+.0%}" if before and after is not None else "-"
        rows.append(
            (
                figure["name"],
                _format(before, figure["unit"]),
                _format(after, figure["unit"]),
                change,
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    )
