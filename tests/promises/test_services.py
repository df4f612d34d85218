"""promises.services: the rules every caller (API, web UI, admin, jobs) goes through."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from interactions.models import Interaction
from promises import services
from promises.models import Alert, Promise, PromiseEvent
from relcrm import task_names
from relcrm.errors import TransitionNotAllowed
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
)
from trust import tasks as trust_tasks


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


def written() -> tuple:
    return (Interaction.objects.count(), Promise.objects.count(), PromiseEvent.objects.count())


def log(account, **overrides):
    fields = {
        "account": account,
        "logged_by": account.owner,
        "kind": "call",
        "direction": "outbound",
        "occurred_at": timezone.now() - timedelta(minutes=5),
        **overrides,
    }
    return services.log_interaction(**fields)


def due(days=3):
    return timezone.now() + timedelta(days=days)


# --- logging an interaction -------------------------------------------------------------


def test_log_interaction_writes_the_interaction_its_promises_and_their_events(account):
    interaction, created = log(
        account,
        promises=[
            {"description": "Quote", "due_at": due()},
            {"description": "Demo", "due_at": due()},
        ],
    )
    assert created is True
    assert [p.owner for p in interaction.promises.all()] == [account.owner, account.owner]
    assert written() == (1, 2, 2)


def test_a_promise_to_another_accounts_contact_names_the_promise_and_writes_nothing(
    team_a, account
):
    elsewhere = ContactFactory(account=AccountFactory(owner=team_a.rep))
    with pytest.raises(ValidationError) as error:
        log(
            account,
            promises=[
                {"description": "Fine", "due_at": due()},
                {"description": "Wrong person", "due_at": due(), "contact": elsewhere},
            ],
        )
    assert error.value.message_dict == {
        "promises": ["Promise 2: This contact belongs to another account."]
    }
    assert written() == (0, 0, 0)


def test_a_promise_failing_after_the_interaction_was_written_rolls_everything_back(account):
    with pytest.raises(ValidationError):
        log(
            account,
            promises=[
                {"description": "Fine", "due_at": due()},
                {"description": "   ", "due_at": due()},
            ],
        )
    assert written() == (0, 0, 0)
    assert Account.objects.get(pk=account.pk).health_stale_at is None


def test_an_interaction_in_the_future_is_refused(account):
    with pytest.raises(ValidationError) as error:
        log(account, occurred_at=timezone.now() + timedelta(minutes=5))
    assert list(error.value.message_dict) == ["occurred_at"]
    assert written() == (0, 0, 0)


def test_replaying_an_external_id_returns_the_first_and_writes_nothing(account):
    first, _ = log(account, external_id="call-9")
    before = written()
    again, created = log(
        account, external_id="call-9", promises=[{"description": "Quote", "due_at": due()}]
    )
    assert (again, created) == (first, False)
    assert written() == before


def test_a_replay_racing_the_first_insert_returns_the_winner(account, monkeypatch):
    """Two syncs pass the existence check together; the unique constraint picks one."""

    class RivalInsertsAfterTheCheck:
        def first(self):
            monkeypatch.undo()
            InteractionFactory(account=account, external_id="sync-1")
            return None

    monkeypatch.setattr(Interaction.objects, "filter", lambda **_: RivalInsertsAfterTheCheck())

    interaction, created = log(
        account, external_id="sync-1", promises=[{"description": "Quote", "due_at": due()}]
    )

    assert created is False
    assert interaction == Interaction.objects.get(external_id="sync-1")
    assert written() == (1, 0, 0)


@pytest.mark.parametrize("reply_logged_first", [False, True])
def test_an_inbound_touch_is_answered_by_the_next_outbound_one(account, reply_logged_first):
    now = timezone.now()
    touches = [
        {"direction": "inbound", "occurred_at": now - timedelta(hours=3)},
        {"direction": "outbound", "occurred_at": now - timedelta(hours=1)},
    ]
    logged = [log(account, **touch)[0] for touch in touches[:: -1 if reply_logged_first else 1]]
    inbound, reply = sorted(logged, key=lambda interaction: interaction.occurred_at)

    inbound.refresh_from_db()
    assert inbound.answered_at == reply.occurred_at


def test_an_outbound_touch_answers_only_what_it_answers_sooner(account):
    now = timezone.now()
    inbound, _ = log(account, direction="inbound", occurred_at=now - timedelta(hours=5))
    log(account, direction="outbound", occurred_at=now - timedelta(hours=6))  # before it
    inbound.refresh_from_db()
    assert inbound.answered_at is None

    log(account, direction="outbound", occurred_at=now - timedelta(hours=1))
    log(account, direction="outbound", occurred_at=now - timedelta(minutes=30))  # later
    inbound.refresh_from_db()
    assert inbound.answered_at == now - timedelta(hours=1)

    log(
        account, direction="outbound", occurred_at=now - timedelta(hours=3)
    )  # logged after the fact
    inbound.refresh_from_db()
    assert inbound.answered_at == now - timedelta(hours=3)


def test_moving_the_reply_recomputes_when_the_inbound_one_was_answered(account):
    now = timezone.now()
    inbound, _ = log(account, direction="inbound", occurred_at=now - timedelta(hours=3))
    reply, _ = log(account, direction="outbound", occurred_at=now - timedelta(hours=2))

    services.update_interaction(reply, occurred_at=now - timedelta(hours=4))

    inbound.refresh_from_db()
    assert inbound.answered_at is None


def test_an_inbound_touch_corrected_to_outbound_answers_and_is_no_longer_awaiting_one(account):
    now = timezone.now()
    inbound, _ = log(account, direction="inbound", occurred_at=now - timedelta(hours=3))
    log(account, direction="outbound", occurred_at=now - timedelta(hours=1))
    inbound.refresh_from_db()

    services.update_interaction(inbound, direction="outbound")

    inbound.refresh_from_db()
    assert inbound.answered_at is None


def test_correcting_a_stale_copy_does_not_undo_the_answer_recorded_since(account):
    now = timezone.now()
    inbound, _ = log(account, direction="inbound", occurred_at=now - timedelta(hours=3))
    reply, _ = log(account, direction="outbound", occurred_at=now - timedelta(hours=1))

    services.update_interaction(inbound, summary="Asked for a discount")

    inbound.refresh_from_db()
    assert (inbound.summary, inbound.answered_at) == ("Asked for a discount", reply.occurred_at)


def test_logging_sends_the_accounts_recompute_after_commit(
    account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RELCRM_RECOMPUTE_ON_WRITE = True
    sent = []
    monkeypatch.setattr("relcrm.queue.send", lambda name, *args, **kw: sent.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True):
        log(account)

    assert (task_names.COMPUTE_ACCOUNT_HEALTH, (account.pk,)) in sent


@pytest.mark.redis
def test_writes_before_the_recompute_starts_ask_for_it_once_and_after_it_again(
    account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RELCRM_RECOMPUTE_ON_WRITE = settings.RELCRM_RECOMPUTE_ASK_ONCE = True
    sent = []
    monkeypatch.setattr("relcrm.queue.send", lambda name, *args, **kw: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        log(account)
    with django_capture_on_commit_callbacks(execute=True):
        log(account)
    assert sent == [(account.pk,)]

    trust_tasks.compute_account_health.apply(args=[account.pk]).get()
    with django_capture_on_commit_callbacks(execute=True):
        log(account)
    assert sent == [(account.pk,), (account.pk,)]


def test_without_a_shared_cache_every_write_asks_for_its_recompute(
    account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RELCRM_RECOMPUTE_ON_WRITE, settings.RELCRM_RECOMPUTE_ASK_ONCE = True, False
    sent = []
    monkeypatch.setattr("relcrm.queue.send", lambda name, *args, **kw: sent.append(args))

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            log(account)
    assert sent == [(account.pk,), (account.pk,)]


# --- creating and editing promises --------------------------------------------------------


def test_a_promise_owned_by_someone_outside_the_accounts_team_is_refused(team_b, account):
    with pytest.raises(ValidationError) as error:
        services.create_promise(
            account=account, description="Quote", due_at=due(), by=account.owner, owner=team_b.rep
        )
    assert list(error.value.message_dict) == ["owner"]
    assert not Promise.objects.exists()


def test_editing_a_promise_keeps_its_due_time_and_history(account):
    promise = PromiseFactory(account=account)
    services.update_promise(promise, description="Send the signed quote")
    promise.refresh_from_db()
    assert promise.description == "Send the signed quote"
    assert promise.events.count() == 1


# --- transitions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transition", "kwargs", "status", "event"),
    [
        (services.keep_promise, {}, "kept", "kept"),
        (services.renegotiate_promise, {"due_at": due(9)}, "open", "renegotiated"),
        (services.break_promise, {"note": "no"}, "broken", "broken"),
        (services.release_promise, {"note": "no"}, "released", "released"),
    ],
)
def test_each_transition_writes_its_status_one_event_and_marks_health_stale(
    team_a, account, transition, kwargs, status, event
):
    promise = PromiseFactory(account=account)

    returned = transition(promise, by=team_a.lead, **kwargs)

    assert returned.status == status
    assert Promise.objects.get(pk=promise.pk).status == status
    last = promise.events.last()
    assert (last.kind, last.by, promise.events.count()) == (event, team_a.lead, 2)
    assert Account.objects.get(pk=account.pk).health_stale_at is not None


def test_renegotiating_counts_and_keeps_the_agreed_due_time(account):
    promise = PromiseFactory(account=account)
    new_due = due(10)
    services.renegotiate_promise(promise, by=None, due_at=new_due)
    promise.refresh_from_db()
    assert (promise.due_at, promise.renegotiated_count) == (new_due, 1)


def test_a_promise_cannot_be_kept_in_the_future(account):
    promise = PromiseFactory(account=account)
    with pytest.raises(ValidationError):
        services.keep_promise(promise, by=None, at=timezone.now() + timedelta(hours=1))
    assert Promise.objects.get(pk=promise.pk).status == "open"


def made_days_ago(account, days, **fields):
    """An open promise recorded ``days`` ago."""
    made = timezone.now() - timedelta(days=days)
    return PromiseFactory(account=account, created_at=made, **fields)


def test_a_promise_cannot_be_kept_before_it_was_made(account):
    promise = made_days_ago(account, 2, due_at=due(-1))
    with pytest.raises(ValidationError) as error:
        services.keep_promise(promise, by=None, at=promise.created_at - timedelta(seconds=1))
    assert list(error.value.message_dict) == ["kept_at"]
    assert Promise.objects.get(pk=promise.pk).status == "open"
    assert promise.events.count() == 1


def test_a_promise_may_be_kept_at_the_moment_it_was_made(account):
    promise = made_days_ago(account, 2, due_at=due(-1))
    services.keep_promise(promise, by=None, at=promise.created_at)
    assert Promise.objects.get(pk=promise.pk).kept_on_time is True


def test_a_swept_promise_cannot_be_back_dated_into_an_on_time_keep(account):
    promise = made_days_ago(account, 5, due_at=due(-2))
    services.flag_overdue_promises()
    broken_at = Promise.objects.get(pk=promise.pk).broken_at
    for before_the_break in (promise.due_at - timedelta(hours=1), broken_at - timedelta(seconds=1)):
        with pytest.raises(ValidationError) as error:
            services.keep_promise(promise, by=None, at=before_the_break)
        assert list(error.value.message_dict) == ["kept_at"]
    after = Promise.objects.get(pk=promise.pk)
    assert (after.status, after.broken_at, after.kept_at) == ("broken", broken_at, None)
    assert [e.kind for e in after.events.all()] == ["created", "broken"]


def test_a_broken_promise_kept_at_or_after_its_break_is_kept_late(account):
    promise = made_days_ago(account, 5, due_at=due(-2))
    services.flag_overdue_promises()
    broken_at = Promise.objects.get(pk=promise.pk).broken_at
    kept = services.keep_promise(promise, by=None, at=broken_at)
    assert (kept.status, kept.kept_at, kept.kept_on_time) == ("kept", broken_at, False)


def test_a_promise_broken_before_its_due_time_and_kept_by_it_is_still_kept_late(account):
    promise = made_days_ago(account, 1, due_at=due(3))
    services.break_promise(promise, by=None, note="The trainer left")
    kept = services.keep_promise(promise, by=None)
    assert kept.kept_at <= kept.due_at
    assert kept.kept_on_time is False
    assert Promise.objects.kept_late().filter(pk=promise.pk).exists()
    assert not Promise.objects.kept_on_time().filter(pk=promise.pk).exists()


@pytest.mark.parametrize(
    ("swept", "change", "constraint"),
    [
        (False, {"kept_at": F("created_at") - timedelta(seconds=1)}, "promise_kept_after_made"),
        (True, {"kept_at": F("broken_at") - timedelta(seconds=1)}, "promise_kept_after_broken"),
    ],
    ids=["before made", "before broken"],
)
def test_the_database_refuses_a_keep_before_the_promise_was_made_or_broken(
    account, swept, change, constraint
):
    promise = made_days_ago(account, 5, due_at=due(-2))
    if swept:
        services.flag_overdue_promises()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Promise.objects.filter(pk=promise.pk).update(status="kept", **change)


def test_a_broken_promise_has_exactly_one_alert(account):
    promise = services.break_promise(PromiseFactory(account=account), by=None)
    assert services.raise_promise_broken_alert(promise, at=timezone.now()) is None
    assert Alert.objects.filter(promise=promise).count() == 1


def test_a_rep_may_not_review_an_alert(team_a, account):
    alert = AlertFactory(account=account)
    with pytest.raises(PermissionDenied):
        services.acknowledge_alert(alert, by=team_a.rep)
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_a_lead_of_another_team_may_not_review_an_alert(team_b, account):
    alert = AlertFactory(account=account)
    with pytest.raises(PermissionDenied):
        services.resolve_alert(alert, by=team_b.lead, note="not mine")


def test_resolving_an_open_alert_also_records_who_saw_it(team_a, account):
    alert = services.resolve_alert(AlertFactory(account=account), by=team_a.lead, note="done")
    assert (alert.acknowledged_by, alert.resolved_by) == (team_a.lead, team_a.lead)
    assert alert.acknowledged_at == alert.resolved_at


def test_a_health_drop_alert_has_no_promise(account):
    alert = services.raise_health_drop_alert(account, detail="Fell to 31")
    assert (alert.kind, alert.promise, alert.status) == ("health_drop", None, "open")


# --- acknowledging alerts in bulk -------------------------------------------------------


def statuses(alerts) -> list[str]:
    return [Alert.objects.get(pk=alert.pk).status for alert in alerts]


def test_acknowledging_alerts_in_bulk_records_one_reviewer_time_and_note(team_a, account):
    alerts = [AlertFactory(account=account) for _ in range(3)]

    done = services.acknowledge_alerts(alerts, by=team_a.lead, note="On it")

    assert done == alerts
    rows = Alert.objects.filter(pk__in=[alert.pk for alert in alerts])
    assert {(row.status, row.acknowledged_by, row.note) for row in rows} == {
        ("acknowledged", team_a.lead, "On it")
    }
    assert len({row.acknowledged_at for row in rows}) == 1
    # The caller's objects are updated too, as acknowledge_alert updates its one.
    assert {alert.status for alert in alerts} == {"acknowledged"}


def test_bulk_acknowledge_changes_none_when_one_is_no_longer_open(team_a, account):
    named = AccountFactory(owner=team_a.other_rep, name="Globex")
    alerts = [AlertFactory(account=account), AlertFactory(account=named)]
    services.acknowledge_alert(alerts[1], by=team_a.lead)

    with pytest.raises(TransitionNotAllowed, match="The alert on Globex is already acknowledged"):
        services.acknowledge_alerts([AlertFactory(account=account), *alerts], by=team_a.lead)

    assert statuses(alerts) == ["open", "acknowledged"]
    assert Alert.objects.filter(status="open").count() == 2


@pytest.mark.parametrize("reviewer", ["rep of the team", "lead of another team"])
def test_bulk_acknowledge_changes_none_unless_every_alert_is_the_reviewers_to_review(
    team_a, team_b, account, reviewer
):
    theirs = AccountFactory(owner=team_b.rep)
    alerts = [AlertFactory(account=account), AlertFactory(account=theirs)]
    by = team_a.rep if reviewer == "rep of the team" else team_a.lead

    with pytest.raises(PermissionDenied):
        services.acknowledge_alerts(alerts, by=by)

    assert statuses(alerts) == ["open", "open"]


def test_an_admin_acknowledges_alerts_of_every_team_at_once(team_b, admin_user, account):
    alerts = [AlertFactory(account=account), AlertFactory(account=AccountFactory(owner=team_b.rep))]
    services.acknowledge_alerts(alerts, by=admin_user)
    assert statuses(alerts) == ["acknowledged", "acknowledged"]


def test_bulk_acknowledge_costs_the_same_queries_for_two_alerts_or_twenty(team_a, account):
    def queries_for(count: int) -> int:
        alerts = [AlertFactory(account=account) for _ in range(count)]
        with CaptureQueriesContext(connection) as queries:
            services.acknowledge_alerts(alerts, by=team_a.lead)
        return len(queries)

    assert queries_for(2) == queries_for(20)
    assert services.acknowledge_alerts([], by=team_a.lead) == []
