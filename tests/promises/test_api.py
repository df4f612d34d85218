"""/api/v1/promises/: commitments, their lifecycle actions and their history."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from promises import services
from promises.models import Alert, Promise, PromiseEvent
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, PromiseFactory

URL = "/api/v1/promises/"


def iso(moment):
    return moment.isoformat()


def soon(**delta):
    return timezone.now() + timedelta(**(delta or {"days": 3}))


def ago(**delta):
    return timezone.now() - timedelta(**(delta or {"days": 1}))


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


@pytest.fixture
def promise(account):
    return PromiseFactory(account=account, due_at=soon())


def ids(answer):
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def history(promise) -> list:
    return list(PromiseEvent.objects.filter(promise=promise).values_list("kind", flat=True))


def state(promise) -> tuple:
    """Everything a rejected request must leave as it was."""
    return (
        Promise.objects.values().get(pk=promise.pk),
        history(promise),
        Alert.objects.count(),
    )


# --- creating ---------------------------------------------------------------------------


def test_a_promise_is_created_open_owned_by_its_author_with_a_created_event(
    team_a, rep_client, account
):
    due = soon()
    answer = rep_client.post(
        URL,
        {"account": account.pk, "description": "Send the quote", "due_at": iso(due)},
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert set(body) == {
        "id", "account", "contact", "interaction", "owner", "description", "due_at", "status",
        "kept_at", "kept_on_time", "is_overdue", "external_id", "created_at",
    }  # fmt: skip
    assert (body["owner"], body["status"], body["kept_at"], body["kept_on_time"]) == (
        team_a.rep.pk,
        "open",
        None,
        None,
    )
    assert body["is_overdue"] is False
    assert history(Promise.objects.get(pk=body["id"])) == ["created"]
    account.refresh_from_db()
    assert account.health_stale_at is not None


def test_a_promise_may_be_made_for_a_teammate_to_a_contact_in_an_interaction(
    team_a, rep_client, account
):
    contact = ContactFactory(account=account)
    interaction = InteractionFactory(account=account)
    answer = rep_client.post(
        URL,
        {
            "account": account.pk,
            "description": "Andy sends the contract",
            "due_at": iso(soon()),
            "owner": team_a.other_rep.pk,
            "contact": contact.pk,
            "interaction": interaction.pk,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    promise = Promise.objects.get(pk=answer.json()["id"])
    assert (promise.owner, promise.contact, promise.interaction) == (
        team_a.other_rep,
        contact,
        interaction,
    )
    assert promise.events.get().by == team_a.rep


def test_a_due_time_already_past_is_accepted_and_reads_overdue(rep_client, account):
    answer = rep_client.post(
        URL,
        {"account": account.pk, "description": "Logged late", "due_at": iso(ago())},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert (answer.json()["status"], answer.json()["is_overdue"]) == ("open", True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"due_at": "friday"}, "due_at"),
        ({"due_at": None}, "due_at"),
        ({"due_at": "2026-01-05T17:00:00"}, "due_at"),
        ({"account": "acme"}, "account"),
        ({"owner": None}, "owner"),
        ({"contact": "ada"}, "contact"),
        ("other account's contact", "contact"),
        ("other account's interaction", "interaction"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_creates_nothing(
    team_a, rep_client, account, change, field
):
    elsewhere = AccountFactory(owner=team_a.rep)
    if change == "other account's contact":
        change = {"contact": ContactFactory(account=elsewhere).pk}
    elif change == "other account's interaction":
        change = {"interaction": InteractionFactory(account=elsewhere).pk}
    body = {"account": account.pk, "description": "Quote", "due_at": iso(soon()), **change}

    answer = rep_client.post(URL, body, format="json")

    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert not Promise.objects.exists()


@pytest.mark.parametrize("missing", ["account", "description", "due_at"])
def test_a_missing_required_field_is_a_400_naming_it(rep_client, account, missing):
    body = {"account": account.pk, "description": "Quote", "due_at": iso(soon())}
    del body[missing]
    assert rep_client.post(URL, body, format="json").json() == {
        missing: ["This field is required."]
    }


@pytest.mark.parametrize("body", [[], "Quote", 7])
def test_a_body_that_is_not_an_object_is_a_400(rep_client, body):
    answer = rep_client.post(URL, body, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == ["non_field_errors"]


# --- editing ----------------------------------------------------------------------------


def test_patch_edits_the_description_and_the_contact(rep_client, account, promise):
    contact = ContactFactory(account=account)
    answer = rep_client.patch(
        f"{URL}{promise.pk}/",
        {"description": "Send the signed quote", "contact": contact.pk},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    promise.refresh_from_db()
    assert (promise.description, promise.contact) == ("Send the signed quote", contact)


@pytest.mark.parametrize(
    "change",
    [
        {"due_at": iso(soon(days=9))},
        {"status": "kept"},
        {"kept_at": iso(ago())},
        {"account": 1},
        {"owner": 1},
        {"interaction": None},
        {"description": ""},
    ],
    ids=lambda change: next(iter(change)),
)
def test_patch_refuses_what_only_an_action_may_change(rep_client, promise, change):
    before = state(promise)
    answer = rep_client.patch(f"{URL}{promise.pk}/", change, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == list(change)
    assert state(promise) == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_promises_are_neither_replaced_nor_deleted(rep_client, promise, method):
    assert getattr(rep_client, method)(f"{URL}{promise.pk}/").status_code == 405
    assert Promise.objects.filter(pk=promise.pk).exists()


# --- transitions ------------------------------------------------------------------------


def act(client, promise, name, body=None):
    return client.post(f"{URL}{promise.pk}/{name}/", {} if body is None else body, format="json")


def test_keep_marks_it_kept_on_time(team_a, rep_client, promise):
    answer = act(rep_client, promise, "keep")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["kept_on_time"], body["is_overdue"]) == ("kept", True, False)
    assert history(promise) == ["created", "kept"]
    assert promise.events.last().by == team_a.rep


def test_keep_at_an_earlier_time_records_when_it_was_delivered(rep_client, account):
    promise = PromiseFactory(account=account, created_at=ago(days=5), due_at=ago(days=2))
    delivered = ago(days=3)
    answer = act(rep_client, promise, "keep", {"kept_at": iso(delivered)})
    assert answer.status_code == 200, answer.content
    assert answer.json()["kept_on_time"] is True
    promise.refresh_from_db()
    assert promise.kept_at == delivered


def test_a_broken_promise_kept_afterwards_is_kept_late(rep_client, account):
    promise = PromiseFactory(account=account, due_at=ago(hours=2))
    services.break_promise(promise, by=None)
    answer = act(rep_client, promise, "keep")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["kept_on_time"]) == ("kept", False)
    assert history(promise) == ["created", "broken", "kept"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kept_at": "now"}, "kept_at"),
        ("in the future", "kept_at"),
        ([], "non_field_errors"),
    ],
)
def test_keep_with_a_bad_time_is_a_400_and_keeps_nothing(rep_client, promise, body, field):
    if body == "in the future":
        body = {"kept_at": iso(soon(hours=1))}
    before = state(promise)
    answer = act(rep_client, promise, "keep", body)
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert state(promise) == before


def broken_at(promise) -> datetime:
    moment = Promise.objects.get(pk=promise.pk).broken_at
    assert moment is not None
    return moment


@pytest.mark.parametrize(
    "kept_at",
    [
        lambda promise: promise.created_at - timedelta(seconds=1),
        lambda promise: promise.created_at - timedelta(days=300),
        lambda promise: promise.due_at - timedelta(hours=1),
        lambda promise: broken_at(promise) - timedelta(seconds=1),
    ],
    ids=["a second before it was made", "months before", "on time", "just before it broke"],
)
def test_a_broken_promise_cannot_be_kept_before_it_was_made_or_broke(rep_client, account, kept_at):
    promise = PromiseFactory(account=account, created_at=ago(days=5), due_at=ago(days=2))
    services.flag_overdue_promises()
    before = state(promise)
    answer = act(rep_client, promise, "keep", {"kept_at": iso(kept_at(promise))})
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == ["kept_at"]
    assert state(promise) == before


def test_renegotiate_moves_the_due_time_and_records_old_and_new(rep_client, promise):
    old_due, new_due = promise.due_at, soon(days=10)
    answer = act(
        rep_client, promise, "renegotiate", {"due_at": iso(new_due), "note": "Next sprint"}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "open"
    event = promise.events.last()
    assert (event.kind, event.old_due_at, event.new_due_at, event.note) == (
        "renegotiated",
        old_due,
        new_due,
        "Next sprint",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "due_at"), ({"due_at": "later"}, "due_at"), ("in the past", "due_at")],
)
def test_renegotiate_needs_a_new_due_time_in_the_future(rep_client, promise, body, field):
    if body == "in the past":
        body = {"due_at": iso(ago())}
    before = state(promise)
    answer = act(rep_client, promise, "renegotiate", body)
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert state(promise) == before


@pytest.mark.parametrize(("due", "disclosed"), [(soon, True), (ago, False)])
def test_break_raises_an_alert_and_is_disclosed_only_before_the_due_time(
    rep_client, account, due, disclosed
):
    promise = PromiseFactory(account=account, due_at=due())
    answer = act(rep_client, promise, "break", {"note": "Supplier let us down"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "broken"
    promise.refresh_from_db()
    assert promise.broken_disclosed is disclosed
    alert = Alert.objects.get()
    assert (alert.kind, alert.promise, alert.status) == ("promise_broken", promise, "open")
    assert promise.events.last().note == "Supplier let us down"


def test_release_marks_it_released(rep_client, promise):
    answer = act(rep_client, promise, "release", {"note": "Customer no longer needs it"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "released"
    assert history(promise) == ["created", "released"]
    assert not Alert.objects.exists()


def in_status(account, status: str) -> Promise:
    if status == "open, already due":
        return PromiseFactory(account=account, due_at=ago(minutes=1))
    promise = PromiseFactory(account=account, due_at=soon())
    changes: dict[str, Callable[..., Promise]] = {
        "kept": services.keep_promise,
        "broken": services.break_promise,
        "released": services.release_promise,
    }
    return changes[status](promise, by=None)


FORBIDDEN = [
    ("kept", "keep"),
    ("kept", "renegotiate"),
    ("kept", "break"),
    ("kept", "release"),
    ("broken", "renegotiate"),
    ("broken", "break"),
    ("broken", "release"),
    ("released", "keep"),
    ("released", "renegotiate"),
    ("released", "break"),
    ("released", "release"),
    ("open, already due", "renegotiate"),
]


@pytest.mark.parametrize(("status", "action"), FORBIDDEN)
def test_a_transition_the_status_does_not_allow_is_a_409_and_changes_nothing(
    rep_client, account, status, action
):
    promise = in_status(account, status)
    before = state(promise)
    body = {"due_at": iso(soon(days=20)), "note": "x"}

    answer = act(rep_client, promise, action, body)

    assert answer.status_code == 409, answer.content
    assert list(answer.json()) == ["detail"]
    assert state(promise) == before


# --- history ----------------------------------------------------------------------------


def test_events_list_the_history_oldest_first(team_a, rep_client, promise):
    new_due = soon(days=7)
    services.renegotiate_promise(promise, by=team_a.rep, due_at=new_due, note="moved")
    services.break_promise(promise, by=team_a.lead, note="cannot")
    services.keep_promise(promise, by=team_a.rep)

    events = rep_client.get(f"{URL}{promise.pk}/events/").json()["results"]

    assert [event["kind"] for event in events] == ["created", "renegotiated", "broken", "kept"]
    assert set(events[1]) == {"id", "kind", "at", "by", "note", "old_due_at", "new_due_at"}
    assert (events[1]["note"], events[2]["by"]) == ("moved", team_a.lead.pk)


# --- filters ----------------------------------------------------------------------------


def test_filters_by_status(rep_client, account):
    kept = in_status(account, "kept")
    in_status(account, "released")
    PromiseFactory(account=account)
    assert ids(rep_client.get(URL, {"status": "kept"})) == {kept.pk}


def test_filters_by_owner_and_account(team_a, rep_client, account):
    mine = PromiseFactory(account=account)
    andys = PromiseFactory(account=AccountFactory(owner=team_a.other_rep))
    assert ids(rep_client.get(URL, {"owner": team_a.rep.pk})) == {mine.pk}
    assert ids(rep_client.get(URL, {"account": andys.account_id})) == {andys.pk}


def test_filters_by_interaction(rep_client, account):
    interaction = InteractionFactory(account=account)
    made_there = PromiseFactory(account=account, interaction=interaction)
    PromiseFactory(account=account)
    assert ids(rep_client.get(URL, {"interaction": interaction.pk})) == {made_there.pk}


def test_overdue_means_open_and_past_due(rep_client, account):
    overdue = PromiseFactory(account=account, due_at=ago())
    upcoming = PromiseFactory(account=account, due_at=soon())
    broken = in_status(account, "broken")
    assert ids(rep_client.get(URL, {"overdue": "true"})) == {overdue.pk}
    assert ids(rep_client.get(URL, {"overdue": "false"})) == {upcoming.pk, broken.pk}


def test_filters_by_due_time(rep_client, account):
    this_week = PromiseFactory(account=account, due_at=soon(days=2))
    next_month = PromiseFactory(account=account, due_at=soon(days=30))
    cut = iso(soon(days=7))
    assert ids(rep_client.get(URL, {"due_before": cut})) == {this_week.pk}
    assert ids(rep_client.get(URL, {"due_after": cut})) == {next_month.pk}


@pytest.mark.parametrize("query", [{"status": "late"}, {"due_before": "soon"}, {"owner": "alice"}])
def test_a_malformed_filter_is_a_400(rep_client, query):
    assert rep_client.get(URL, query).status_code == 400


@pytest.mark.parametrize("name", ["due_before", "due_after"])
@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59"])
def test_a_due_time_filter_with_an_offset_beyond_15_59_is_a_400(rep_client, name, offset):
    answer = rep_client.get(URL, {name: f"2026-12-01T00:00:00{offset}"})
    assert answer.status_code == 400, answer.content
    assert answer.json() == {name: ["The UTC offset must lie between -15:59 and +15:59."]}


def test_a_due_time_filter_takes_any_offset_up_to_15_59(rep_client, account):
    promise = PromiseFactory(account=account, due_at=soon(days=2))
    cut = (promise.due_at + timedelta(hours=1)).astimezone(timezone.get_fixed_timezone(-959))
    assert ids(rep_client.get(URL, {"due_before": cut.isoformat()})) == {promise.pk}
