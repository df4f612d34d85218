"""Importing promises with their past: the events it implies, at their own times, no alerts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from promises.models import Alert, Promise
from tests.factories import AccountFactory, ContactFactory, InteractionFactory
from tests.imports.helpers import csv_text, imported, messages_by_row

HEADER = [
    "account",
    "description",
    "due_at",
    "status",
    "created_at",
    "kept_at",
    "broken_at",
    "released_at",
]


def ago(days: float) -> str:
    return (timezone.now() - timedelta(days=days)).isoformat()


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


def history(promise: Promise) -> list[tuple]:
    return [(event.kind, event.at) for event in promise.events.order_by("at", "id")]


def parse(text: str):
    return timezone.datetime.fromisoformat(text)


def test_each_past_gets_its_events_stamped_at_their_own_times(team_a, account):
    made, due = ago(30), ago(20)
    rows = [
        [account.pk, "On time", due, "kept", made, ago(21), "", ""],
        [account.pk, "Swept", due, "broken", made, "", "", ""],
        [account.pk, "Told them", due, "broken", made, "", ago(25), ""],
        [account.pk, "Late", due, "kept", made, ago(10), ago(19), ""],
        [account.pk, "Let go", due, "released", made, "", "", ago(22)],
        [account.pk, "Still open", ago(-5), "", "", "", "", ""],
    ]
    job = imported(team_a.rep, "promises", csv_text(HEADER, rows))
    assert (job.status, job.created) == ("succeeded", 6), job.errors
    by = {promise.description: promise for promise in Promise.objects.all()}
    created = parse(made)

    on_time = by["On time"]
    assert (on_time.status, on_time.kept_on_time, on_time.created_at) == ("kept", True, created)
    assert history(on_time) == [("created", created), ("kept", parse(rows[0][5]))]

    swept = by["Swept"]
    assert (swept.status, swept.broken_at, swept.broken_disclosed) == ("broken", parse(due), False)
    assert history(swept) == [("created", created), ("broken", parse(due))]
    assert swept.events.get(kind="broken").by is None

    told = by["Told them"]
    assert (told.status, told.broken_disclosed) == ("broken", True)
    assert told.events.get(kind="broken").by == team_a.rep

    late = by["Late"]
    assert (late.status, late.kept_on_time, late.broken_at) == ("kept", False, parse(rows[3][6]))
    assert [kind for kind, _ in history(late)] == ["created", "broken", "kept"]

    let_go = by["Let go"]
    assert (let_go.status, let_go.released_at) == ("released", parse(rows[4][7]))
    assert [kind for kind, _ in history(let_go)] == ["created", "released"]

    assert by["Still open"].status == "open"
    assert [kind for kind, _ in history(by["Still open"])] == ["created"]
    # History, not news: a lead gets no alert for what broke long ago.
    assert not Alert.objects.exists()
    account.refresh_from_db()
    assert account.health_stale_at is not None


def test_the_status_follows_from_the_times_when_it_is_not_given(team_a, account):
    rows = [[account.pk, "Kept", ago(5), "", ago(9), ago(6), "", ""]]
    assert imported(team_a.rep, "promises", csv_text(HEADER, rows)).status == "succeeded"
    assert Promise.objects.get().status == "kept"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"status": "done"}, "status", '"done" is not a valid choice.'),
        ({"status": "kept"}, "kept_at", "A kept promise needs its kept_at."),
        ({"status": "open", "kept_at": ago(1)}, "kept_at", "An open promise has no kept_at."),
        ({"status": "kept", "kept_at": ago(-1)}, "kept_at", "This cannot be in the future."),
        (
            {"status": "kept", "created_at": ago(2), "kept_at": ago(3)},
            "kept_at",
            "This is before the promise was made (created_at).",
        ),
        (
            {"status": "broken", "due_at": ago(-3)},
            "broken_at",
            "A promise broken before its due time needs its broken_at.",
        ),
        (
            {"status": "kept", "kept_at": ago(3), "broken_at": ago(2)},
            "kept_at",
            "A promise is kept after it broke, not before (broken_at).",
        ),
        ({"description": " "}, "description", "This field may not be blank."),
        (
            {"due_at": "2026-01-05"},
            "due_at",
            "Give the time with its offset from UTC, such as 2026-03-01T09:30:00+01:00.",
        ),
    ],
)
def test_a_past_that_cannot_have_happened_is_refused(team_a, account, cells, column, message):
    good = dict(zip(HEADER, [account.pk, "Quote", ago(1), "", "", "", "", ""], strict=True))
    job = imported(team_a.rep, "promises", csv_text(HEADER, [{**good, **cells}.values()]))
    assert job.status == "failed"
    assert messages_by_row(job) == {1: [(column, message)]}
    assert not Promise.objects.exists()


def test_contact_interaction_and_owner_are_checked_as_by_the_api(team_a, team_b, account):
    other = AccountFactory(owner=team_a.rep)
    header = ["account", "description", "due_at", "contact", "interaction", "owner"]
    rows = [
        [account.pk, "A", ago(-1), ContactFactory(account=other).pk, "", ""],
        [account.pk, "B", ago(-1), "", InteractionFactory(account=other).pk, ""],
        [account.pk, "C", ago(-1), "", "", team_b.rep.pk],
    ]
    assert messages_by_row(imported(team_a.rep, "promises", csv_text(header, rows))) == {
        1: [("contact", "This contact belongs to another account.")],
        2: [("interaction", "This interaction belongs to another account.")],
        3: [("owner", f'Invalid pk "{team_b.rep.pk}" - object does not exist.')],
    }


def test_promises_link_to_interactions_and_contacts_by_their_external_id_and_email(team_a, account):
    call = InteractionFactory(account=account, external_id="tel-7")
    ada = ContactFactory(account=account, email="ada@acme.test")
    header = ["account", "description", "due_at", "contact", "interaction_external_id", "owner"]
    rows = [[account.pk, "Send it", ago(-2), "ada@acme.test", "tel-7", team_a.other_rep.pk]]
    job = imported(team_a.rep, "promises", csv_text(header, rows))
    assert job.status == "succeeded", job.errors
    promise = Promise.objects.get()
    assert (promise.interaction, promise.contact, promise.owner) == (call, ada, team_a.other_rep)


def test_importing_the_same_promises_again_creates_nothing(team_a, account):
    header = [*HEADER, "external_id"]
    rows = [[account.pk, "Quote", ago(5), "kept", ago(9), ago(6), "", "", "p-1"]]
    text = csv_text(header, rows)
    assert imported(team_a.rep, "promises", text).created == 1
    again = imported(team_a.rep, "promises", text)
    assert (again.status, again.created) == ("succeeded", 0)
    assert Promise.objects.count() == 1
    assert Promise.objects.get().events.count() == 2


def test_an_imported_kept_promise_repairs_an_earlier_break(team_a, account):
    rows = [
        [account.pk, "Broke", ago(20), "broken", ago(30), "", "", ""],
        [account.pk, "Made up for it", ago(5), "kept", ago(15), ago(8), "", ""],
    ]
    assert imported(team_a.rep, "promises", csv_text(HEADER, rows)).status == "succeeded"
    broken = Promise.objects.get(description="Broke")
    assert broken.repaired_at == parse(rows[1][5])
