"""The trust-health model: plain data in, plain data out, time as an argument.

This module is pure Python (standard library only) so that it can be read, reasoned about and
property-tested on its own; `trust/MODEL.md` explains the formulas and their defaults.

The model has two layers, so that the bulk recompute can run in SQL:

1. `Evidence` holds per-account aggregates. Every field is one plain SUM, COUNT, MIN or MAX over
   the account's promise rows or interaction rows, at most with a CASE on columns and an
   `EXP(-rate * age_days)` decay, so one GROUP BY query per table yields all accounts at once.
   `evidence_from_rows` is the reference implementation of those aggregates in Python; each
   field's docstring gives the SQL that must produce the same number.
2. `score(evidence)` turns the aggregates into a `Health`: score, band, confidence, components
   and a plain-language explanation. It is the same code for one account and for all of them.

Columns the model reads (the write path keeps them up to date)
--------------------------------------------------------------
Promise row (`PromiseRow`):
    created_at          when the promise was made (rows created after `as_of` are ignored).
    due_at              the current due time (after any renegotiation).
    kept_at             when it was delivered, else NULL. Kept late when `kept_at > due_at`,
                        or when it broke first (a broken promise that is kept later keeps its
                        `broken_at`, and `kept_at >= broken_at`: a check constraint).
    broken_at           when it was broken, else NULL; kept when a broken promise is later kept.
                        Broken before `due_at` is a *disclosed* break, at or after it *silent*.
    released_at         when the customer released us from it, else NULL.
    renegotiated_count  how many times its due time was renegotiated (before due).
    repaired_at         the first time after `broken_at` that the account saw a repair -- another
                        promise made after the break was kept, or an outbound interaction with
                        positive sentiment occurred -- else NULL. The model itself checks that it
                        fell within `Params.repair_window_days` of the break.
Interaction row (`InteractionRow`):
    occurred_at             when it happened (rows after `as_of` are ignored).
    direction               "inbound" or "outbound".
    sentiment               integer -2..+2, or NULL when not recorded.
    answered_within_hours   for an inbound row: hours until our next outbound interaction with
                            the account, NULL while unanswered (and for outbound rows).

The model reads the timestamps, not the promise `status`, so that the health of any past day
(`as_of`) can be computed from the same rows: an event stamped after `as_of` has not happened
yet. `status` must agree with the timestamps (a check constraint on the table).

SQL notation used in the field docstrings
-----------------------------------------
    :as_of          the time the health is computed for (one value for all accounts).
    age(col)        days from `col` to :as_of, as a float (`_age` in trust/evidence.py).
    dp(col)         EXP(-:promise_rate * age(col)),  :promise_rate
                      = params.decay_per_day(params.promise_half_life_days)
    dw(col)         EXP(-:wound_rate * age(col)),    :wound_rate
                      = params.decay_per_day(params.wound_half_life_days)
    di(col)         EXP(-:interaction_rate * age(col)), :interaction_rate
                      = params.decay_per_day(params.interaction_half_life_days)
    by(col)         (col IS NOT NULL AND col <= :as_of)  -- "had happened by as_of"
    :recent_since   :as_of - params.recent_days (a timestamp computed in Python)
    :answer_cutoff  :as_of - params.response_window_hours
    :window_hours   params.response_window_hours
    :repair_window  params.repair_window_days as an interval (Django: F("broken_at") + timedelta)
Promise predicates, every one also requiring `created_at <= :as_of`:
    kept       by(kept_at)
    on_time    kept AND kept_at <= due_at AND broken_at IS NULL
    late       kept AND (kept_at > due_at OR broken_at IS NOT NULL)
    broken     NOT kept AND by(broken_at)
    silent     broken AND broken_at >= due_at
    disclosed  broken AND broken_at < due_at
    overdue    NOT kept AND NOT by(broken_at) AND NOT by(released_at) AND due_at < :as_of
    repaired   broken AND by(repaired_at) AND repaired_at <= broken_at + :repair_window
    wound      (broken AND NOT repaired) OR overdue
    failed_at  CASE WHEN broken_at IS NOT NULL AND broken_at < due_at THEN broken_at
               ELSE due_at END
    wound_at   CASE WHEN broken THEN broken_at ELSE due_at END
Interaction predicates, every one also requiring `occurred_at <= :as_of`:
    answered   direction = 'inbound' AND answered_within_hours <= :window_hours
               AND answered_within_hours <= 24 * age(occurred_at)
    expected   answered OR (direction = 'inbound' AND occurred_at <= :answer_cutoff)
A field documented as `SUM(x) WHERE p` is `SUM(CASE WHEN p THEN x ELSE 0 END)`, and
`COUNT WHERE p` is `SUM(CASE WHEN p THEN 1 ELSE 0 END)`, so that all fields of one table come
from a single GROUP BY account query.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Direction = Literal["inbound", "outbound"]

COMPONENTS = ("reliability", "recovery", "engagement", "sentiment", "responsiveness")
"""The components of the score, in the order they are reported."""

_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Params:
    """Every tunable number of the model, with the defaults `trust/MODEL.md` justifies.

    Weights need not sum to one: they are normalised. The constructor refuses values that would
    break one of the properties the model promises (trust/MODEL.md, "The nine properties").
    """

    # Promise reliability: a Beta posterior over "we keep what we promise".
    promise_half_life_days: float = 365.0
    """A resolved promise counts half as much after this many days."""
    prior_kept: float = 1.5
    """Prior pseudo-count of kept promises (assume the best)."""
    prior_broken: float = 1.0
    """Prior pseudo-count of broken promises; 1.5:1 gives a prior reliability of 0.6."""
    severity_silent: float = 2.5
    """A silent break (swept overdue, or broken after due) counts as this many failures."""
    severity_disclosed: float = 1.5
    """A break we disclosed before the due time counts as this many failures."""
    severity_renegotiated: float = 0.25
    """Each renegotiation of a due time (always before due) counts as this many failures."""
    kept_late_credit: float = 0.5
    """A promise kept late counts as this fraction of a kept promise (from `kept_at`) ..."""
    kept_late_debit: float = 1.0
    """... and as this many failures (from when it failed: due time, or an earlier break)."""

    # Recovery: breaks not made good within the repair window weigh on top of reliability.
    repair_window_days: float = 14.0
    """A repair counts when it comes at most this many days after the break."""
    wound_half_life_days: float = 60.0
    """An unrepaired break (or an overdue open promise) stops hurting with this half-life."""
    wound_mass_half: float = 1.0
    """Decayed unrepaired-break mass at which the recovery component is halved."""

    # Engagement: silence measured against the relationship's own rhythm.
    rhythm_prior_days: float = 30.0
    """The usual gap between contacts assumed before the relationship shows its own."""
    rhythm_prior_weight: float = 1.0
    """How many gaps the prior rhythm is worth when averaged with the observed gaps."""
    rhythm_min_days: float = 2.0
    """The rhythm is never taken as shorter than this (a burst of e-mails is not a rhythm)."""
    rhythm_max_days: float = 90.0
    """... nor longer than this (a quarterly call is as slow as a relationship may be)."""
    silence_ratio_half: float = 3.0
    """Silence of this many usual gaps halves the engagement component."""
    silence_steepness: float = 4.0
    """How sharply engagement falls around that point (a log-logistic exponent)."""
    engagement_prior: float = 0.75
    """Engagement before any interaction is known."""
    engagement_prior_count: float = 3.0
    """Interactions at which the observed engagement and the prior weigh equally."""

    # Sentiment and responsiveness share one decay for interaction evidence.
    interaction_half_life_days: float = 180.0
    """An interaction counts half as much for sentiment and responsiveness after this long."""
    sentiment_prior_mean: float = 0.5
    """Prior mean sentiment on the -2..+2 scale: neutral leaning positive."""
    sentiment_prior_weight: float = 3.0
    """How many (fresh) interactions the sentiment prior is worth."""
    negative_sentiment_factor: float = 1.5
    """A negative sentiment counts this many times its value (negativity bias)."""
    response_window_hours: float = 48.0
    """An inbound interaction is answered when an outbound one follows within this time."""
    prior_answered: float = 2.0
    """Prior pseudo-count of inbound interactions answered in time."""
    prior_unanswered: float = 1.0
    """Prior pseudo-count of inbound interactions left unanswered."""

    # The score.
    weight_reliability: float = 0.58
    weight_recovery: float = 0.08
    weight_engagement: float = 0.10
    weight_sentiment: float = 0.14
    weight_responsiveness: float = 0.10
    healthy_from: float = 70.0
    """Scores at or above this are `healthy`."""
    watch_from: float = 40.0
    """Scores at or above this (and below `healthy_from`) are `watch`; below it `at_risk`."""

    # Confidence and explanation.
    promise_confidence_mass: float = 5.0
    """Decayed resolved-promise mass at which the promise components are half-confident."""
    interaction_confidence_mass: float = 10.0
    """Decayed interaction mass at which sentiment and responsiveness are half-confident."""
    recent_days: float = 90.0
    """The explanation says how many breaks fell in this many recent days."""
    explanation_size: int = 5
    """At most this many facts are given."""
    explanation_min_effect: float = 0.5
    """Facts that moved the score by less than this many points are left out."""

    def __post_init__(self) -> None:
        positive = (
            "promise_half_life_days",
            "prior_kept",
            "prior_broken",
            "repair_window_days",
            "wound_half_life_days",
            "wound_mass_half",
            "rhythm_prior_days",
            "rhythm_prior_weight",
            "rhythm_min_days",
            "silence_ratio_half",
            "silence_steepness",
            "engagement_prior_count",
            "interaction_half_life_days",
            "sentiment_prior_weight",
            "response_window_hours",
            "prior_answered",
            "prior_unanswered",
            "promise_confidence_mass",
            "interaction_confidence_mass",
            "recent_days",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"Params.{name} must be positive")
        if any(getattr(self, f"weight_{c}") < 0 for c in COMPONENTS):
            raise ValueError("Params weights must not be negative")
        if self.weight_reliability <= 0:
            raise ValueError("Params.weight_reliability must be positive: promises are the core")
        # Property 4: renegotiating < disclosed break < silent break; property 3 needs every
        # break to count as more than one failure; property 5 needs a late keep to be partly
        # a keep and to cost less than any break.
        if not 0 < self.severity_renegotiated < self.severity_disclosed < self.severity_silent:
            raise ValueError("Params need 0 < renegotiated < disclosed < silent severity")
        if not self.severity_disclosed > 1:
            raise ValueError("Params.severity_disclosed must exceed 1: breaks outweigh keeps")
        if not 0 < self.kept_late_credit <= 1:
            raise ValueError("Params.kept_late_credit must be in (0, 1]")
        if not 0 <= self.kept_late_debit < self.severity_disclosed:
            raise ValueError("Params.kept_late_debit must be below severity_disclosed")
        if not self.negative_sentiment_factor >= 1:
            raise ValueError("Params.negative_sentiment_factor must be at least 1")
        if not abs(self.sentiment_prior_mean) <= 2:
            raise ValueError("Params.sentiment_prior_mean must be on the -2..+2 scale")
        if not 0 <= self.engagement_prior <= 1:
            raise ValueError("Params.engagement_prior must be in [0, 1]")
        if not self.rhythm_min_days <= self.rhythm_max_days:
            raise ValueError("Params.rhythm_min_days must not exceed rhythm_max_days")
        if not 0 < self.watch_from < self.healthy_from <= 100:
            raise ValueError("Params need 0 < watch_from < healthy_from <= 100")
        if self.explanation_size < 0 or self.explanation_min_effect < 0:
            raise ValueError("Params explanation settings must not be negative")

    @staticmethod
    def decay_per_day(half_life_days: float) -> float:
        """The rate k for which `exp(-k * age_days)` halves every `half_life_days`.

        The SQL side multiplies it by the age in days: `EXP(-k * age(col))`.
        """
        return math.log(2.0) / half_life_days

    def weights(self) -> dict[str, float]:
        """Component weights normalised to sum to one."""
        raw = {c: float(getattr(self, f"weight_{c}")) for c in COMPONENTS}
        total = math.fsum(raw.values())
        return {c: w / total for c, w in raw.items()}


DEFAULT_PARAMS = Params()


@dataclass(frozen=True)
class PromiseRow:
    """The columns of one promise that the model reads (see the module docstring)."""

    created_at: datetime
    due_at: datetime
    kept_at: datetime | None = None
    broken_at: datetime | None = None
    released_at: datetime | None = None
    renegotiated_count: int = 0
    repaired_at: datetime | None = None


@dataclass(frozen=True)
class InteractionRow:
    """The columns of one interaction that the model reads (see the module docstring)."""

    occurred_at: datetime
    direction: Direction
    sentiment: int | None = None
    answered_within_hours: float | None = None


@dataclass(frozen=True)
class Evidence:
    """One account's sufficient statistics as of `as_of`: plain aggregates over its rows.

    Masses are decayed sums (each event weighs `exp(-rate * age_days)`); counts are undecayed and
    only feed the explanation's wording. The docstring of each field is the SQL that computes
    it (notation in the module docstring); `evidence_from_rows` is the Python reference.
    """

    as_of: datetime
    """The time the aggregates were taken for (the :as_of parameter of the queries)."""

    kept_on_time: float = 0.0
    """SUM(dp(kept_at)) WHERE on_time"""
    kept_on_time_count: int = 0
    """COUNT WHERE on_time"""
    kept_late_credit: float = 0.0
    """SUM(dp(kept_at)) WHERE late"""
    kept_late_debit: float = 0.0
    """SUM(dp(failed_at)) WHERE late"""
    kept_late_count: int = 0
    """COUNT WHERE late"""
    silent_breaks: float = 0.0
    """SUM(dp(broken_at)) WHERE silent"""
    silent_break_count: int = 0
    """COUNT WHERE silent"""
    silent_break_recent_count: int = 0
    """COUNT WHERE silent AND broken_at > :recent_since"""
    disclosed_breaks: float = 0.0
    """SUM(dp(broken_at)) WHERE disclosed"""
    disclosed_break_count: int = 0
    """COUNT WHERE disclosed"""
    disclosed_break_recent_count: int = 0
    """COUNT WHERE disclosed AND broken_at > :recent_since"""
    overdue_open: float = 0.0
    """SUM(dp(due_at)) WHERE overdue"""
    overdue_open_count: int = 0
    """COUNT WHERE overdue"""
    renegotiations: float = 0.0
    """SUM(renegotiated_count * dp(created_at)) WHERE created_at <= :as_of"""
    renegotiation_count: int = 0
    """SUM(renegotiated_count) WHERE created_at <= :as_of"""
    unrepaired: float = 0.0
    """SUM(dw(wound_at)) WHERE wound"""
    unrepaired_count: int = 0
    """COUNT WHERE wound"""

    interaction_count: int = 0
    """COUNT(*) WHERE occurred_at <= :as_of"""
    first_interaction_at: datetime | None = None
    """MIN(occurred_at) WHERE occurred_at <= :as_of"""
    last_interaction_at: datetime | None = None
    """MAX(occurred_at) WHERE occurred_at <= :as_of"""
    sentiment_weight: float = 0.0
    """SUM(di(occurred_at)) WHERE sentiment IS NOT NULL"""
    sentiment_positive: float = 0.0
    """SUM(sentiment * di(occurred_at)) WHERE sentiment > 0"""
    sentiment_negative: float = 0.0
    """SUM(sentiment * di(occurred_at)) WHERE sentiment < 0   (zero or negative)"""
    sentiment_negative_weight: float = 0.0
    """SUM(di(occurred_at)) WHERE sentiment < 0"""
    sentiment_count: int = 0
    """COUNT WHERE sentiment IS NOT NULL"""
    sentiment_positive_count: int = 0
    """COUNT WHERE sentiment > 0"""
    sentiment_negative_count: int = 0
    """COUNT WHERE sentiment < 0"""
    sentiment_negative_recent_count: int = 0
    """COUNT WHERE sentiment < 0 AND occurred_at > :recent_since"""
    inbound_expected: float = 0.0
    """SUM(di(occurred_at)) WHERE expected"""
    inbound_answered: float = 0.0
    """SUM(di(occurred_at)) WHERE answered"""
    inbound_expected_count: int = 0
    """COUNT WHERE expected"""
    inbound_answered_count: int = 0
    """COUNT WHERE answered"""


@dataclass(frozen=True)
class Component:
    """One component of the score.

    `value` is in [0, 1]; `weight` is its normalised weight; `points` is how far it moves the
    score from the prior score, so that `score = prior + sum(points)` (before rounding).
    """

    value: float
    weight: float
    points: float


@dataclass(frozen=True)
class Fact:
    """One line of the explanation: a fact in plain words and its effect in score points."""

    text: str
    effect: float


@dataclass(frozen=True)
class Health:
    """The trust health of one account at one time, as stored in a snapshot."""

    score: float
    """0..100, one decimal."""
    band: str
    """One of `healthy`, `watch` and `at_risk`, taken from the rounded score."""
    confidence: float
    """0..1, three decimals: how much evidence (rather than prior) the score rests on."""
    components: Mapping[str, Component]
    explanation: tuple[Fact, ...]
    """The facts that moved the score most, the biggest effect first."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a snapshot: plain dicts, lists, strings and numbers."""
        return {
            "score": self.score,
            "band": self.band,
            "confidence": self.confidence,
            "components": {
                name: {"value": c.value, "weight": c.weight, "points": c.points}
                for name, c in self.components.items()
            },
            "explanation": [{"text": f.text, "effect": f.effect} for f in self.explanation],
        }


# --- Layer 1: rows -> evidence -------------------------------------------------------------


def _age_days(as_of: datetime, at: datetime) -> float:
    return (as_of - at).total_seconds() / _SECONDS_PER_DAY


def _by(at: datetime | None, as_of: datetime) -> bool:
    """Had the event stamped `at` happened by `as_of`?"""
    return at is not None and at <= as_of


PromiseOutcome = Literal["on_time", "late", "silent", "disclosed", "released", "overdue", "open"]


def promise_outcome(row: PromiseRow, as_of: datetime) -> PromiseOutcome | None:
    """What the promise was as of `as_of`, or None if it had not been made yet.

    Mirrors the SQL predicates of the module docstring; a later event wins over an earlier one
    (a broken promise kept late is `late`), and an event after `as_of` has not happened yet.
    """
    if row.created_at > as_of:
        return None
    if _by(row.kept_at, as_of):
        assert row.kept_at is not None
        return "on_time" if row.kept_at <= row.due_at and row.broken_at is None else "late"
    if _by(row.broken_at, as_of):
        assert row.broken_at is not None
        return "silent" if row.broken_at >= row.due_at else "disclosed"
    if _by(row.released_at, as_of):
        return "released"
    return "overdue" if row.due_at < as_of else "open"


class _Sums:
    """Collects the terms of each decayed sum and adds them with `math.fsum`.

    `fsum` is exactly rounded, so the result does not depend on the order of the rows.
    """

    def __init__(self) -> None:
        self.terms: dict[str, list[float]] = {}

    def add(self, name: str, value: float) -> None:
        self.terms.setdefault(name, []).append(value)

    def total(self, name: str) -> float:
        return math.fsum(self.terms.get(name, ()))


def evidence_from_rows(
    promises: Iterable[PromiseRow],
    interactions: Iterable[InteractionRow],
    *,
    as_of: datetime,
    params: Params = DEFAULT_PARAMS,
) -> Evidence:
    """Aggregate one account's rows into its `Evidence` as of `as_of`.

    This is the reference for the SQL aggregates documented on `Evidence`: rows and events
    stamped after `as_of` are ignored, so the same rows give the health of any past day.
    The result does not depend on the order of the rows.
    """
    promise_rate = params.decay_per_day(params.promise_half_life_days)
    wound_rate = params.decay_per_day(params.wound_half_life_days)
    interaction_rate = params.decay_per_day(params.interaction_half_life_days)
    recent_since = as_of - timedelta(days=params.recent_days)
    repair_window = timedelta(days=params.repair_window_days)

    def dp(at: datetime) -> float:
        return math.exp(-promise_rate * _age_days(as_of, at))

    def dw(at: datetime) -> float:
        return math.exp(-wound_rate * _age_days(as_of, at))

    def di(at: datetime) -> float:
        return math.exp(-interaction_rate * _age_days(as_of, at))

    sums = _Sums()
    counts: dict[str, int] = {}

    def count(name: str, n: int = 1) -> None:
        counts[name] = counts.get(name, 0) + n

    for p in promises:
        outcome = promise_outcome(p, as_of)
        if outcome is None:
            continue
        if p.renegotiated_count:
            sums.add("renegotiations", p.renegotiated_count * dp(p.created_at))
            count("renegotiation_count", p.renegotiated_count)
        if outcome == "on_time":
            assert p.kept_at is not None
            sums.add("kept_on_time", dp(p.kept_at))
            count("kept_on_time_count")
        elif outcome == "late":
            assert p.kept_at is not None
            failed_at = p.due_at
            if p.broken_at is not None and p.broken_at < p.due_at:
                failed_at = p.broken_at
            sums.add("kept_late_credit", dp(p.kept_at))
            sums.add("kept_late_debit", dp(failed_at))
            count("kept_late_count")
        elif outcome in ("silent", "disclosed"):
            assert p.broken_at is not None
            kind = "silent_break" if outcome == "silent" else "disclosed_break"
            sums.add(f"{kind}s", dp(p.broken_at))
            count(f"{kind}_count")
            if p.broken_at > recent_since:
                count(f"{kind}_recent_count")
            repaired = (
                _by(p.repaired_at, as_of)
                and p.repaired_at is not None
                and p.repaired_at <= p.broken_at + repair_window
            )
            if not repaired:
                sums.add("unrepaired", dw(p.broken_at))
                count("unrepaired_count")
        elif outcome == "overdue":
            sums.add("overdue_open", dp(p.due_at))
            count("overdue_open_count")
            sums.add("unrepaired", dw(p.due_at))
            count("unrepaired_count")

    first: datetime | None = None
    last: datetime | None = None
    answer_cutoff = as_of - timedelta(hours=params.response_window_hours)
    for i in interactions:
        if i.occurred_at > as_of:
            continue
        count("interaction_count")
        first = i.occurred_at if first is None else min(first, i.occurred_at)
        last = i.occurred_at if last is None else max(last, i.occurred_at)
        weight = di(i.occurred_at)
        if i.sentiment is not None:
            sums.add("sentiment_weight", weight)
            count("sentiment_count")
            if i.sentiment > 0:
                sums.add("sentiment_positive", i.sentiment * weight)
                count("sentiment_positive_count")
            elif i.sentiment < 0:
                sums.add("sentiment_negative", i.sentiment * weight)
                sums.add("sentiment_negative_weight", weight)
                count("sentiment_negative_count")
                if i.occurred_at > recent_since:
                    count("sentiment_negative_recent_count")
        if i.direction == "inbound":
            hours = i.answered_within_hours
            answered = (
                hours is not None
                and hours <= params.response_window_hours
                and hours <= 24.0 * _age_days(as_of, i.occurred_at)
            )
            if answered:
                sums.add("inbound_answered", weight)
                count("inbound_answered_count")
            if answered or i.occurred_at <= answer_cutoff:
                sums.add("inbound_expected", weight)
                count("inbound_expected_count")

    totals: dict[str, Any] = {name: sums.total(name) for name in sums.terms} | counts
    return Evidence(
        as_of=as_of,
        first_interaction_at=first,
        last_interaction_at=last,
        **totals,
    )


# --- Layer 2: evidence -> health -----------------------------------------------------------


class _Constants:
    """What scoring derives from `Params` alone, worked out once per `Params` instance.

    `score` runs once per account in the bulk recompute; these numbers and strings are the
    same every time, and are computed exactly as the formulas write them.
    """

    def __init__(self, params: Params) -> None:
        weights = params.weights()
        priors = _priors(params)
        self.weights = weights
        self.priors = priors
        self.weight = tuple(weights[c] for c in COMPONENTS)
        self.prior = tuple(priors[c] for c in COMPONENTS)
        # `points` of a change `delta` in a component: 100 * weight * delta, left to right.
        self.hundred_weight = tuple(100.0 * weights[c] for c in COMPONENTS)
        self.shown_weight = tuple(round(weights[c], 3) for c in COMPONENTS)
        lam = params.negative_sentiment_factor
        self.prior_mass = params.prior_kept + params.prior_broken
        self.answer_prior_mass = params.prior_answered + params.prior_unanswered
        self.sentiment_prior_sum = params.sentiment_prior_weight * params.sentiment_prior_mean
        self.sentiment_offset = 2 * lam
        self.sentiment_scale = 2 + 2 * lam
        self.prior_rhythm_sum = params.rhythm_prior_weight * params.rhythm_prior_days
        self.recent_days = f"{params.recent_days:g}"
        self.repair_window = f"{params.repair_window_days:g}"
        self.response_hours = f"{params.response_window_hours:g}"


def _constants(params: Params) -> _Constants:
    # Kept on the (frozen) instance itself: its fields, equality and hash are untouched.
    cached = params.__dict__.get("_constants")
    if cached is None:
        cached = params.__dict__["_constants"] = _Constants(params)
    return cached


def _rhythm_days(ev: Evidence, params: Params) -> float:
    """The relationship's usual gap between contacts: the mean gap, shrunk to the prior.

    (last - first) / (count - 1) is the mean gap and needs only MIN, MAX and COUNT; averaging
    it with `rhythm_prior_weight` prior gaps keeps two contacts a day apart from defining a
    daily rhythm.
    """
    span = 0.0
    if ev.first_interaction_at is not None and ev.last_interaction_at is not None:
        span = _age_days(ev.last_interaction_at, ev.first_interaction_at)
    gaps = max(ev.interaction_count - 1, 0)
    rhythm = (params.rhythm_prior_weight * params.rhythm_prior_days + span) / (
        params.rhythm_prior_weight + gaps
    )
    return min(max(rhythm, params.rhythm_min_days), params.rhythm_max_days)


def _priors(params: Params) -> dict[str, float]:
    """Each component's value with no evidence at all."""
    lam = params.negative_sentiment_factor
    return {
        "reliability": params.prior_kept / (params.prior_kept + params.prior_broken),
        "recovery": 1.0,
        "engagement": params.engagement_prior,
        "sentiment": (params.sentiment_prior_mean + 2 * lam) / (2 + 2 * lam),
        "responsiveness": params.prior_answered / (params.prior_answered + params.prior_unanswered),
    }


def _assess(
    ev: Evidence, params: Params
) -> tuple[tuple[float, ...], tuple[float, ...], list[tuple[str, float]], tuple[int, int] | None]:
    """Component values and confidences (in `COMPONENTS` order), the points of each fact, and
    the silence and the usual rhythm in whole days (None without any contact)."""
    k = _constants(params)
    r0, _, e0, _, answer0 = k.prior
    w_rel, w_rec, w_eng, w_sent, w_resp = k.hundred_weight

    # Reliability: Beta posterior mean. Its change from the prior splits exactly by outcome:
    # r - r0 = sum_j m_j (y_j - r0) / total, with m_j the mass and y_j the success share.
    credit = params.kept_late_credit * ev.kept_late_credit
    late = credit + params.kept_late_debit * ev.kept_late_debit
    late_success = credit / late if late else 0.0
    on_time = ev.kept_on_time
    silent = params.severity_silent * ev.silent_breaks
    disclosed = params.severity_disclosed * ev.disclosed_breaks
    overdue = params.severity_silent * ev.overdue_open
    renegotiated = params.severity_renegotiated * ev.renegotiations
    total = k.prior_mass + math.fsum((on_time, late, silent, disclosed, overdue, renegotiated))
    # The successes: on-time keeps (share 1) and late keeps (their credit); every other kind
    # has share 0. Two terms: their float sum is exactly rounded, as `fsum` would round it.
    reliability = (params.prior_kept + (on_time + late * late_success)) / total
    failure = 0.0 - r0
    parts = [
        ("kept_on_time", w_rel * (on_time * (1.0 - r0) / total)),
        ("kept_late", w_rel * (late * (late_success - r0) / total)),
        ("silent", w_rel * (silent * failure / total)),
        ("disclosed", w_rel * (disclosed * failure / total)),
        ("overdue", w_rel * (overdue * failure / total)),
        ("renegotiated", w_rel * (renegotiated * failure / total)),
    ]
    resolved = math.fsum(
        (
            ev.kept_on_time,
            ev.kept_late_credit,
            ev.silent_breaks,
            ev.disclosed_breaks,
            ev.overdue_open,
        )
    )
    promise_confidence = resolved / (resolved + params.promise_confidence_mass)

    # Recovery: fresh breaks not made good halve it at `wound_mass_half`.
    recovery = 1.0 / (1.0 + ev.unrepaired / params.wound_mass_half)
    parts.append(("unrepaired", w_rec * (recovery - 1.0)))

    # Engagement: log-logistic in silence / rhythm, shrunk to the prior by interaction count.
    last = ev.last_interaction_at
    silence_wording = None
    if last is None:
        engagement, engagement_confidence = e0, 0.0
    else:
        silence = max(_age_days(ev.as_of, last), 0.0)
        rhythm = _rhythm_days(ev, params)
        ratio = silence / rhythm
        raw = 1.0 / (1.0 + (ratio / params.silence_ratio_half) ** params.silence_steepness)
        share = ev.interaction_count / (ev.interaction_count + params.engagement_prior_count)
        engagement = e0 + share * (raw - e0)
        engagement_confidence = share
    parts.append(("silence", w_eng * (engagement - e0)))
    if last is not None:
        # The silence and the rhythm in whole days, as the explanation words them.
        silence_wording = (round(silence), round(rhythm))

    # Sentiment: decayed mean with a prior, negatives amplified; mapped linearly onto [0, 1]
    # so that its change splits exactly into the negative and the non-negative interactions.
    lam = params.negative_sentiment_factor
    m0 = params.sentiment_prior_mean
    denom = params.sentiment_prior_weight + ev.sentiment_weight
    scale = k.sentiment_scale
    mean = (k.sentiment_prior_sum + ev.sentiment_positive + lam * ev.sentiment_negative) / denom
    sentiment = (mean + k.sentiment_offset) / scale
    negative_shift = (lam * ev.sentiment_negative - m0 * ev.sentiment_negative_weight) / denom
    other_weight = ev.sentiment_weight - ev.sentiment_negative_weight
    other_shift = (ev.sentiment_positive - m0 * other_weight) / denom
    parts.append(("negative_tone", w_sent * (negative_shift / scale)))
    parts.append(("other_tone", w_sent * (other_shift / scale)))
    sentiment_confidence = ev.sentiment_weight / (
        ev.sentiment_weight + params.interaction_confidence_mass
    )

    # Responsiveness: Beta posterior mean of inbound interactions answered in time.
    responsiveness = (params.prior_answered + ev.inbound_answered) / (
        k.answer_prior_mass + ev.inbound_expected
    )
    parts.append(("responsiveness", w_resp * (responsiveness - answer0)))
    responsiveness_confidence = ev.inbound_expected / (
        ev.inbound_expected + params.interaction_confidence_mass
    )
    values = (reliability, recovery, engagement, sentiment, responsiveness)
    confidences = (
        promise_confidence,
        promise_confidence,
        engagement_confidence,
        sentiment_confidence,
        responsiveness_confidence,
    )
    return values, confidences, parts, silence_wording


def component_values(evidence: Evidence, *, params: Params = DEFAULT_PARAMS) -> dict[str, float]:
    """Each component's value in [0, 1], unrounded (`score` reports them rounded)."""
    return dict(zip(COMPONENTS, _assess(evidence, params)[0], strict=True))


def prior_score(params: Params = DEFAULT_PARAMS) -> float:
    """The unrounded score of an account with no evidence at all."""
    return _weighted(_constants(params).prior, params)


def _weighted(values: tuple[float, ...], params: Params) -> float:
    """100 times the weighted mean of the component values (in `COMPONENTS` order), in [0, 100]."""
    w = _constants(params).weight
    total = 100.0 * math.fsum(
        (w[0] * values[0], w[1] * values[1], w[2] * values[2], w[3] * values[3], w[4] * values[4])
    )
    return min(max(total, 0.0), 100.0)


def raw_score(evidence: Evidence, *, params: Params = DEFAULT_PARAMS) -> float:
    """The unrounded score in [0, 100]; `score` rounds it to one decimal.

    Exposed because the model's orderings (a break costs more than a keep gains, ...) are exact
    on this value, while rounding to one decimal can merge two close scores.
    """
    return _weighted(_assess(evidence, params)[0], params)


def band_of(score_value: float, params: Params = DEFAULT_PARAMS) -> str:
    """The band of a (rounded) score."""
    if score_value >= params.healthy_from:
        return "healthy"
    if score_value >= params.watch_from:
        return "watch"
    return "at_risk"


def _rounded(x: float, digits: int) -> float:
    """`round`, without the "-0.0" that would read as a loss of nothing."""
    return round(x, digits) + 0.0


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _recent(n_recent: int, n_total: int, days: str) -> str:
    if n_recent == n_total:
        return f" in the last {days} days" if n_total else ""
    return f" ({n_recent} in the last {days} days)"


def _wording(
    key: str, points: float, ev: Evidence, k: _Constants, silence: tuple[int, int] | None
) -> str | None:
    """The plain-language fact behind one part of the score, or None when there is none."""
    if key == "kept_on_time" and ev.kept_on_time_count:
        return _plural(ev.kept_on_time_count, "promise") + " kept on time"
    if key == "kept_late" and ev.kept_late_count:
        return _plural(ev.kept_late_count, "promise") + " kept late"
    if key == "silent" and ev.silent_break_count:
        recent = _recent(ev.silent_break_recent_count, ev.silent_break_count, k.recent_days)
        return _plural(ev.silent_break_count, "promise") + " broken silently" + recent
    if key == "disclosed" and ev.disclosed_break_count:
        recent = _recent(ev.disclosed_break_recent_count, ev.disclosed_break_count, k.recent_days)
        return (
            _plural(ev.disclosed_break_count, "promise")
            + " broken, with notice before the due date"
            + recent
        )
    if key == "overdue" and ev.overdue_open_count:
        return _plural(ev.overdue_open_count, "promise") + " overdue and still open"
    if key == "renegotiated" and ev.renegotiation_count:
        return _plural(ev.renegotiation_count, "due date") + " renegotiated"
    if key == "unrepaired" and ev.unrepaired_count:
        return (
            _plural(ev.unrepaired_count, "broken or overdue promise")
            + f" not made good within {k.repair_window} days"
        )
    if key == "silence":
        if silence is None:
            return None
        days, rhythm = silence
        if points < 0:
            return f"no contact for {_plural(days, 'day')}; the usual rhythm is {rhythm}"
        when = "today" if days == 0 else f"{_plural(days, 'day')} ago"
        return f"last contact {when}; the usual rhythm is {rhythm}"
    if key == "negative_tone" and ev.sentiment_negative_count:
        recent = _recent(
            ev.sentiment_negative_recent_count, ev.sentiment_negative_count, k.recent_days
        )
        return (
            _plural(ev.sentiment_negative_count, "interaction") + " with a negative tone" + recent
        )
    if key == "other_tone":
        others = ev.sentiment_count - ev.sentiment_negative_count
        if not others:
            return None
        positive = ev.sentiment_positive_count
        if points >= 0:
            return f"a positive tone in {positive} of {ev.sentiment_count} interactions"
        return f"little warmth: a positive tone in only {positive} of {others} interactions"
    if key == "responsiveness" and ev.inbound_expected_count:
        hours = k.response_hours
        answered, expected = ev.inbound_answered_count, ev.inbound_expected_count
        if points >= 0:
            return f"{answered} of {expected} customer contacts answered within {hours} hours"
        return (
            f"{expected - answered} of {expected} customer contacts"
            f" not answered within {hours} hours"
        )
    return None


def _explanation(
    ev: Evidence,
    parts: list[tuple[str, float]],
    silence: tuple[int, int] | None,
    params: Params,
) -> tuple[Fact, ...]:
    k = _constants(params)
    facts = []
    least = params.explanation_min_effect
    for key, points in parts:
        size = abs(points)
        if size < least:
            continue
        effect = round(points, 1) + 0.0
        if effect == 0:
            continue
        text = _wording(key, points, ev, k, silence)
        if text is not None:
            facts.append((-size, key, Fact(text, effect)))
    # The biggest effect first, ties by key (keys are unique: the facts never compare).
    facts.sort()
    return tuple(f for _, _, f in facts[: params.explanation_size])


def score(evidence: Evidence, *, params: Params = DEFAULT_PARAMS) -> Health:
    """The trust health that `evidence` supports: a pure function of its two arguments."""
    k = _constants(params)
    values, confidences, parts, silence = _assess(evidence, params)
    rounded = round(_weighted(values, params), 1)
    hundred_weight, prior, shown_weight = k.hundred_weight, k.prior, k.shown_weight
    components = {
        c: Component(round(value, 3), weight, round(hundred * (value - value0), 1) + 0.0)
        for c, value, weight, hundred, value0 in zip(
            COMPONENTS, values, shown_weight, hundred_weight, prior, strict=True
        )
    }
    w = k.weight
    confidence = math.fsum(
        (
            w[0] * confidences[0],
            w[1] * confidences[1],
            w[2] * confidences[2],
            w[3] * confidences[3],
            w[4] * confidences[4],
        )
    )
    return Health(
        score=rounded,
        band=band_of(rounded, params),
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        components=components,
        explanation=_explanation(evidence, parts, silence, params),
    )


def health_of(
    promises: Iterable[PromiseRow],
    interactions: Iterable[InteractionRow],
    *,
    as_of: datetime,
    params: Params = DEFAULT_PARAMS,
) -> Health:
    """One account's health from its rows: `score(evidence_from_rows(...))`."""
    evidence = evidence_from_rows(promises, interactions, as_of=as_of, params=params)
    return score(evidence, params=params)


__all__ = [
    "COMPONENTS",
    "DEFAULT_PARAMS",
    "Component",
    "Evidence",
    "Fact",
    "Health",
    "InteractionRow",
    "Params",
    "PromiseRow",
    "band_of",
    "component_values",
    "evidence_from_rows",
    "health_of",
    "prior_score",
    "promise_outcome",
    "raw_score",
    "score",
]
