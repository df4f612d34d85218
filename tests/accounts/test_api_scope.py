"""Team scope across the whole API: another team's rows are invisible (404), untouched,
and a foreign key pointing at them reads exactly like an id that does not exist."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account, Contact, Team, User
from interactions.models import Interaction
from promises.models import Alert, Promise, PromiseEvent
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
    UserFactory,
)

MISSING_ID = 987654321


@dataclass
class World:
    """One of everything, all belonging to one team."""

    account: Account
    contact: Contact
    interaction: Interaction
    promise: Promise
    alert: Alert
    team: Team
    user: User


def build_world(owner) -> World:
    account = AccountFactory(owner=owner)
    contact = ContactFactory(account=account)
    interaction = InteractionFactory(account=account)
    interaction.contacts.add(contact)
    promise = PromiseFactory(account=account, interaction=interaction, contact=contact)
    alert = AlertFactory(account=account)
    return World(account, contact, interaction, promise, alert, owner.team, owner)


@pytest.fixture
def world_a(team_a):
    return build_world(team_a.rep)


def snapshot() -> dict:
    """Every row the API can write, so a test can prove that nothing changed."""
    models = [
        Account,
        Contact,
        Interaction,
        Interaction.contacts.through,
        Promise,
        PromiseEvent,
        Alert,
    ]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def in_future(days=1):
    return (timezone.now() + timedelta(days=days)).isoformat()


# (method, url, body) for every endpoint that addresses one row; "{x}" is a World field.
ROW_ENDPOINTS = [
    ("get", "/api/v1/teams/{team}/", None),
    ("get", "/api/v1/users/{user}/", None),
    ("get", "/api/v1/accounts/{account}/", None),
    ("patch", "/api/v1/accounts/{account}/", {"name": "Taken over"}),
    ("delete", "/api/v1/accounts/{account}/", None),
    ("get", "/api/v1/contacts/{contact}/", None),
    ("patch", "/api/v1/contacts/{contact}/", {"title": "Spy"}),
    ("delete", "/api/v1/contacts/{contact}/", None),
    ("get", "/api/v1/interactions/{interaction}/", None),
    ("patch", "/api/v1/interactions/{interaction}/", {"summary": "Rewritten"}),
    ("get", "/api/v1/promises/{promise}/", None),
    ("patch", "/api/v1/promises/{promise}/", {"description": "Rewritten"}),
    ("post", "/api/v1/promises/{promise}/keep/", {}),
    ("post", "/api/v1/promises/{promise}/renegotiate/", {"due_at": in_future(9), "note": ""}),
    ("post", "/api/v1/promises/{promise}/break/", {"note": "no"}),
    ("post", "/api/v1/promises/{promise}/release/", {"note": "no"}),
    ("get", "/api/v1/promises/{promise}/events/", None),
    ("get", "/api/v1/alerts/{alert}/", None),
    ("post", "/api/v1/alerts/{alert}/acknowledge/", {}),
    ("post", "/api/v1/alerts/{alert}/resolve/", {"note": "done"}),
]


def call(client, method, url, body):
    return (
        getattr(client, method)(url, body, format="json")
        if body is not None
        else (getattr(client, method)(url))
    )


@pytest.mark.parametrize(("method", "url", "body"), ROW_ENDPOINTS)
def test_another_teams_row_is_a_404_like_a_missing_one_and_stays_unchanged(
    world_a, team_b, as_user, method, url, body
):
    # A lead of the other team: the role that may do most, so 404 is the scope, not the role.
    client = as_user(team_b.lead)
    before = snapshot()
    ids = {name: getattr(world_a, name).pk for name in World.__dataclass_fields__}

    foreign = call(client, method, url.format(**ids), body)
    missing = call(client, method, url.format(**dict.fromkeys(ids, MISSING_ID)), body)

    assert foreign.status_code == 404, foreign.content
    assert foreign.json() == missing.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "endpoint", ["accounts", "contacts", "interactions", "promises", "alerts", "users", "teams"]
)
def test_lists_show_only_the_callers_team(world_a, team_b, as_user, endpoint):
    build_world(team_b.rep)
    seen_by_a = as_user(world_a.account.owner).get(f"/api/v1/{endpoint}/").json()["results"]
    seen_by_b = as_user(team_b.rep).get(f"/api/v1/{endpoint}/").json()["results"]

    ids_a, ids_b = {row["id"] for row in seen_by_a}, {row["id"] for row in seen_by_b}
    assert ids_a and ids_b
    assert not ids_a & ids_b


@pytest.mark.parametrize("endpoint", ["accounts", "contacts", "interactions", "promises", "alerts"])
def test_an_admin_sees_every_team(world_a, team_b, admin_client_api, endpoint):
    world_b = build_world(team_b.rep)
    seen = admin_client_api.get(f"/api/v1/{endpoint}/").json()["results"]

    model_name = endpoint[:-1]
    assert {row["id"] for row in seen} == {
        getattr(world_a, model_name).pk,
        getattr(world_b, model_name).pk,
    }


def test_a_user_in_no_team_who_is_not_an_admin_sees_nothing(world_a, as_user):
    loner = UserFactory(team=None)
    assert as_user(loner).get("/api/v1/accounts/").json()["results"] == []


# --- foreign keys in a request body ---------------------------------------------------


def fk_cases():
    """(method, url, body builder, field): body(ref) puts ``ref`` in ``field``."""
    due = in_future(3)
    return [
        (
            "post",
            "/api/v1/contacts/",
            lambda w, ref: {"account": ref, "first_name": "X"},
            "account",
        ),
        ("post", "/api/v1/accounts/", lambda w, ref: {"name": "X", "owner": ref}, "owner"),
        ("post", "/api/v1/accounts/", lambda w, ref: {"name": "X", "team": ref}, "team"),
        ("patch", "/api/v1/accounts/{account}/", lambda w, ref: {"owner": ref}, "owner"),
        (
            "post",
            "/api/v1/interactions/",
            lambda w, ref: {
                "account": ref,
                "kind": "call",
                "direction": "inbound",
                "occurred_at": timezone.now().isoformat(),
            },
            "account",
        ),
        (
            "post",
            "/api/v1/interactions/",
            lambda w, ref: {
                "account": w.account.pk,
                "contacts": [ref],
                "kind": "call",
                "direction": "inbound",
                "occurred_at": timezone.now().isoformat(),
            },
            "contacts",
        ),
        (
            "post",
            "/api/v1/interactions/",
            lambda w, ref: {
                "account": w.account.pk,
                "kind": "call",
                "direction": "inbound",
                "occurred_at": timezone.now().isoformat(),
                "promises": [{"description": "Quote", "due_at": due, "contact": ref}],
            },
            "promises",
        ),
        (
            "patch",
            "/api/v1/interactions/{interaction}/",
            lambda w, ref: {"contacts": [ref]},
            "contacts",
        ),
        (
            "post",
            "/api/v1/promises/",
            lambda w, ref: {"account": ref, "description": "Quote", "due_at": due},
            "account",
        ),
        *[
            (
                "post",
                "/api/v1/promises/",
                lambda w, ref, field=field: {
                    "account": w.account.pk,
                    "description": "Quote",
                    "due_at": due,
                    field: ref,
                },
                field,
            )
            for field in ("contact", "interaction", "owner")
        ],
        ("patch", "/api/v1/promises/{promise}/", lambda w, ref: {"contact": ref}, "contact"),
    ]


def foreign_ref(world_b: World, field: str, team_b) -> int:
    return {
        "account": world_b.account.pk,
        "contact": world_b.contact.pk,
        "contacts": world_b.contact.pk,
        "promises": world_b.contact.pk,
        "interaction": world_b.interaction.pk,
        "owner": team_b.rep.pk,
        "team": team_b.team.pk,
    }[field]


@pytest.mark.parametrize(("method", "url", "body", "field"), fk_cases())
def test_a_foreign_key_to_another_team_is_worded_exactly_like_a_missing_id(
    world_a, team_b, as_user, method, url, body, field
):
    world_b = build_world(team_b.rep)
    client = as_user(world_a.account.owner)
    url = url.format(
        account=world_a.account.pk, interaction=world_a.interaction.pk, promise=world_a.promise.pk
    )
    ref = foreign_ref(world_b, field, team_b)
    before = snapshot()

    foreign = getattr(client, method)(url, body(world_a, ref), format="json")
    missing = getattr(client, method)(url, body(world_a, MISSING_ID), format="json")

    assert foreign.status_code == 400, foreign.content
    assert list(foreign.json()) == [field]
    assert json.dumps(foreign.json()).replace(str(ref), "ID") == json.dumps(missing.json()).replace(
        str(MISSING_ID), "ID"
    )
    assert snapshot() == before


# --- filters by id ----------------------------------------------------------------------

FILTERS_BY_ID = [
    ("accounts", "owner", lambda world, team: team.rep.pk),
    ("accounts", "team", lambda world, team: team.team.pk),
    ("contacts", "account", lambda world, team: world.account.pk),
    ("interactions", "account", lambda world, team: world.account.pk),
    ("interactions", "contact", lambda world, team: world.contact.pk),
    ("promises", "owner", lambda world, team: team.rep.pk),
    ("promises", "account", lambda world, team: world.account.pk),
    ("promises", "interaction", lambda world, team: world.interaction.pk),
    ("alerts", "account", lambda world, team: world.account.pk),
    ("users", "team", lambda world, team: team.team.pk),
]


@pytest.mark.parametrize(("endpoint", "param", "foreign"), FILTERS_BY_ID)
def test_filtering_by_another_teams_row_answers_like_filtering_by_a_missing_one(
    world_a, team_b, as_user, endpoint, param, foreign
):
    world_b = build_world(team_b.rep)
    client = as_user(world_a.account.owner)

    on_foreign = client.get(f"/api/v1/{endpoint}/", {param: foreign(world_b, team_b)})
    on_missing = client.get(f"/api/v1/{endpoint}/", {param: MISSING_ID})

    assert on_foreign.status_code == on_missing.status_code == 200
    assert on_foreign.json() == on_missing.json() == {"next": None, "previous": None, "results": []}


@pytest.mark.parametrize("ref", [2**63, 10**30, "99999999999999999999", 0, -5])
def test_an_id_no_row_can_have_is_worded_like_a_missing_one(world_a, as_user, ref):
    client = as_user(world_a.account.owner)
    answer = client.post("/api/v1/contacts/", {"account": ref, "first_name": "X"}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"account": [f'Invalid pk "{ref}" - object does not exist.']}


@pytest.mark.parametrize("ref", [2**63, "-1", "1.5"])
def test_a_filter_by_an_id_no_row_can_have_is_a_400(world_a, as_user, ref):
    answer = as_user(world_a.account.owner).get("/api/v1/promises/", {"account": ref})
    assert answer.status_code == 400
    assert list(answer.json()) == ["account"]
