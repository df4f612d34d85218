"""External ids: an account's unique in its team, a contact's and a promise's in their account."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Account, Contact
from promises.models import Promise
from tests.factories import AccountFactory, ContactFactory, PromiseFactory


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep, external_id="hs-1")


def test_an_account_carries_its_external_id_in_and_out(rep_client):
    answer = rep_client.post(
        "/api/v1/accounts/", {"name": "Acme", "external_id": "sf-001"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["external_id"] == "sf-001"
    assert rep_client.get(f"/api/v1/accounts/{answer.json()['id']}/").json()["external_id"] == (
        "sf-001"
    )
    assert Account.objects.get(external_id="sf-001").name == "Acme"


def test_an_accounts_external_id_is_unique_in_its_team_only(rep_client, other_team_client, account):
    taken = rep_client.post(
        "/api/v1/accounts/", {"name": "Dup", "external_id": "hs-1"}, format="json"
    )
    assert taken.status_code == 400
    assert taken.json() == {"external_id": ["Another account of this team has this external id."]}
    elsewhere = other_team_client.post(
        "/api/v1/accounts/", {"name": "Theirs", "external_id": "hs-1"}, format="json"
    )
    assert elsewhere.status_code == 201, elsewhere.content
    other = AccountFactory(owner=account.owner)
    patched = rep_client.patch(
        f"/api/v1/accounts/{other.pk}/", {"external_id": "hs-1"}, format="json"
    )
    assert patched.status_code == 400
    assert (
        rep_client.patch(
            f"/api/v1/accounts/{account.pk}/",
            {"external_id": "hs-1", "name": "Same"},
            format="json",
        ).status_code
        == 200
    )


def test_a_blank_external_id_is_none_and_never_collides(rep_client):
    for name in ("One", "Two"):
        answer = rep_client.post(
            "/api/v1/accounts/", {"name": name, "external_id": ""}, format="json"
        )
        assert answer.status_code == 201
        assert answer.json()["external_id"] is None
    assert Account.objects.filter(external_id__isnull=True).count() == 2


def test_a_contacts_external_id_is_unique_in_its_account(rep_client, team_a, account):
    ContactFactory(account=account, external_id="c-1")
    body = {"account": account.pk, "first_name": "Ada", "external_id": "c-1"}
    taken = rep_client.post("/api/v1/contacts/", body, format="json")
    assert taken.status_code == 400
    assert taken.json() == {
        "external_id": ["Another contact of this account has this external id."]
    }
    other = AccountFactory(owner=team_a.rep)
    answer = rep_client.post("/api/v1/contacts/", {**body, "account": other.pk}, format="json")
    assert answer.status_code == 201
    assert answer.json()["external_id"] == "c-1"


def test_a_promises_external_id_is_unique_in_its_account_and_fixed(rep_client, account):
    body = {
        "account": account.pk,
        "description": "Send the quote",
        "due_at": (timezone.now() + timedelta(days=2)).isoformat(),
        "external_id": "p-1",
    }
    answer = rep_client.post("/api/v1/promises/", body, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["external_id"] == "p-1"
    again = rep_client.post("/api/v1/promises/", body, format="json")
    assert again.status_code == 400
    assert again.json() == {
        "external_id": ["Another promise of this account has this external id."]
    }
    patched = rep_client.patch(
        f"/api/v1/promises/{answer.json()['id']}/", {"external_id": "p-2"}, format="json"
    )
    assert patched.status_code == 400
    assert patched.json() == {"external_id": ["The external id cannot be changed."]}


@pytest.mark.parametrize(
    "make",
    [
        lambda account: AccountFactory(owner=account.owner, external_id="x"),
        lambda account: ContactFactory(account=account, external_id="x"),
        lambda account: PromiseFactory(account=account, external_id="x"),
    ],
)
def test_the_database_refuses_a_second_external_id_in_the_same_scope(account, make):
    make(account)
    with pytest.raises(IntegrityError):
        make(account)


def test_nulls_are_not_external_ids(account):
    for _ in range(2):
        ContactFactory(account=account)
        PromiseFactory(account=account)
    assert Contact.objects.filter(external_id__isnull=True).count() == 2
    assert Promise.objects.filter(external_id__isnull=True).count() == 2
