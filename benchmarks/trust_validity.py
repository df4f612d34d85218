"""Does the trust score rank relationships by how reliably we really keep our promises?

Simulates relationships whose true promise-keeping probability `p` is known, runs the model on
the rows the product would hold for them, and reports:

- the Spearman rank correlation between the score and `p`, overall and by how many promises
  the relationship has (the evidence it rests on), next to the same figure for the bare
  reliability component and for the naive on-time share (kept on time / resolved), which is
  about the best any estimator can do from the promise outcomes alone;
- the calibration of the reliability component: mean reliability against mean `p` per decile
  of reliability;
- how the bands split by true `p`.

Standard library only; run from the repository root:

    python benchmarks/trust_validity.py [--relationships 2000] [--seed 20250101]

The simulation's assumptions are spelled out in `simulate_relationship` and in trust/MODEL.md.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trust.model import (  # after the sys.path line above, so that it runs from anywhere
    DEFAULT_PARAMS,
    InteractionRow,
    Params,
    PromiseRow,
    component_values,
    evidence_from_rows,
    score,
)

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
HISTORY_DAYS = 730
BUCKETS = ((3, 5), (6, 9), (10, 19), (20, 40), (10, 40), (3, 40))


@dataclass(frozen=True)
class Relationship:
    """One simulated relationship: its true reliability and the rows the product holds."""

    p: float
    promises: list[PromiseRow]
    interactions: list[InteractionRow]


def _days(d: float) -> timedelta:
    return timedelta(days=d)


def simulate_promise(rng: random.Random, p: float) -> PromiseRow:
    """One promise with the life the write path would record for it.

    With probability `p` it is kept on time. Otherwise it is broken: disclosed before the due
    date more often by reliable owners (25% + 35% * p), else swept silently one minute after
    due; 30% of breaks are kept late afterwards, and the others are repaired with probability
    20% + 50% * p, some of those outside the repair window. Independently, 5% + 15% * (1 - p) of
    promises get their due date renegotiated (once, sometimes twice), and 3% are released by the
    customer before they are due.
    """
    created = AS_OF - _days(rng.uniform(1, HISTORY_DAYS))
    lead = rng.uniform(2, 21)
    renegotiated = 0
    if rng.random() < 0.05 + 0.15 * (1 - p):
        renegotiated = 1 if rng.random() < 0.8 else 2
        lead += renegotiated * rng.uniform(3, 14)
    due = created + _days(lead)
    if rng.random() < 0.03:
        released = created + _days(rng.uniform(0, lead))
        return PromiseRow(created, due, released_at=released, renegotiated_count=renegotiated)
    if rng.random() < p:
        kept = created + _days(rng.uniform(0.05, 1.0) * lead)
        return PromiseRow(created, due, kept_at=kept, renegotiated_count=renegotiated)
    if rng.random() < 0.25 + 0.35 * p:
        broken = due - _days(rng.uniform(0.02, 0.5) * lead)
    else:
        broken = due + timedelta(minutes=1)
    if rng.random() < 0.3:
        kept = max(broken, due) + _days(rng.uniform(1, 20))
        return PromiseRow(
            created, due, kept_at=kept, broken_at=broken, renegotiated_count=renegotiated
        )
    repaired = None
    if rng.random() < 0.2 + 0.5 * p:
        repaired = broken + _days(rng.uniform(0.5, 25))
    return PromiseRow(
        created, due, broken_at=broken, renegotiated_count=renegotiated, repaired_at=repaired
    )


def simulate_interactions(rng: random.Random, p: float) -> list[InteractionRow]:
    """Two years of contact at the relationship's own random rhythm, with loose links to `p`.

    The rhythm (mean gap) is log-uniform between 3 and 45 days. With probability
    8% + 15% * (1 - p) the relationship has gone quiet for the last 2 to 8 rhythms. 45% of
    contacts are inbound, answered within 48 hours with probability 50% + 40% * p. Half carry
    a sentiment: a normal around 1.6 * (p - 0.6) with standard deviation 1, rounded and clipped
    to -2..+2 -- so sentiment says something about `p`, but not much.
    """
    rhythm = math.exp(rng.uniform(math.log(3), math.log(45)))
    end = AS_OF
    if rng.random() < 0.08 + 0.15 * (1 - p):
        end = AS_OF - _days(rng.uniform(2, 8) * rhythm)
    rows = []
    t = AS_OF - _days(HISTORY_DAYS) + _days(rng.expovariate(1 / rhythm))
    while t < end:
        inbound = rng.random() < 0.45
        answered = None
        if inbound:
            if rng.random() < 0.5 + 0.4 * p:
                answered = rng.uniform(0.5, 47)
            elif rng.random() < 0.7:
                answered = rng.uniform(49, 240)
        sentiment = None
        if rng.random() < 0.5:
            sentiment = max(-2, min(2, round(rng.gauss(1.6 * (p - 0.6), 1.0))))
        rows.append(InteractionRow(t, "inbound" if inbound else "outbound", sentiment, answered))
        t += _days(rng.expovariate(1 / rhythm))
    return rows


def simulate(n: int, seed: int) -> list[Relationship]:
    """`n` relationships with p uniform in [0.3, 0.98] and 3..40 promises over two years."""
    rng = random.Random(seed)
    result = []
    for _ in range(n):
        p = rng.uniform(0.3, 0.98)
        promises = [simulate_promise(rng, p) for _ in range(rng.randint(3, 40))]
        result.append(Relationship(p, promises, simulate_interactions(rng, p)))
    return result


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rho: the Pearson correlation of the ranks."""
    if len(xs) < 3:
        return float("nan")
    return statistics.correlation(ranks(xs), ranks(ys))


def on_time_share(promises: list[PromiseRow]) -> float:
    """The naive estimate: promises kept on time among those resolved (prior-free)."""
    outcomes = [
        p.kept_at is not None and p.kept_at <= p.due_at
        for p in promises
        if min(t for t in (p.kept_at, p.broken_at, p.due_at) if t is not None) <= AS_OF
        and (p.released_at is None or p.released_at > AS_OF)
    ]
    return sum(outcomes) / len(outcomes) if outcomes else 0.5


def run(n: int, seed: int, params: Params) -> None:
    started = time.perf_counter()
    relationships = simulate(n, seed)
    simulated = time.perf_counter()
    rows = []
    for rel in relationships:
        evidence = evidence_from_rows(rel.promises, rel.interactions, as_of=AS_OF, params=params)
        health = score(evidence, params=params)
        reliability = component_values(evidence, params=params)["reliability"]
        rows.append((rel, health, reliability, on_time_share(rel.promises)))
    scored = time.perf_counter()

    print(f"trust validity: {n} simulated relationships, seed {seed}, as of {AS_OF:%Y-%m-%d}")
    print(f"simulated in {simulated - started:.1f} s, scored in {scored - simulated:.1f} s")
    print()
    print("Spearman rank correlation with the true promise-keeping probability p")
    print(f"{'promises':>9} {'n':>5} {'score':>7} {'reliab.':>8} {'on-time share':>14}")
    for low, high in BUCKETS:
        chosen = [r for r in rows if low <= len(r[0].promises) <= high]
        truth = [r[0].p for r in chosen]
        print(
            f"{f'{low}-{high}':>9} {len(chosen):>5}"
            f" {spearman([r[1].score for r in chosen], truth):>7.3f}"
            f" {spearman([r[2] for r in chosen], truth):>8.3f}"
            f" {spearman([r[3] for r in chosen], truth):>14.3f}"
        )
    print()
    print("Calibration of the reliability component, by decile of reliability")
    print(f"{'decile':>6} {'mean reliability':>17} {'mean true p':>12}")
    by_reliability = sorted(rows, key=lambda r: r[2])
    for d in range(10):
        part = by_reliability[d * len(rows) // 10 : (d + 1) * len(rows) // 10]
        mean_r = statistics.fmean(r[2] for r in part)
        mean_p = statistics.fmean(r[0].p for r in part)
        print(f"{d + 1:>6} {mean_r:>17.3f} {mean_p:>12.3f}")
    print()
    print("Bands by true p")
    print(f"{'true p':>11} {'healthy':>8} {'watch':>6} {'at_risk':>8} {'mean score':>11}")
    for p_low, p_high in ((0.3, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 0.98)):
        part = [
            r for r in rows if p_low <= r[0].p < p_high or (p_high == 0.98 and r[0].p == p_high)
        ]
        shares = {
            band: sum(r[1].band == band for r in part) / len(part)
            for band in ("healthy", "watch", "at_risk")
        }
        print(
            f"{f'{p_low:.2f}-{p_high:.2f}':>11} {shares['healthy']:>8.0%} {shares['watch']:>6.0%}"
            f" {shares['at_risk']:>8.0%} {statistics.fmean(r[1].score for r in part):>11.1f}"
        )
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relationships", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args()
    run(args.relationships, args.seed, DEFAULT_PARAMS)


if __name__ == "__main__":
    main()
