"""Fixtures of the web UI tests: signed-in browsers (Django's test client) and a story's data."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from promises import services
from tests.factories import AccountFactory, ContactFactory
from trust.models import TrustSnapshot

COMPONENTS = {
    "reliability": {"value": 0.42, "weight": 0.4, "points": -11.5},
    "recovery": {"value": 0.5, "weight": 0.15, "points": -1.2},
    "engagement": {"value": 0.71, "weight": 0.2, "points": 1.8},
    "sentiment": {"value": 0.64, "weight": 0.15, "points": 0.9},
    "responsiveness": {"value": 0.8, "weight": 0.1, "points": 1.4},
}
EXPLANATION = [
    {"text": "2 promises broken silently in the last 90 days", "effect": -14},
    {"text": "No contact for 45 days; the usual rhythm is 14", "effect": -6.5},
    {"text": "Recent calls went well", "effect": 3},
]


def band_for(score: float) -> str:
    return "healthy" if score >= 70 else "watch" if score >= 40 else "at_risk"


def health_history(account: Account, scores, *, days_apart: float = 6) -> list[TrustSnapshot]:
    """Snapshots of ``scores`` (oldest first, the last one now), copied onto the account."""
    now = timezone.now()
    snapshots = []
    for age, score in enumerate(reversed(scores)):
        moment = now - timedelta(days=age * days_apart)
        snapshots.append(
            TrustSnapshot.objects.create(
                account=account,
                computed_at=moment,
                as_of=moment,
                score=score,
                band=band_for(score),
                confidence=0.62,
                components=COMPONENTS,
                explanation=EXPLANATION,
            )
        )
    latest = snapshots[0]
    Account.objects.filter(pk=account.pk).update(
        health_score=latest.score,
        health_band=latest.band,
        health_confidence=latest.confidence,
        health_computed_at=latest.computed_at,
    )
    account.refresh_from_db()
    return snapshots


@pytest.fixture
def signed_in():
    """``signed_in(user)`` -> a Django test client with that user's session."""

    def sign_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


def queries_to_get(client: Client, url: str) -> int:
    """How many SQL queries one GET of ``url`` costs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries)


def main_of(response) -> str:
    """The page's own content, without the top bar (which names the user)."""
    return response.content.decode().split("<main")[1]


HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx_from(path: str) -> dict:
    """The headers of an htmx request sent from the page at ``path`` (htmx names it)."""
    return {**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver{path}"}


@dataclass
class Story:
    account: Account
    ada: object
    grace: object
    call: object
    quote: object
    demo: object
    other_team_account: Account


@pytest.fixture
def story(team_a, team_b):
    """Alice's account Acme with two contacts, a call with two promises and a health history."""
    account = AccountFactory(name="Acme Corp", domain="acme.test", owner=team_a.rep)
    ada = ContactFactory(
        account=account,
        first_name="Ada",
        last_name="Lovelace",
        title="CTO",
        email="ada@acme.test",
        phone="+1 415 555 0132",
    )
    grace = ContactFactory(
        account=account,
        first_name="Grace",
        last_name="Hopper",
        title="COO",
        email="grace@acme.test",
        phone="+1 415 555 0177",
    )
    now = timezone.now()
    call, _ = services.log_interaction(
        account=account,
        logged_by=team_a.rep,
        kind="call",
        direction="outbound",
        occurred_at=now - timedelta(hours=2),
        summary="Renewal call: they want the revised quote and a demo.",
        sentiment=1,
        contacts=[ada],
        promises=[
            {"description": "Send the revised quote", "due_at": now + timedelta(days=2)},
            {"description": "Book the demo", "due_at": now + timedelta(days=5), "contact": grace},
        ],
    )
    quote, demo = call.promises.order_by("id")
    health_history(account, [78, 74, 69, 61, 55, 48])
    other = AccountFactory(name="Zeta Industries", owner=team_b.rep)
    return Story(account, ada, grace, call, quote, demo, other)
