"""Every list and detail endpoint costs the same number of queries for 2 rows as for 30.

An N+1 (a serializer reaching for a related row per item) shows here as a
count that grows with the rows; the benchmarks only show it as a slow page.

Each test builds a team's data with 2 of everything, counts the queries of
one request, grows every collection to 30 and asserts the same count. Lists
must return all 30 rows (one page); details are of an object whose nested
collections (an interaction's promises and contacts) grew too. The request
is made once before counting, so the once-a-minute token touch is not counted.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from promises.models import Alert, Promise, PromiseEvent
from tests.conftest import client_for
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
    TeamFactory,
    UserFactory,
)

SMALL, LARGE = 2, 30
# A ceiling on what any endpoint may cost: authentication, the page, and one
# prefetch per nested collection.
MAX_QUERIES = 6


@dataclass
class TeamData:
    """A team's rows, grown collection by collection with ``grow_to``."""

    team_a: object
    size: int = 0
    accounts: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rep = self.team_a.rep
        self.account = AccountFactory(owner=self.rep)
        self.contact = ContactFactory(account=self.account)
        self.interaction = InteractionFactory(account=self.account, logged_by=self.rep)
        self.promise = PromiseFactory(account=self.account, owner=self.rep)
        self.alert = AlertFactory(account=self.account)

    def grow_to(self, size: int) -> None:
        """Add rows until every collection the endpoints list holds ``size`` of them."""
        for _ in range(size - self.size):
            TeamFactory()
            UserFactory(team=self.team_a.team)
            account = AccountFactory(
                owner=self.rep,
                health_score=72.5,
                health_band="healthy",
                health_confidence=0.6,
                health_computed_at=timezone.now(),
            )
            contact = ContactFactory(account=account)
            interaction = InteractionFactory(account=account, logged_by=self.rep)
            interaction.contacts.add(contact)
            self.interaction.contacts.add(ContactFactory(account=self.account))
            PromiseFactory(
                account=self.account,
                owner=self.rep,
                interaction=self.interaction,
                contact=self.contact,
            )
            broken = PromiseFactory(
                account=account,
                owner=self.rep,
                interaction=interaction,
                contact=contact,
                status=Promise.Status.BROKEN,
                broken_at=timezone.now(),
            )
            Alert.objects.create(kind=Alert.Kind.PROMISE_BROKEN, account=account, promise=broken)
            AlertFactory(account=account)
            PromiseEvent.objects.create(
                promise=self.promise, kind=PromiseEvent.Kind.RENEGOTIATED, by=self.rep
            )
        self.size = size


def _lists(data: TeamData) -> dict[str, tuple[str, int]]:
    """Each list endpoint and how many rows it holds once every collection has ``size``."""
    n = data.size
    return {
        "teams": ("/api/v1/teams/", n + 1),  # as an admin: team_a and one per row
        "users": ("/api/v1/users/", n + 3),  # rep, other_rep and lead of team_a
        "accounts": ("/api/v1/accounts/", n + 1),
        "contacts": ("/api/v1/contacts/", 2 * n + 1),
        "interactions": ("/api/v1/interactions/", n + 1),
        "promises": ("/api/v1/promises/", 2 * n + 1),
        "promise events": (f"/api/v1/promises/{data.promise.pk}/events/", n + 1),
        "alerts": ("/api/v1/alerts/", 2 * n + 1),
    }


def _details(data: TeamData) -> dict[str, str]:
    return {
        "team": f"/api/v1/teams/{data.team_a.team.pk}/",
        "user": f"/api/v1/users/{data.rep.pk}/",
        "account": f"/api/v1/accounts/{data.account.pk}/",
        "contact": f"/api/v1/contacts/{data.contact.pk}/",
        "interaction": f"/api/v1/interactions/{data.interaction.pk}/",
        "promise": f"/api/v1/promises/{data.promise.pk}/",
        "alert": f"/api/v1/alerts/{data.alert.pk}/",
    }


def _get(client, url: str) -> tuple[dict, int]:
    """GET ``url`` (once to warm up, once counted); the body and the number of queries."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json(), len(queries)


@pytest.fixture
def data(team_a):
    return TeamData(team_a)


@pytest.fixture
def client_for_endpoint(data, admin_user):
    """Teams are listed as an admin (a rep sees one team); everything else as a rep."""

    def make(name: str):
        return client_for(admin_user if name.startswith("team") else data.rep)

    return make


LISTS = [
    "teams", "users", "accounts", "contacts", "interactions", "promises", "promise events",
    "alerts",
]  # fmt: skip
DETAILS = ["team", "user", "account", "contact", "interaction", "promise", "alert"]


@pytest.mark.parametrize("name", LISTS)
def test_a_list_costs_the_same_queries_for_2_rows_as_for_30(
    name, data, client_for_endpoint, django_assert_num_queries
):
    client = client_for_endpoint(name)
    data.grow_to(SMALL)
    url, _ = _lists(data)[name]
    url += "?page_size=100"  # one page whatever the size
    _, small = _get(client, url)
    assert small <= MAX_QUERIES, f"{name}: {small} queries for {SMALL} rows"

    data.grow_to(LARGE)
    url, expected_rows = _lists(data)[name]
    url += "?page_size=100"
    client.get(url)
    with django_assert_num_queries(small):
        response = client.get(url)
    assert len(response.json()["results"]) == expected_rows


@pytest.mark.parametrize("name", DETAILS)
def test_a_detail_costs_the_same_queries_for_2_rows_as_for_30(
    name, data, client_for_endpoint, django_assert_num_queries
):
    client = client_for_endpoint(name)
    data.grow_to(SMALL)
    _, small = _get(client, _details(data)[name])
    assert small <= MAX_QUERIES, f"{name}: {small} queries with {SMALL} rows"

    data.grow_to(LARGE)
    url = _details(data)[name]
    client.get(url)
    with django_assert_num_queries(small):
        body = client.get(url).json()
    if name == "interaction":
        assert len(body["promises"]) == LARGE and len(body["contacts"]) == LARGE


# Logging an interaction with its promises: authentication, the account, one
# statement for the interaction, its contacts, promises, events, answer times and
# stale mark, the repair of earlier breaks (a warm outbound touch), and the
# transaction around them; nothing per promise and nothing read back.
MAX_POST_QUERIES = 6


def _log_interaction(client, data: TeamData, promises: int) -> tuple[dict, int]:
    now = timezone.now()
    body = {
        "account": data.account.pk,
        "kind": "call",
        "direction": "outbound",
        "occurred_at": (now - timedelta(hours=1)).isoformat(),
        "summary": "Renewal call",
        "sentiment": 1,
        "promises": [
            {"description": f"Follow-up {n}", "due_at": (now + timedelta(days=n + 1)).isoformat()}
            for n in range(promises)
        ],
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/interactions/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json(), len(queries)


def test_logging_an_interaction_costs_the_same_queries_for_1_promise_as_for_3(data):
    client = client_for(data.rep)
    assert client.get(f"/api/v1/accounts/{data.account.pk}/").status_code == 200

    _, one = _log_interaction(client, data, promises=1)
    body, three = _log_interaction(client, data, promises=3)

    assert one <= MAX_POST_QUERIES, f"{one} queries to log an interaction with 1 promise"
    assert three == one, f"{one} queries with 1 promise, {three} with 3"
    assert [p["description"] for p in body["promises"]] == [
        "Follow-up 0",
        "Follow-up 1",
        "Follow-up 2",
    ]
