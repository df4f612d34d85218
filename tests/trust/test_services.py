"""Computing trust health from the database: the SQL evidence, snapshots, stale marks, alerts."""

import math
import random
import threading
from dataclasses import fields, replace
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Account
from accounts.services import mark_health_stale
from interactions.models import Interaction
from interactions.services import refresh_answers
from promises import services as promise_services
from promises.models import Alert, Promise
from relcrm import task_names
from tests.factories import AccountFactory, InteractionFactory, PromiseFactory
from trust import evidence as evidence_sql
from trust import services, snapshots, tasks
from trust.model import (
    Evidence,
    Fact,
    InteractionRow,
    PromiseRow,
    evidence_from_rows,
    health_of,
    score,
)
from trust.models import BulkRecompute, TrustSnapshot

FATES = ["open", "kept", "late", "silent", "disclosed", "released", "future"]


def add_promise(
    account: Account,
    now,
    *,
    fate: str,
    days_back: float,
    due_after: float,
    delay: float,
    repair_after: float | None,
    renegotiated: int,
) -> None:
    """A promise made ``days_back`` days before ``now`` with the given fate (``FATES``).

    ``delay`` (0.01-20 days) places its keep or break around the due time;
    ``repair_after`` the repair of a break, if any.
    """
    created = now - timedelta(days=days_back)
    due = created + timedelta(days=due_after)
    promise = Promise(
        account=account,
        owner=account.owner,
        description="x",
        created_at=created,
        due_at=due,
        renegotiated_count=renegotiated,
    )
    if fate == "future":
        # Made after as_of (a health "as it was" must not see it).
        promise.created_at = now + timedelta(days=1)
    elif fate in ("kept", "late"):
        offset = -min(delay, 5) if fate == "kept" else delay
        # Never delivered before it was promised (promise_kept_after_made).
        promise.status, promise.kept_at = "kept", max(created, due + timedelta(days=offset))
        if fate == "late" and repair_after is not None:
            promise.broken_at = due
    elif fate in ("silent", "disclosed"):
        offset = min(delay, 3) if fate == "silent" else -min(delay, 3)
        promise.status, promise.broken_at = "broken", due + timedelta(days=offset)
        if repair_after is not None:
            promise.repaired_at = promise.broken_at + timedelta(days=repair_after)
    elif fate == "released":
        promise.status, promise.released_at = "released", created + timedelta(days=1)
    promise.save()


def add_interaction(
    account: Account, now, *, direction: str, days_back: float, sentiment: int | None
) -> None:
    Interaction.objects.create(
        account=account,
        logged_by=account.owner,
        kind="call",
        direction=direction,
        occurred_at=now - timedelta(days=days_back),
        sentiment=sentiment,
    )


def random_history(account: Account, rng: random.Random, now) -> None:
    """Promises in every state and interactions of every kind, at random times."""
    for _ in range(rng.randint(0, 25)):
        add_promise(
            account,
            now,
            fate=rng.choice(FATES),
            days_back=rng.uniform(1, 700),
            due_after=rng.uniform(-2, 30),
            delay=rng.uniform(0.01, 20),
            repair_after=rng.uniform(0.1, 30) if rng.random() < 0.5 else None,
            renegotiated=rng.choice([0, 0, 0, 1, 2]),
        )
    for _ in range(rng.randint(0, 40)):
        add_interaction(
            account,
            now,
            direction=rng.choice(["inbound", "outbound"]),
            days_back=rng.uniform(0.01, 500),
            sentiment=rng.choice([None, -2, -1, 0, 1, 2]),
        )
    refresh_answers(account.pk)


def rows_of(account: Account):
    promises = [
        PromiseRow(
            created_at=p.created_at,
            due_at=p.due_at,
            kept_at=p.kept_at,
            broken_at=p.broken_at,
            released_at=p.released_at,
            renegotiated_count=p.renegotiated_count,
            repaired_at=p.repaired_at,
        )
        for p in account.promises.all()
    ]
    interactions = [
        InteractionRow(
            occurred_at=i.occurred_at,
            direction=i.direction,
            sentiment=i.sentiment,
            answered_within_hours=(
                (i.answered_at - i.occurred_at).total_seconds() / 3600 if i.answered_at else None
            ),
        )
        for i in account.interactions.all()
    ]
    return promises, interactions


def assert_same_evidence(sql: Evidence, python: Evidence) -> None:
    for field in fields(Evidence):
        a, b = getattr(sql, field.name), getattr(python, field.name)
        assert type(a) is type(b), (field.name, a, b)
        if isinstance(a, float) or isinstance(b, float):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (field.name, a, b)
        else:
            assert a == b, (field.name, a, b)


@pytest.fixture
def histories(team_a):
    rng = random.Random(20261125)
    now = timezone.now()
    accounts = [AccountFactory(owner=team_a.rep) for _ in range(12)]
    for account in accounts:
        random_history(account, rng, now)
    return accounts, now


a_promise = st.fixed_dictionaries(
    {
        "fate": st.sampled_from(FATES),
        "days_back": st.floats(1, 700),
        "due_after": st.floats(-2, 30),
        "delay": st.floats(0.01, 20),
        "repair_after": st.none() | st.floats(0.1, 30),
        "renegotiated": st.integers(0, 2),
    }
)
an_interaction = st.fixed_dictionaries(
    {
        "direction": st.sampled_from(["inbound", "outbound"]),
        "days_back": st.floats(0.01, 500),
        "sentiment": st.sampled_from([None, -2, -1, 0, 1, 2]),
    }
)
a_history = st.tuples(st.lists(a_promise, max_size=8), st.lists(an_interaction, max_size=10))


@given(st.lists(a_history, min_size=1, max_size=3))
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_sql_aggregates_equal_the_models_python_reference(team_a, generated):
    now = timezone.now()
    with transaction.atomic():  # each example's rows go with it
        accounts = []
        for promises, interactions in generated:
            account = AccountFactory(owner=team_a.rep)
            for promise in promises:
                add_promise(account, now, **promise)
            for interaction in interactions:
                add_interaction(account, now, **interaction)
            refresh_answers(account.pk)
            accounts.append(account)
        params = services.params()
        bulk = evidence_sql.evidence_for([a.pk for a in accounts], as_of=now, params=params)
        for account in accounts:
            promises, interactions = rows_of(account)
            expected = evidence_from_rows(promises, interactions, as_of=now, params=params)
            assert_same_evidence(bulk[account.pk], expected)
        transaction.set_rollback(True)


def test_the_evidence_columns_are_checked_against_evidences_fields():
    columns = [*evidence_sql.PROMISE_COLUMNS, *evidence_sql.INTERACTION_COLUMNS]
    evidence_sql.check_columns(columns)
    with pytest.raises(ImportError, match=r"missing \['unrepaired'\]"):
        evidence_sql.check_columns([c for c in columns if c != "unrepaired"])
    with pytest.raises(ImportError, match=r"unknown \['kept_early'\]"):
        evidence_sql.check_columns([*columns, "kept_early"])
    with pytest.raises(ImportError, match="twice"):
        evidence_sql.check_columns([*columns, "unrepaired"])


def test_bulk_recompute_gives_what_each_account_computed_alone_gives(histories):
    accounts, now = histories
    together = services.health_for([a.pk for a in accounts], as_of=now)
    for account in accounts:
        alone = services.health_for([account.pk], as_of=now)[account.pk]
        assert together[account.pk] == alone
        assert alone.to_dict() == health_of(*rows_of(account), as_of=now).to_dict()


def test_health_as_of_a_past_day_ignores_what_happened_after_it(team_a):
    account = AccountFactory(owner=team_a.rep)
    past = timezone.now() - timedelta(days=30)
    before = services.health_for([account.pk], as_of=past)[account.pk]
    promise = PromiseFactory(account=account, due_at=timezone.now() - timedelta(days=2))
    promise_services.break_promise(promise, by=None)
    assert services.health_for([account.pk], as_of=past)[account.pk] == before
    assert services.health_for([account.pk], as_of=timezone.now())[account.pk].score < before.score


def test_compute_all_writes_a_snapshot_and_the_latest_health_of_every_account(histories):
    accounts, _ = histories
    result = services.compute_trust_health(all_accounts=True, chunk_size=5)
    assert result.accounts == len(accounts) and result.snapshots == len(accounts)
    for account in Account.objects.filter(pk__in=[a.pk for a in accounts]):
        snapshot = TrustSnapshot.objects.get(account=account)
        assert (account.health_score, account.health_band, account.health_confidence) == (
            snapshot.score,
            snapshot.band,
            snapshot.confidence,
        )
        assert 0 <= snapshot.score <= 100 and snapshot.explanation is not None
        assert account.health_stale_at is None


def test_an_unchanged_health_stores_no_new_snapshot(team_a):
    account = AccountFactory(owner=team_a.rep)
    as_of = timezone.now()
    services.compute_account_health(account.pk, as_of=as_of)
    again = services.compute_account_health(account.pk, as_of=as_of)
    assert (again.snapshots, again.unchanged) == (0, 1)
    assert TrustSnapshot.objects.filter(account=account).count() == 1


def test_a_change_to_a_promise_makes_the_account_stale_and_a_recompute_refreshes_it(team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_trust_health()
    assert Account.objects.get(pk=account.pk).health_stale_at is None
    promise = PromiseFactory(account=account)
    promise_services.keep_promise(promise, by=team_a.rep)
    assert Account.objects.get(pk=account.pk).health_stale_at is not None
    before = Account.objects.get(pk=account.pk).health_score
    result = services.compute_trust_health()
    account.refresh_from_db()
    assert result.accounts == 1 and account.health_stale_at is None
    assert account.health_score > before
    assert TrustSnapshot.objects.filter(account=account).count() == 2


@pytest.mark.parametrize("all_accounts", [False, True])
def test_a_write_landing_during_a_recompute_keeps_the_account_stale(
    team_a, monkeypatch, all_accounts
):
    account = AccountFactory(owner=team_a.rep)
    services.compute_trust_health(all_accounts=all_accounts)
    Account.objects.filter(pk=account.pk).update(health_stale_at=timezone.now())
    read_evidence = evidence_sql.evidence_for

    def a_write_lands_after_the_evidence_was_read(account_ids, **kwargs):
        evidence = read_evidence(account_ids, **kwargs)
        mark_health_stale(account.pk)
        return evidence

    monkeypatch.setattr(evidence_sql, "evidence_for", a_write_lands_after_the_evidence_was_read)
    services.compute_trust_health(all_accounts=all_accounts)
    assert Account.objects.get(pk=account.pk).health_stale_at is not None
    monkeypatch.undo()
    services.compute_trust_health(all_accounts=all_accounts)
    assert Account.objects.get(pk=account.pk).health_stale_at is None


def test_the_stale_recompute_leaves_fresh_accounts_alone(team_a):
    fresh, stale = AccountFactory(owner=team_a.rep), AccountFactory(owner=team_a.rep)
    services.compute_trust_health()
    Account.objects.filter(pk=stale.pk).update(health_stale_at=timezone.now())
    result = services.compute_trust_health()
    assert result.accounts == 1
    assert TrustSnapshot.objects.filter(account=fresh).count() == 1


def test_archived_accounts_are_not_recomputed(team_a):
    account = AccountFactory(owner=team_a.rep, archived_at=timezone.now())
    assert services.compute_trust_health(all_accounts=True).accounts == 0
    assert not TrustSnapshot.objects.filter(account=account).exists()


def break_silently(account: Account, count: int) -> None:
    for _ in range(count):
        promise_services.break_promise(
            PromiseFactory(account=account, due_at=timezone.now() - timedelta(hours=1)), by=None
        )


def test_entering_at_risk_raises_one_health_drop_alert_per_entry(team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_account_health(account.pk)
    break_silently(account, 4)
    first = services.compute_account_health(account.pk)
    assert Account.objects.get(pk=account.pk).health_band == "at_risk"
    assert first.alerts == 1
    assert services.compute_account_health(account.pk).alerts == 0
    services.compute_trust_health(all_accounts=True)
    drops = Alert.objects.filter(account=account, kind="health_drop")
    assert drops.count() == 1
    assert drops.get().promise is None and "at risk" in drops.get().detail

    # Recovering and falling again is a new entry, and a new alert.
    for _ in range(25):
        promise_services.keep_promise(PromiseFactory(account=account), by=team_a.rep)
    services.compute_account_health(account.pk)
    assert Account.objects.get(pk=account.pk).health_band != "at_risk"
    break_silently(account, 30)
    services.compute_account_health(account.pk)
    assert drops.count() == 2


def test_the_tasks_run_the_same_code(team_a):
    account = AccountFactory(owner=team_a.rep)
    InteractionFactory(account=account, sentiment=2)
    assert "1 new snapshot" in tasks.compute_account_health.apply(args=[account.pk]).get()
    Account.objects.filter(pk=account.pk).update(health_stale_at=timezone.now())
    assert "1 account(s)" in tasks.compute_trust_health.apply().get()


def test_the_command_prints_what_it_did(team_a, capsys):
    account = AccountFactory(owner=team_a.rep)
    call_command("compute_trust", "--account", str(account.pk))
    assert "Computed the trust health of 1 account(s): 1 new snapshot(s)" in capsys.readouterr().out
    call_command("compute_trust", "--all", "--in-process")
    assert "0 new snapshot(s), 1 unchanged" in capsys.readouterr().out


def test_the_command_runs_every_account_here_when_no_worker_answers(team_a, capsys):
    account = AccountFactory(owner=team_a.rep)
    assert not services.workers_answer()
    call_command("compute_trust", "--all")
    out = capsys.readouterr().out
    assert "Computed the trust health of 1 account(s): 1 new snapshot(s)" in out
    assert "Celery" not in out
    assert TrustSnapshot.objects.filter(account=account).count() == 1


def test_the_command_refuses_an_unknown_account_and_a_naive_time(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active account"):
        call_command("compute_trust", "--account", "999999")
    with pytest.raises(CommandError, match="offset"):
        call_command("compute_trust", "--all", "--as-of", "2026-01-01T00:00:00")


# --- repairs, recorded by the write path for the model's recovery component -------------


def test_keeping_a_promise_made_after_a_break_records_the_repair(team_a):
    account = AccountFactory(owner=team_a.rep)
    broken = promise_services.break_promise(PromiseFactory(account=account), by=None)
    follow_up = PromiseFactory(account=account)
    kept = promise_services.keep_promise(follow_up, by=team_a.rep)
    broken.refresh_from_db()
    assert broken.repaired_at == kept.kept_at


def test_keeping_a_promise_made_before_the_break_is_no_repair(team_a):
    account = AccountFactory(owner=team_a.rep)
    earlier = PromiseFactory(account=account)
    Promise.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=1))
    broken = promise_services.break_promise(PromiseFactory(account=account), by=None)
    promise_services.keep_promise(Promise.objects.get(pk=earlier.pk), by=team_a.rep)
    broken.refresh_from_db()
    assert broken.repaired_at is None


def test_a_positive_outbound_touch_records_the_earliest_repair(team_a):
    account = AccountFactory(owner=team_a.rep)
    broken = promise_services.break_promise(PromiseFactory(account=account), by=None)

    def touch(minutes_from_now, sentiment, direction="outbound"):
        promise_services.log_interaction(
            account=account,
            logged_by=team_a.rep,
            kind="call",
            direction=direction,
            occurred_at=timezone.now() + timedelta(minutes=minutes_from_now),
            sentiment=sentiment,
        )

    touch(0, -1)
    touch(0, 2, direction="inbound")
    broken.refresh_from_db()
    assert broken.repaired_at is None
    touch(0, 1)
    broken.refresh_from_db()
    first = broken.repaired_at
    assert first is not None
    touch(0, 2)
    broken.refresh_from_db()
    assert broken.repaired_at == first


def test_a_prompt_repair_softens_a_break(team_a):
    repaired, left = AccountFactory(owner=team_a.rep), AccountFactory(owner=team_a.rep)
    for account in (repaired, left):
        promise_services.break_promise(PromiseFactory(account=account), by=None)
    promise_services.log_interaction(
        account=repaired,
        logged_by=team_a.rep,
        kind="call",
        direction="outbound",
        occurred_at=timezone.now(),
        sentiment=1,
    )
    promise_services.log_interaction(
        account=left,
        logged_by=team_a.rep,
        kind="call",
        direction="outbound",
        occurred_at=timezone.now(),
        sentiment=0,
    )
    health = services.health_for([repaired.pk, left.pk], as_of=timezone.now())
    assert (
        health[repaired.pk].components["recovery"].value
        > health[left.pk].components["recovery"].value
    )


def test_the_recompute_works_with_the_debug_cursor_on(team_a, settings):
    """``make run`` serves with DEBUG=1, where Django quotes every query parameter."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = AccountFactory(owner=team_a.rep)
    PromiseFactory(account=account)
    with CaptureQueriesContext(connection) as queries:
        result = services.compute_account_health(account.pk)
    assert result.snapshots == 1
    # The aggregates bind on the server, past Django's (quoting) cursor.
    assert not any("GROUP BY account_id" in query["sql"] for query in queries.captured_queries)


def assert_stored_as_computed_alone(accounts, now, *, skip=()) -> None:
    """Each account's latest snapshot and health equal what computing it alone gives."""
    for account in accounts:
        stored = TrustSnapshot.objects.filter(account=account).first()
        if account.pk in skip:
            assert stored is None
            continue
        assert stored is not None
        alone = services.health_for([account.pk], as_of=now)[account.pk]
        shown = alone.to_dict()
        assert (stored.score, stored.band, stored.confidence) == (
            shown["score"],
            shown["band"],
            shown["confidence"],
        )
        assert (stored.components, stored.explanation) == (
            shown["components"],
            shown["explanation"],
        )
        assert Account.objects.get(pk=account.pk).health_digest == services.digest(alone)


@pytest.mark.parametrize(
    "committed",
    [
        pytest.param(False, id="in-a-transaction"),
        # Outside a transaction each chunk is read ahead, on a second connection.
        pytest.param(True, id="read-ahead", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_the_recompute_of_all_accounts_equals_each_account_alone(
    histories, team_a, monkeypatch, committed
):
    accounts, now = histories
    # An archived account between the others: the chunk's range must skip its rows.
    archived = accounts[5]
    Account.objects.filter(pk=archived.pk).update(archived_at=now)
    readers = set()
    read = services._read

    def spied(*args, **kwargs):
        readers.add(threading.current_thread().name)
        return read(*args, **kwargs)

    monkeypatch.setattr(services, "_read", spied)
    result = services.compute_trust_health(all_accounts=True, as_of=now, chunk_size=4)
    assert result.accounts == result.snapshots == len(accounts) - 1
    assert readers == ({"trust-read-ahead"} if committed else {threading.current_thread().name})
    assert_stored_as_computed_alone(accounts, now, skip={archived.pk})
    run = BulkRecompute.objects.get()
    assert (run.chunks, sorted(run.chunks_done), run.accounts) == (3, [0, 1, 2], len(accounts) - 1)
    assert run.finished_at is not None


def test_a_chunk_delivered_twice_is_counted_once_and_the_last_one_finishes_the_run(
    histories, monkeypatch
):
    accounts, now = histories
    sent = []
    monkeypatch.setattr(services.task_queue, "send", lambda *args: sent.append(args) or True)
    run, ranges = services._plan(now, chunk_size=5)
    assert [first for first, _ in ranges] == [accounts[0].pk, accounts[5].pk, accounts[10].pk]
    for index in (0, 0, 2):
        services.compute_bulk_chunk(run.pk, index, *ranges[index])
    run.refresh_from_db()
    assert (run.chunks_done, run.accounts, sent) == ([0, 2], 7, [])
    again = services.compute_bulk_chunk(run.pk, 1, *ranges[1])
    run.refresh_from_db()
    assert again.snapshots == 5 and run.accounts == run.snapshots == len(accounts)
    assert sent == [(task_names.FINISH_TRUST_RECOMPUTE, run.pk)]
    assert run.finished_at is None  # the finishing task's work
    assert "12 account(s)" in tasks.finish_trust_recompute.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert run.finished_at is not None
    assert_stored_as_computed_alone(accounts, now)


def test_a_run_is_finished_here_when_the_broker_is_away(histories, monkeypatch):
    _, now = histories
    monkeypatch.setattr(services.task_queue, "send", lambda *args: False)
    run, ranges = services._plan(now, chunk_size=20)
    services.compute_bulk_chunk(run.pk, 0, *ranges[0])
    run.refresh_from_db()
    assert run.finished_at is not None


def _commit_settings(account_id: int) -> list[str]:
    """The synchronous_commit settings one recompute of the account issued (on Django's cursor)."""
    with CaptureQueriesContext(connection) as captured:
        services.compute_account_health(account_id)
    return [q["sql"] for q in captured.captured_queries if "synchronous_commit" in q["sql"]]


def test_a_recompute_in_a_callers_transaction_keeps_its_commit_durable(team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_account_health(account.pk)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_a_recompute_that_raises_an_alert_waits_for_its_commit(team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_account_health(account.pk)
    assert _commit_settings(account.pk) == []  # nothing to alert: derived data only
    break_silently(account, 4)
    assert _commit_settings(account.pk) == ["SET LOCAL synchronous_commit = on"]
    assert Alert.objects.filter(account=account, kind="health_drop").count() == 1


def test_a_snapshot_stores_any_text_of_its_explanation_as_written(team_a):
    account = AccountFactory(owner=team_a.rep)
    services.compute_account_health(account.pk)
    stored = TrustSnapshot.objects.get(account=account)
    text = 'a "quoted" back\\slash, a tab\there, a new\nline, €, and \\N'
    health = replace(
        score(evidence_from_rows([], [], as_of=stored.as_of)),
        explanation=(Fact(text, -1.5), Fact("plain", 0.5)),
    )
    row = snapshots.SnapshotRow(account.pk, health, stored.band, None)
    with transaction.atomic():
        snapshots.insert_snapshots([row], as_of=stored.as_of, computed_at=stored.computed_at)
    latest = TrustSnapshot.objects.filter(account=account).order_by("-id").first()
    assert latest.pk != stored.pk
    assert latest.explanation == [{"text": text, "effect": -1.5}, {"text": "plain", "effect": 0.5}]
    assert latest.components == health.to_dict()["components"]
    assert (latest.score, latest.band, latest.confidence) == (
        health.score,
        health.band,
        health.confidence,
    )
