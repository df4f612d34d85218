"""The trust model's promises (trust/MODEL.md, "The nine properties"), one property-based test each.

The model is pure Python: these tests need no database. Strict orderings are checked on the
unrounded `raw_score`, since rounding to one decimal may merge two close scores; the rounded
`Health.score` is checked where an ordering only has to hold loosely.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from trust.model import (
    COMPONENTS,
    DEFAULT_PARAMS,
    Evidence,
    InteractionRow,
    Params,
    PromiseRow,
    component_values,
    evidence_from_rows,
    health_of,
    prior_score,
    promise_outcome,
    raw_score,
    score,
)

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = 3600
DAY = 24 * HOUR
# No example database: every run explores afresh, and a failure prints the example it found.
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- strategies ------------------------------------------------------------------------------

OUTCOMES = (
    "open",
    "on_time",
    "late",
    "silent",
    "silent_then_late",
    "disclosed",
    "disclosed_then_late",
    "disclosed_then_kept_by_due",
    "released",
)
MOSTLY_KEPT = ("on_time",) * 6 + ("late", "silent", "disclosed", "open", "released")


def seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


@st.composite
def promise_rows(draw: st.DrawFn, outcomes: tuple[str, ...] = OUTCOMES) -> PromiseRow:
    """A promise as the write path records it, made up to two years before AS_OF.

    Some are made, kept or broken after AS_OF: the model must ignore what had not happened yet.
    """
    created = AS_OF - seconds(draw(st.integers(-10 * DAY, 730 * DAY)))
    lead = draw(st.integers(HOUR, 60 * DAY))
    due = created + seconds(lead)
    outcome = draw(st.sampled_from(outcomes))
    kept = broken = released = repaired = None
    if outcome == "on_time":
        kept = created + seconds(draw(st.integers(0, lead)))
    elif outcome == "late":
        kept = due + seconds(draw(st.integers(1, 30 * DAY)))
    elif outcome in ("silent", "silent_then_late"):
        broken = due + seconds(draw(st.integers(0, 3 * DAY)))
    elif outcome.startswith("disclosed"):
        broken = created + seconds(draw(st.integers(0, lead - 1)))
    elif outcome == "released":
        released = created + seconds(draw(st.integers(0, lead)))
    if broken is not None and outcome.endswith("_then_late"):
        kept = max(broken, due) + seconds(draw(st.integers(1, 30 * DAY)))
    elif broken is not None and outcome.endswith("_kept_by_due"):
        kept = broken + seconds(draw(st.integers(0, int((due - broken).total_seconds()))))
    elif broken is not None and draw(st.booleans()):
        repaired = broken + seconds(draw(st.integers(0, 30 * DAY)))
    return PromiseRow(
        created_at=created,
        due_at=due,
        kept_at=kept,
        broken_at=broken,
        released_at=released,
        renegotiated_count=draw(st.integers(0, 2)),
        repaired_at=repaired,
    )


@st.composite
def interaction_rows(draw: st.DrawFn) -> InteractionRow:
    """An interaction up to two years before AS_OF (a few after it)."""
    direction = draw(st.sampled_from(("inbound", "outbound")))
    answered = None
    if direction == "inbound":
        answered = draw(st.none() | st.floats(0, 200, allow_nan=False))
    return InteractionRow(
        occurred_at=AS_OF - seconds(draw(st.integers(-5 * DAY, 730 * DAY))),
        direction=direction,
        sentiment=draw(st.none() | st.integers(-2, 2)),
        answered_within_hours=answered,
    )


promise_histories = st.lists(promise_rows(), max_size=40)
interaction_histories = st.lists(interaction_rows(), max_size=80)
mostly_kept_histories = st.lists(promise_rows(MOSTLY_KEPT), max_size=40)


def scored(promises: list[PromiseRow], interactions: list[InteractionRow]) -> float:
    """The unrounded score of one history as of AS_OF."""
    return raw_score(evidence_from_rows(promises, interactions, as_of=AS_OF))


@st.composite
def resolution(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """(created_at, resolved_at) of an extra promise, both at or before AS_OF."""
    created = AS_OF - seconds(draw(st.integers(2 * DAY, 700 * DAY)))
    resolved = created + seconds(draw(st.integers(0, int((AS_OF - created).total_seconds()))))
    return created, resolved


# --- the nine properties ---------------------------------------------------------------------


@PROPERTY
@given(
    as_of_shift=st.integers(0, 3650),
    future_promises=st.lists(promise_rows(), max_size=5),
    future_interactions=st.lists(interaction_rows(), max_size=5),
)
def test_1_no_evidence_gives_the_slightly_positive_prior_with_low_confidence(
    as_of_shift, future_promises, future_interactions
):
    # Rows made entirely after as_of are no evidence yet either.
    as_of = AS_OF - timedelta(days=731 + as_of_shift)
    health = health_of(future_promises, future_interactions, as_of=as_of)

    assert health.score == round(prior_score(), 1)
    assert 60 <= health.score < 70, "the prior should lean positive but not be 'healthy'"
    assert health.band == "watch"
    assert health.confidence < 0.2
    assert health.explanation == ()
    assert all(c.points == 0 for c in health.components.values())


@PROPERTY
@given(
    promises=promise_histories,
    interactions=interaction_histories,
    made=resolution(),
    due_days=st.integers(1, 60),
    repaired=st.booleans(),
)
def test_2_keeping_never_lowers_the_score_and_breaking_never_raises_it(
    promises, interactions, made, due_days, repaired
):
    created, at = made
    # Not yet due: keeping is on time, breaking is a disclosed break.
    due = AS_OF + timedelta(days=due_days)
    open_ = scored([*promises, PromiseRow(created, due)], interactions)
    kept = scored([*promises, PromiseRow(created, due, kept_at=at)], interactions)
    broken = PromiseRow(created, due, broken_at=at, repaired_at=at if repaired else None)
    assert kept > open_ > scored([*promises, broken], interactions)

    # Already due (open means overdue): the sweep's silent break never raises the score, and
    # keeping it, on time or late, never lowers it. (An overdue promise counts as a silent
    # break from its due time, not yet made good, so that the sweep itself moves nothing.)
    due = min(at, AS_OF - seconds(1))  # past due at AS_OF, so that open is overdue
    overdue = scored([*promises, PromiseRow(created, due)], interactions)
    swept = PromiseRow(created, due, broken_at=AS_OF)
    assert scored([*promises, swept], interactions) <= overdue
    assert scored([*promises, PromiseRow(created, due, kept_at=due)], interactions) > overdue
    late = PromiseRow(created, due, kept_at=AS_OF, broken_at=due)
    assert scored([*promises, late], interactions) >= overdue

    # Rounding to one decimal keeps the order, if not always the gap.
    not_due = AS_OF + timedelta(days=due_days)
    open_health = health_of([*promises, PromiseRow(created, not_due)], interactions, as_of=AS_OF)
    kept_health = health_of(
        [*promises, PromiseRow(created, not_due, kept_at=at)], interactions, as_of=AS_OF
    )
    assert kept_health.score >= open_health.score


@PROPERTY
@given(
    promises=mostly_kept_histories,
    interactions=interaction_histories,
    made=resolution(),
)
def test_3_breaking_a_promise_costs_more_than_keeping_one_gains(promises, interactions, made):
    # Holds whenever our record is at least even (reliability >= 0.5: every fresh relationship
    # and every one we mostly keep our word to); see MODEL.md for why a Beta estimate cannot
    # promise it for a relationship that is already mostly broken promises.
    assume(component_values(evidence_from_rows(promises, [], as_of=AS_OF))["reliability"] >= 0.5)
    created, at = made
    base = scored(promises, interactions)  # an open promise not yet due adds nothing

    later = AS_OF + timedelta(days=7)
    gain = scored([*promises, PromiseRow(created, later, kept_at=at)], interactions) - base
    disclosed = PromiseRow(created, later, broken_at=at)
    assert base - scored([*promises, disclosed], interactions) > gain > 0

    # A silent break at the due time against a keep at that same instant.
    gain = scored([*promises, PromiseRow(created, at, kept_at=at)], interactions) - base
    silent = PromiseRow(created, at, broken_at=at)
    assert base - scored([*promises, silent], interactions) > gain > 0


@PROPERTY
@given(
    promises=promise_histories,
    interactions=interaction_histories,
    created_days_ago=st.integers(3, 700),
    data=st.data(),
    repaired=st.booleans(),
)
def test_4_disclosed_break_costs_less_than_silent_renegotiation_less_release_nothing(
    promises, interactions, created_days_ago, data, repaired
):
    created = AS_OF - timedelta(days=created_days_ago)
    span = int((AS_OF - created).total_seconds())
    due = created + seconds(data.draw(st.integers(HOUR, span)))
    silent_at = due + seconds(data.draw(st.integers(0, int((AS_OF - due).total_seconds()))))
    disclosed_at = created + seconds(
        data.draw(st.integers(0, int((due - created).total_seconds()) - 1))
    )

    def broken(at: datetime) -> PromiseRow:
        return PromiseRow(created, due, broken_at=at, repaired_at=at if repaired else None)

    silent = scored([*promises, broken(silent_at)], interactions)
    disclosed = scored([*promises, broken(disclosed_at)], interactions)
    new_due = AS_OF + timedelta(days=data.draw(st.integers(1, 30)))
    renegotiated = scored(
        [*promises, PromiseRow(created, new_due, renegotiated_count=1)], interactions
    )
    nothing = scored(promises, interactions)
    released_at = created + seconds(data.draw(st.integers(0, span)))
    released = scored([*promises, PromiseRow(created, due, released_at=released_at)], interactions)

    assert silent < disclosed < renegotiated < nothing
    assert released == nothing


@PROPERTY
@given(
    promises=promise_histories,
    interactions=interaction_histories,
    made=resolution(),
    data=st.data(),
)
def test_5_kept_late_is_better_than_broken_and_worse_than_kept_on_time(
    promises, interactions, made, data
):
    created, kept_at = made
    assume(kept_at > created)
    due = created + seconds(data.draw(st.integers(0, int((kept_at - created).total_seconds()) - 1)))
    how = data.draw(st.sampled_from(("swept", "disclosed", "not_broken")))
    if how == "swept":
        broken_at = due + seconds(data.draw(st.integers(0, int((kept_at - due).total_seconds()))))
    elif how == "disclosed":
        assume(due > created)
        broken_at = created + seconds(
            data.draw(st.integers(0, int((due - created).total_seconds()) - 1))
        )
    else:
        broken_at = None

    on_time = scored([*promises, PromiseRow(created, kept_at, kept_at=kept_at)], interactions)
    late = scored(
        [*promises, PromiseRow(created, due, kept_at=kept_at, broken_at=broken_at)], interactions
    )
    never = PromiseRow(created, due, broken_at=due if broken_at is None else broken_at)
    assert on_time > late > scored([*promises, never], interactions)


@PROPERTY
@given(
    promises=promise_histories,
    interactions=interaction_histories,
    kind=st.sampled_from(("kept", "silent", "disclosed")),
    sentiment=st.integers(-2, 2),
)
def test_6_evidence_fades_the_same_event_weighs_less_a_year_on(
    promises, interactions, kind, sentiment
):
    def event(at: datetime) -> PromiseRow:
        created = at - timedelta(days=10)
        if kind == "kept":
            return PromiseRow(created, at + timedelta(days=3), kept_at=at)
        if kind == "silent":
            return PromiseRow(created, at, broken_at=at)
        return PromiseRow(created, at + timedelta(days=3), broken_at=at)  # disclosed

    yesterday = AS_OF - timedelta(days=1)
    year_ago = yesterday - timedelta(days=365)
    base = scored(promises, interactions)
    fresh = scored([*promises, event(yesterday)], interactions) - base
    old = scored([*promises, event(year_ago)], interactions) - base
    assert abs(old) < abs(fresh)
    assert math.copysign(1, old) == math.copysign(1, fresh)

    def tone(rows: list[InteractionRow]) -> float:
        return component_values(evidence_from_rows([], rows, as_of=AS_OF))["sentiment"]

    without = tone(interactions)
    fresh_tone = tone([*interactions, InteractionRow(yesterday, "outbound", sentiment)]) - without
    old_tone = tone([*interactions, InteractionRow(year_ago, "outbound", sentiment)]) - without
    assert abs(old_tone) <= abs(fresh_tone)


@PROPERTY
@given(
    promises=promise_histories,
    interactions=st.lists(interaction_rows(), min_size=1, max_size=80),
    data=st.data(),
)
def test_7_more_negative_sentiment_never_raises_the_score(promises, interactions, data):
    recorded = [i for i, row in enumerate(interactions) if row.sentiment is not None]
    assume(recorded)
    index = data.draw(st.sampled_from(recorded))
    row = interactions[index]
    assert row.sentiment is not None
    worse = list(interactions)
    worse[index] = dataclasses.replace(row, sentiment=data.draw(st.integers(-2, row.sentiment)))

    assert scored(promises, worse) <= scored(promises, interactions)
    worse_health = health_of(promises, worse, as_of=AS_OF)
    assert worse_health.score <= health_of(promises, interactions, as_of=AS_OF).score


@PROPERTY
@given(
    promises=promise_histories,
    interactions=st.lists(interaction_rows(), min_size=1, max_size=80),
    data=st.data(),
)
def test_8_going_quiet_for_much_longer_than_the_usual_rhythm_lowers_the_score(
    promises, interactions, data
):
    evidence = evidence_from_rows(promises, interactions, as_of=AS_OF)
    assume(evidence.last_interaction_at is not None)
    # The same history with a contact an hour ago is the relationship that did not go quiet.
    in_touch = [*interactions, InteractionRow(AS_OF - timedelta(hours=1), "outbound")]
    silence = (AS_OF - evidence.last_interaction_at) / timedelta(days=1)
    if silence > DEFAULT_PARAMS.silence_ratio_half * rhythm_of(evidence):
        assert scored(promises, interactions) < scored(promises, in_touch)
    else:
        assert scored(promises, interactions) <= scored(promises, in_touch)

    # And the longer the silence, everything else equal, the lower the score.
    assert evidence.first_interaction_at is not None
    span = int((evidence.last_interaction_at - evidence.first_interaction_at).total_seconds())
    earlier = evidence.last_interaction_at - seconds(data.draw(st.integers(0, span)))
    quieter = dataclasses.replace(evidence, last_interaction_at=earlier)
    assert raw_score(quieter) <= raw_score(evidence)


def rhythm_of(evidence: Evidence) -> float:
    """The usual gap as MODEL.md defines it (restated here so the test checks the formula)."""
    p = DEFAULT_PARAMS
    assert evidence.first_interaction_at is not None
    assert evidence.last_interaction_at is not None
    span = (evidence.last_interaction_at - evidence.first_interaction_at) / timedelta(days=1)
    gaps = evidence.interaction_count - 1
    rhythm = (p.rhythm_prior_weight * p.rhythm_prior_days + span) / (p.rhythm_prior_weight + gaps)
    return min(max(rhythm, p.rhythm_min_days), p.rhythm_max_days)


@PROPERTY
@given(promises=promise_histories, interactions=interaction_histories, seed=st.integers())
def test_9_deterministic_bounded_order_independent_and_pure(promises, interactions, seed):
    evidence = evidence_from_rows(promises, interactions, as_of=AS_OF)
    shuffled_promises, shuffled_interactions = list(promises), list(interactions)
    random.Random(seed).shuffle(shuffled_promises)
    random.Random(seed).shuffle(shuffled_interactions)
    # Exactly equal, not merely close: the decayed sums are exactly rounded (math.fsum).
    assert evidence_from_rows(shuffled_promises, shuffled_interactions, as_of=AS_OF) == evidence

    health = score(evidence)
    assert score(evidence) == health
    assert evidence == evidence_from_rows(promises, interactions, as_of=AS_OF)
    assert health_of(promises, interactions, as_of=AS_OF) == health

    assert 0 <= health.score <= 100
    assert health.score == round(raw_score(evidence), 1)
    assert health.band == (
        "healthy" if health.score >= 70 else "watch" if health.score >= 40 else "at_risk"
    )
    assert 0 <= health.confidence <= 1
    assert set(health.components) == set(COMPONENTS)
    assert all(0 <= c.value <= 1 for c in health.components.values())
    points = sum(c.points for c in health.components.values())
    assert points == pytest.approx(raw_score(evidence) - prior_score(), abs=0.05 * len(COMPONENTS))
    assert len(health.explanation) <= DEFAULT_PARAMS.explanation_size
    effects = [abs(f.effect) for f in health.explanation]
    assert effects == sorted(effects, reverse=True)
    assert json.loads(json.dumps(health.to_dict())) == health.to_dict()

    # Rows and events after as_of have not happened yet: removing them changes nothing.
    earlier = AS_OF - timedelta(days=30)
    assert evidence_from_rows(promises, interactions, as_of=earlier) == evidence_from_rows(
        [as_it_was(p, earlier) for p in promises if p.created_at <= earlier],
        [i for i in interactions if i.occurred_at <= earlier],
        as_of=earlier,
    )


def as_it_was(row: PromiseRow, when: datetime) -> PromiseRow:
    """The promise row as the database held it at `when`."""

    def by(at: datetime | None) -> datetime | None:
        return at if at is not None and at <= when else None

    return dataclasses.replace(
        row,
        kept_at=by(row.kept_at),
        broken_at=by(row.broken_at),
        released_at=by(row.released_at),
        repaired_at=by(row.repaired_at),
    )


# --- unit tests ------------------------------------------------------------------------------


def test_decay_rate_halves_the_weight_every_half_life():
    rate = DEFAULT_PARAMS.decay_per_day(DEFAULT_PARAMS.promise_half_life_days)
    assert math.exp(-rate * DEFAULT_PARAMS.promise_half_life_days) == pytest.approx(0.5)


def test_a_worked_example_of_the_aggregates_the_sql_must_reproduce():
    year = timedelta(days=DEFAULT_PARAMS.promise_half_life_days)
    promises = [
        # Kept on time exactly one promise half-life ago: weighs 0.5.
        PromiseRow(AS_OF - year - timedelta(days=5), AS_OF - year, kept_at=AS_OF - year),
        # Swept silently today, renegotiated once when made ten days ago.
        PromiseRow(AS_OF - timedelta(days=10), AS_OF, broken_at=AS_OF, renegotiated_count=1),
        # Overdue, not swept yet.
        PromiseRow(AS_OF - timedelta(days=3), AS_OF - timedelta(days=1)),
        # Kept after as_of: as of as_of it was still open and not due.
        PromiseRow(
            AS_OF - timedelta(days=1), AS_OF + timedelta(days=1), kept_at=AS_OF + timedelta(hours=1)
        ),
    ]
    inbound = InteractionRow(AS_OF - timedelta(days=4), "inbound", -1, answered_within_hours=2.0)
    outbound = InteractionRow(AS_OF - timedelta(days=2), "outbound", 2)
    evidence = evidence_from_rows(promises, [inbound, outbound], as_of=AS_OF)

    p = DEFAULT_PARAMS

    def di(days: float) -> float:
        return math.exp(-p.decay_per_day(p.interaction_half_life_days) * days)

    assert evidence.kept_on_time == pytest.approx(0.5)
    assert evidence.kept_on_time_count == 1
    assert evidence.silent_breaks == pytest.approx(1.0)
    assert evidence.silent_break_recent_count == 1
    assert evidence.overdue_open == pytest.approx(
        math.exp(-p.decay_per_day(p.promise_half_life_days))
    )
    assert evidence.unrepaired_count == 2
    assert evidence.renegotiations == pytest.approx(
        math.exp(-p.decay_per_day(p.promise_half_life_days) * 10)
    )
    assert evidence.renegotiation_count == 1
    assert evidence.interaction_count == 2
    assert evidence.first_interaction_at == inbound.occurred_at
    assert evidence.last_interaction_at == outbound.occurred_at
    assert evidence.sentiment_weight == pytest.approx(di(4) + di(2))
    assert evidence.sentiment_negative == pytest.approx(-di(4))
    assert evidence.sentiment_positive == pytest.approx(2 * di(2))
    assert evidence.inbound_answered == pytest.approx(di(4))
    assert evidence.inbound_expected == pytest.approx(di(4))
    assert promise_outcome(promises[3], AS_OF) == "open"


def test_a_promise_kept_after_it_broke_is_kept_late_even_by_its_due_time():
    due = AS_OF - timedelta(days=1)
    disclosed_then_delivered = PromiseRow(
        AS_OF - timedelta(days=5),
        due,
        broken_at=due - timedelta(days=2),
        kept_at=due - timedelta(hours=1),
    )
    assert promise_outcome(disclosed_then_delivered, AS_OF) == "late"
    evidence = evidence_from_rows([disclosed_then_delivered], [], as_of=AS_OF)
    assert (evidence.kept_on_time_count, evidence.kept_late_count) == (0, 1)


def test_explanation_names_the_facts_in_plain_words_with_their_points():
    day = timedelta(days=1)
    promises = [
        PromiseRow(AS_OF - 40 * day, AS_OF - 30 * day, broken_at=AS_OF - 30 * day),
        PromiseRow(AS_OF - 70 * day, AS_OF - 60 * day, broken_at=AS_OF - 60 * day),
        *(
            PromiseRow(
                AS_OF - (200 + 10 * k) * day,
                AS_OF - (190 + 10 * k) * day,
                kept_at=AS_OF - (195 + 10 * k) * day,
            )
            for k in range(6)
        ),
    ]
    every_two_weeks = [InteractionRow(AS_OF - (45 + 14 * k) * day, "outbound") for k in range(20)]
    health = health_of(promises, every_two_weeks, as_of=AS_OF)
    effects = {f.text: f.effect for f in health.explanation}

    assert health.explanation[0].text == "2 promises broken silently in the last 90 days"
    assert effects["2 promises broken silently in the last 90 days"] < -10
    assert effects["6 promises kept on time"] > 0
    assert effects["2 broken or overdue promises not made good within 14 days"] < 0
    # The rhythm is the mean gap (14 days) averaged with one prior gap of 30 days.
    assert effects["no contact for 45 days; the usual rhythm is 15"] < -2
    total = sum(f.effect for f in health.explanation)
    assert total == pytest.approx(health.score - prior_score(), abs=0.5)


def test_a_repaired_break_costs_less_than_one_left_unrepaired():
    broken_at = AS_OF - timedelta(days=20)

    def with_repair(repaired_at: datetime | None) -> float:
        return scored(
            [
                PromiseRow(
                    broken_at - timedelta(days=5),
                    broken_at,
                    broken_at=broken_at,
                    repaired_at=repaired_at,
                )
            ],
            [],
        )

    in_time = with_repair(broken_at + timedelta(days=3))
    too_late = with_repair(broken_at + timedelta(days=DEFAULT_PARAMS.repair_window_days + 1))
    unrepaired = with_repair(None)
    assert unrepaired == too_late < in_time < scored([], [])


def test_a_repair_after_as_of_has_not_happened_yet():
    broken_at = AS_OF - timedelta(days=2)
    row = PromiseRow(
        broken_at - timedelta(days=5),
        broken_at,
        broken_at=broken_at,
        repaired_at=AS_OF + timedelta(days=1),
    )
    assert scored([row], []) == scored([dataclasses.replace(row, repaired_at=None)], [])


def test_unanswered_inbound_contacts_lower_responsiveness_once_the_window_has_passed():
    asked = AS_OF - timedelta(days=10)
    answered = InteractionRow(asked, "inbound", answered_within_hours=5)
    ignored = InteractionRow(asked, "inbound")
    pending = InteractionRow(AS_OF - timedelta(hours=2), "inbound")

    def responsiveness(rows: list[InteractionRow]) -> float:
        return component_values(evidence_from_rows([], rows, as_of=AS_OF))["responsiveness"]

    assert responsiveness([answered]) > responsiveness([]) > responsiveness([ignored])
    assert responsiveness([pending]) == responsiveness([]), "still within the window"


def test_the_rhythm_is_bounded():
    burst = [InteractionRow(AS_OF - timedelta(minutes=m), "outbound") for m in range(1, 200)]
    assert rhythm_of(evidence_from_rows([], burst, as_of=AS_OF)) == DEFAULT_PARAMS.rhythm_min_days


def test_when_breaks_dominate_a_keep_can_gain_more_than_a_break_costs():
    # The documented limit of property 3 (MODEL.md): a Beta estimate of a mostly-broken record
    # moves more on a keep than on one more break. This pins the behaviour so that a change to
    # it is deliberate.
    history = [
        PromiseRow(
            AS_OF - timedelta(days=20 + k),
            AS_OF - timedelta(days=10 + k),
            broken_at=AS_OF - timedelta(days=10 + k),
            repaired_at=AS_OF - timedelta(days=9 + k),
        )
        for k in range(10)
    ]
    made, at = AS_OF - timedelta(days=5), AS_OF - timedelta(days=1)
    later = AS_OF + timedelta(days=3)
    base = scored(history, [])
    gain = scored([*history, PromiseRow(made, later, kept_at=at)], []) - base
    repaired = PromiseRow(made, later, broken_at=at, repaired_at=at)
    cost = base - scored([*history, repaired], [])
    assert gain > cost > 0


@pytest.mark.parametrize(
    "change",
    [
        {"severity_disclosed": 3.0},
        {"severity_renegotiated": 2.0},
        {"severity_disclosed": 1.0},
        {"kept_late_debit": 2.0},
        {"weight_reliability": 0.0},
        {"promise_half_life_days": 0.0},
        {"watch_from": 80.0},
    ],
)
def test_params_that_would_break_a_property_are_refused(change):
    with pytest.raises(ValueError):
        Params(**change)
