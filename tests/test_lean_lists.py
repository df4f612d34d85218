"""The hot lists answer exactly what the serializer answers for the same rows.

``GET /accounts/``, ``/interactions/`` and ``/promises/`` read their page as
plain rows (relcrm/api/lean.py); the detail of each row still goes through the
serializer. Every row of a list must equal its own detail, over rows that
exercise each field: health computed or not, kept on time and late, overdue,
contacts in name order, empty and null values.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from interactions.models import Interaction
from promises.models import Promise
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, PromiseFactory


@pytest.fixture
def varied(team_a):
    now = timezone.now()
    rep = team_a.rep
    scored = AccountFactory(
        owner=rep,
        domain="",
        health_score=81.5,
        health_band="healthy",
        health_confidence=0.425,
        health_computed_at=now - timedelta(minutes=3, microseconds=7),
    )
    AccountFactory(owner=team_a.other_rep)  # no health yet
    zed = ContactFactory(account=scored, last_name="Zed", first_name="Ann")
    abe = ContactFactory(account=scored, last_name="Abe", first_name="Bo")
    call = InteractionFactory(account=scored, external_id="crm-17", sentiment=None)
    call.contacts.set([zed, abe])
    InteractionFactory(
        account=scored,
        kind=Interaction.Kind.EMAIL,
        direction=Interaction.Direction.INBOUND,
        sentiment=-2,
        summary="",
        occurred_at=now - timedelta(days=2),
    )
    due = now - timedelta(days=1)
    PromiseFactory(account=scored, interaction=call, contact=abe, due_at=due)  # overdue
    PromiseFactory(
        account=scored,
        interaction=call,
        status=Promise.Status.KEPT,
        kept_at=due - timedelta(hours=1),
        due_at=due,
    )
    PromiseFactory(
        account=scored, status=Promise.Status.KEPT, kept_at=due + timedelta(hours=5), due_at=due
    )
    PromiseFactory(account=scored, owner=team_a.other_rep)  # open, due in three days
    return scored


@pytest.mark.parametrize(
    "endpoint, query, rows",
    [
        ("accounts", "", 2),
        ("interactions", "?account={account}", 2),
        ("promises", "", 4),
        ("promises", "?overdue=true", 1),
    ],
)
def test_each_row_of_a_list_equals_its_detail(varied, rep_client, endpoint, query, rows):
    listed = rep_client.get(f"/api/v1/{endpoint}/{query.format(account=varied.pk)}")
    assert listed.status_code == 200, listed.content
    results = listed.json()["results"]

    assert len(results) == rows
    for row in results:
        detail = rep_client.get(f"/api/v1/{endpoint}/{row['id']}/")
        assert row == detail.json()


def test_the_lists_show_what_the_rows_hold(varied, rep_client):
    accounts = {row["id"]: row for row in rep_client.get("/api/v1/accounts/").json()["results"]}
    assert accounts[varied.pk]["health"]["score"] == 81.5
    assert accounts[varied.pk]["health"]["computed_at"].endswith("Z")
    assert [row["health"] for row in accounts.values() if row["id"] != varied.pk] == [None]

    timeline = rep_client.get(f"/api/v1/interactions/?account={varied.pk}").json()["results"]
    call = timeline[0]
    contacts = sorted(varied.contacts.all(), key=lambda c: c.last_name)
    assert call["contacts"] == [c.pk for c in contacts]  # by name, not by id
    assert [p["is_overdue"] for p in call["promises"]] == [True, False]
    assert [p["kept_on_time"] for p in call["promises"]] == [None, True]
    assert timeline[1]["promises"] == [] and timeline[1]["contacts"] == []


def test_a_lean_list_served_without_pagination_is_a_plain_list(varied, rep_client, monkeypatch):
    from accounts.api import AccountViewSet

    paged = rep_client.get("/api/v1/accounts/").json()["results"]
    monkeypatch.setattr(AccountViewSet, "pagination_class", None)

    plain = rep_client.get("/api/v1/accounts/").json()
    assert sorted(plain, key=lambda row: row["id"]) == sorted(paged, key=lambda row: row["id"])
