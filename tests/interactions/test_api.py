"""/api/v1/interactions/: logging touch-points with the commitments made in them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from interactions.models import Interaction
from promises.models import Promise, PromiseEvent
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, PromiseFactory

URL = "/api/v1/interactions/"


def iso(moment):
    return moment.isoformat()


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


@pytest.fixture
def contact(account):
    return ContactFactory(account=account)


def a_call(account, **overrides):
    body = {
        "account": account.pk,
        "kind": "call",
        "direction": "outbound",
        "occurred_at": iso(timezone.now() - timedelta(minutes=10)),
        "summary": "Talked about the renewal",
        "sentiment": 1,
    }
    return {**body, **overrides}


def written() -> tuple:
    return (
        Interaction.objects.count(),
        Promise.objects.count(),
        PromiseEvent.objects.count(),
        list(Account.objects.values_list("health_stale_at", flat=True)),
    )


def test_logging_a_call_with_its_promises_answers_201_with_everything_made_in_it(
    team_a, rep_client, account, contact
):
    due = timezone.now() + timedelta(days=2)
    answer = rep_client.post(
        URL,
        a_call(
            account,
            contacts=[contact.pk],
            external_id="tel-1",
            promises=[
                {"description": "Send the quote", "due_at": iso(due)},
                {"description": "Book a demo", "due_at": iso(due), "contact": contact.pk},
            ],
        ),
        format="json",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["logged_by"] == team_a.rep.pk
    assert body["contacts"] == [contact.pk]
    assert (body["kind"], body["direction"], body["sentiment"], body["external_id"]) == (
        "call",
        "outbound",
        1,
        "tel-1",
    )
    quote, demo = body["promises"]
    assert quote == rep_client.get(f"/api/v1/promises/{quote['id']}/").json()
    assert quote["interaction"] == demo["interaction"] == body["id"]
    assert (quote["owner"], quote["status"], quote["contact"]) == (team_a.rep.pk, "open", None)
    assert demo["contact"] == contact.pk
    assert PromiseEvent.objects.filter(kind="created").count() == 2


def test_reading_an_interaction_returns_its_promises_as_full_objects(rep_client, account):
    created = rep_client.post(
        URL,
        a_call(account, promises=[{"description": "Call back", "due_at": iso(timezone.now())}]),
        format="json",
    ).json()

    read = rep_client.get(f"{URL}{created['id']}/").json()

    assert read == created
    assert read["promises"][0]["description"] == "Call back"


def test_logged_by_is_always_the_caller(team_a, rep_client, account):
    body = a_call(account, logged_by=team_a.lead.pk)
    assert rep_client.post(URL, body, format="json").json()["logged_by"] == team_a.rep.pk


def test_logging_marks_the_accounts_health_stale(rep_client, account):
    rep_client.post(URL, a_call(account), format="json")
    account.refresh_from_db()
    assert account.health_stale_at is not None


def future():
    return iso(timezone.now() + timedelta(hours=1))


BAD_INPUTS = [
    ("sentiment", {"sentiment": 3}),
    ("sentiment", {"sentiment": -3}),
    ("sentiment", {"sentiment": 1.5}),
    ("sentiment", {"sentiment": "great"}),
    ("kind", {"kind": "fax"}),
    ("kind", {"kind": None}),
    ("direction", {"direction": "sideways"}),
    ("occurred_at", {"occurred_at": "in the future"}),
    ("occurred_at", {"occurred_at": "2024-13-45T10:00:00Z"}),
    ("occurred_at", {"occurred_at": 1700000000}),
    ("occurred_at", {"occurred_at": "2026-01-05T10:00:00"}),
    ("occurred_at", {"occurred_at": "2026-01-05"}),
    ("contacts", {"contacts": "not a list"}),
    ("external_id", {"external_id": "x" * 201}),
    ("promises", {"promises": {"description": "not a list"}}),
    ("promises", {"promises": ["not an object"]}),
    ("promises", {"promises": [{"due_at": "2030-01-01T00:00:00Z"}]}),
    ("promises", {"promises": [{"description": "", "due_at": "2030-01-01T00:00:00Z"}]}),
    ("promises", {"promises": [{"description": "   ", "due_at": "2030-01-01T00:00:00Z"}]}),
    ("promises", {"promises": [{"description": "Quote"}]}),
    ("promises", {"promises": [{"description": "Quote", "due_at": "next friday"}]}),
]


@pytest.mark.parametrize(("field", "change"), BAD_INPUTS)
def test_bad_input_is_a_400_on_its_field_and_writes_nothing(
    rep_client, account, contact, field, change
):
    body = a_call(
        account,
        contacts=[contact.pk],
        promises=[{"description": "A good one", "due_at": future()}],
    )
    before = written()

    answer = rep_client.post(URL, {**body, **change}, format="json")

    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert written() == before


def test_an_interaction_in_the_future_is_a_400(rep_client, account):
    answer = rep_client.post(URL, a_call(account, occurred_at=future()), format="json")
    assert answer.status_code == 400
    assert answer.json() == {"occurred_at": ["An interaction cannot happen in the future."]}


@pytest.mark.parametrize("missing", ["account", "kind", "direction", "occurred_at"])
def test_a_missing_required_field_is_a_400_naming_it(rep_client, account, missing):
    body = a_call(account)
    del body[missing]
    answer = rep_client.post(URL, body, format="json")
    assert answer.status_code == 400
    assert answer.json() == {missing: ["This field is required."]}


@pytest.mark.parametrize("body", [[], ["account"], "call", 42, True])
def test_a_body_that_is_not_an_object_is_a_400(rep_client, account, body):
    answer = rep_client.post(URL, body, format="json")
    assert answer.status_code == 400
    assert "non_field_errors" in answer.json()
    assert Interaction.objects.count() == 0


def test_malformed_json_is_a_400(rep_client):
    answer = rep_client.post(URL, "{not json", content_type="application/json")
    assert answer.status_code == 400
    assert Interaction.objects.count() == 0


def test_a_contact_of_another_account_is_a_400_and_writes_nothing(team_a, rep_client, account):
    elsewhere = ContactFactory(account=AccountFactory(owner=team_a.rep))
    before = written()

    answer = rep_client.post(URL, a_call(account, contacts=[elsewhere.pk]), format="json")

    assert answer.status_code == 400
    assert answer.json() == {"contacts": ["This contact belongs to another account."]}
    assert written() == before


def test_a_promise_to_a_contact_of_another_account_is_a_400_and_writes_nothing(
    team_a, rep_client, account
):
    elsewhere = ContactFactory(account=AccountFactory(owner=team_a.rep))
    before = written()

    answer = rep_client.post(
        URL,
        a_call(
            account,
            promises=[
                {"description": "Fine", "due_at": future()},
                {"description": "Wrong person", "due_at": future(), "contact": elsewhere.pk},
            ],
        ),
        format="json",
    )

    assert answer.status_code == 400, answer.content
    assert answer.json() == {
        "promises": [{}, {"contact": ["This contact belongs to another account."]}]
    }
    assert written() == before


def test_a_promise_already_due_is_accepted_and_reads_overdue(rep_client, account):
    past = iso(timezone.now() - timedelta(days=1))
    answer = rep_client.post(
        URL, a_call(account, promises=[{"description": "Late", "due_at": past}]), format="json"
    )
    assert answer.status_code == 201
    assert answer.json()["promises"][0]["is_overdue"] is True


# --- idempotent external_id -------------------------------------------------------------


def test_replaying_an_external_id_returns_the_interaction_and_creates_nothing(rep_client, account):
    body = a_call(
        account, external_id="crm-42", promises=[{"description": "Quote", "due_at": future()}]
    )
    first = rep_client.post(URL, body, format="json")
    before = written()

    replay = rep_client.post(URL, body, format="json")

    assert first.status_code == 201
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert written() == before


def test_the_same_external_id_on_another_account_is_another_interaction(
    team_a, rep_client, account
):
    other = AccountFactory(owner=team_a.rep)
    first = rep_client.post(URL, a_call(account, external_id="sync-1"), format="json")
    second = rep_client.post(URL, a_call(other, external_id="sync-1"), format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_interactions_without_external_id_are_never_merged(rep_client, account):
    for external_id in (None, "", None):
        answer = rep_client.post(URL, a_call(account, external_id=external_id), format="json")
        assert answer.status_code == 201
    assert Interaction.objects.count() == 3


# --- editing ----------------------------------------------------------------------------


@pytest.fixture
def interaction(account, contact):
    interaction = InteractionFactory(account=account, sentiment=0, external_id="ext-7")
    interaction.contacts.add(contact)
    return interaction


def test_patch_corrects_the_summary_sentiment_and_contacts(rep_client, interaction, account):
    newcomer = ContactFactory(account=account)
    answer = rep_client.patch(
        f"{URL}{interaction.pk}/",
        {"summary": "Actually a complaint", "sentiment": -2, "contacts": [newcomer.pk]},
        format="json",
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["contacts"] == [newcomer.pk]
    interaction.refresh_from_db()
    assert (interaction.summary, interaction.sentiment) == ("Actually a complaint", -2)
    assert list(interaction.contacts.all()) == [newcomer]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": "tomorrow"}, "occurred_at"),
        ({"sentiment": 5}, "sentiment"),
        ({"kind": "fax"}, "kind"),
        ({"account": "other"}, "account"),
        ({"promises": [{"description": "Sneaky", "due_at": "2030-01-01T00:00:00Z"}]}, "promises"),
        ({"external_id": "ext-8"}, "external_id"),
    ],
)
def test_patch_rejects_bad_or_immutable_fields(rep_client, interaction, change, field):
    if change.get("account") == "other":
        change = {"account": AccountFactory(owner=interaction.account.owner).pk}
    before = Interaction.objects.values().get(pk=interaction.pk)

    answer = rep_client.patch(f"{URL}{interaction.pk}/", change, format="json")

    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert Interaction.objects.values().get(pk=interaction.pk) == before
    assert Promise.objects.count() == 0


def test_patch_cannot_move_an_interaction_into_the_future(rep_client, interaction):
    answer = rep_client.patch(f"{URL}{interaction.pk}/", {"occurred_at": future()}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == ["occurred_at"]


def test_interactions_cannot_be_deleted(rep_client, interaction):
    assert rep_client.delete(f"{URL}{interaction.pk}/").status_code == 405
    assert Interaction.objects.filter(pk=interaction.pk).exists()


# --- filters ----------------------------------------------------------------------------


def ids(answer):
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def test_filters_by_account_and_contact(team_a, rep_client, account, contact):
    with_contact = InteractionFactory(account=account)
    with_contact.contacts.add(contact)
    without = InteractionFactory(account=account)
    elsewhere = InteractionFactory(account=AccountFactory(owner=team_a.rep))

    assert ids(rep_client.get(URL, {"account": account.pk})) == {with_contact.pk, without.pk}
    assert ids(rep_client.get(URL, {"account": elsewhere.account_id})) == {elsewhere.pk}
    assert ids(rep_client.get(URL, {"contact": contact.pk})) == {with_contact.pk}


def test_filters_by_kind(rep_client, account):
    call = InteractionFactory(account=account, kind="call")
    InteractionFactory(account=account, kind="email")
    assert ids(rep_client.get(URL, {"kind": "call"})) == {call.pk}


def test_filters_by_when_it_occurred(rep_client, account):
    now = timezone.now()
    old = InteractionFactory(account=account, occurred_at=now - timedelta(days=30))
    recent = InteractionFactory(account=account, occurred_at=now - timedelta(days=1))
    cut = iso(now - timedelta(days=7))

    assert ids(rep_client.get(URL, {"occurred_after": cut})) == {recent.pk}
    assert ids(rep_client.get(URL, {"occurred_before": cut})) == {old.pk}


@pytest.mark.parametrize(
    "query", [{"occurred_after": "last week"}, {"kind": "fax"}, {"account": "acme"}]
)
def test_a_malformed_filter_is_a_400(rep_client, query):
    assert rep_client.get(URL, query).status_code == 400


@pytest.mark.parametrize("name", ["occurred_before", "occurred_after"])
@pytest.mark.parametrize("offset", ["+16:00", "-16:00"])
def test_an_occurred_filter_with_an_offset_beyond_15_59_is_a_400(rep_client, name, offset):
    answer = rep_client.get(URL, {name: f"2026-12-01T00:00:00{offset}"})
    assert answer.status_code == 400, answer.content
    assert answer.json() == {name: ["The UTC offset must lie between -15:59 and +15:59."]}


def test_the_answer_to_a_logged_call_is_its_detail(rep_client, account):
    zoe = ContactFactory(account=account, first_name="Zoe", last_name="Young")
    abe = ContactFactory(account=account, first_name="Abe", last_name="Adams")
    paris = timezone.get_fixed_timezone(120)
    occurred = (timezone.now() - timedelta(hours=3)).astimezone(paris)
    due = timezone.now() + timedelta(days=1)
    created = rep_client.post(
        URL,
        a_call(
            account,
            occurred_at=occurred.isoformat(),
            summary="  Walked through the proposal  ",
            sentiment=None,
            contacts=[zoe.pk, abe.pk],
            promises=[
                {"description": "Send the deck", "due_at": iso(due), "contact": zoe.pk},
                {
                    "description": "Overdue already",
                    "due_at": iso(timezone.now() - timedelta(hours=1)),
                },
            ],
        ),
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == rep_client.get(f"{URL}{body['id']}/").json()
    assert body["contacts"] == [abe.pk, zoe.pk]  # in name order, as every read gives them
    assert body["occurred_at"].endswith("Z")
    assert [p["is_overdue"] for p in body["promises"]] == [False, True]


def test_the_timeline_shows_each_calls_contacts_by_name_and_its_promises_by_id(rep_client, account):
    zed = ContactFactory(account=account, last_name="Zed", first_name="Ann")
    abe = ContactFactory(account=account, last_name="Abe", first_name="Bo")
    call = InteractionFactory(account=account)
    call.contacts.set([zed, abe])
    InteractionFactory(account=account, occurred_at=timezone.now() - timedelta(days=2))
    due = timezone.now() - timedelta(days=1)
    PromiseFactory(account=account, interaction=call, due_at=due)
    PromiseFactory(
        account=account,
        interaction=call,
        status=Promise.Status.KEPT,
        kept_at=due - timedelta(hours=1),
        due_at=due,
    )

    newest, older = rep_client.get(URL, {"account": account.pk}).json()["results"]

    assert newest["contacts"] == [abe.pk, zed.pk]  # by name, not by id
    assert [(p["is_overdue"], p["kept_on_time"]) for p in newest["promises"]] == [
        (True, None),
        (False, True),
    ]
    assert older["contacts"] == [] and older["promises"] == []


def test_a_time_without_its_offset_is_refused_with_how_to_write_it(rep_client, account):
    answer = rep_client.post(URL, a_call(account, occurred_at="2026-01-05T10:00:00"), format="json")
    assert answer.status_code == 400
    assert answer.json() == {
        "occurred_at": [
            "Give the time with its offset from UTC, such as 2026-03-01T09:30:00+01:00."
        ]
    }
