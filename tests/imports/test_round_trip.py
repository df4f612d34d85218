"""What an export writes, an import reads back: quotes, commas, newlines and accents kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account, Contact
from interactions.models import Interaction
from promises.models import Promise
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, PromiseFactory
from tests.imports.helpers import imported

TRICKY = 'Zoë "the boss" Ångström, CEO;\nsays: «déjà vu», 1,5 € — ok?\r\nNext line'


def export(client, resource: str) -> bytes:
    response = client.get(f"/api/v1/{resource}/export/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep, name=TRICKY, domain="zoë.example")


def test_accounts_round_trip(rep_client, team_a, account):
    data = export(rep_client, "accounts")
    Account.objects.all().delete()
    job = imported(team_a.rep, "accounts", data)
    assert job.status == "succeeded", job.errors
    copy = Account.objects.get()
    assert (copy.name, copy.domain, copy.owner) == (TRICKY, "zoë.example", team_a.rep)


def test_contacts_round_trip(rep_client, team_a, account):
    ContactFactory(account=account, first_name=TRICKY, last_name="O'Brien, Jr.", title="Ünïcode")
    data = export(rep_client, "contacts")
    job = imported(team_a.rep, "contacts", data)
    assert (job.status, job.created) == ("succeeded", 1), job.errors
    original, copy = Contact.objects.order_by("id")
    for name in ("account_id", "first_name", "last_name", "email", "phone", "title"):
        assert getattr(copy, name) == getattr(original, name), name


def test_interactions_round_trip(rep_client, team_a, account):
    people = [ContactFactory(account=account) for _ in range(2)]
    call = InteractionFactory(
        account=account,
        summary=TRICKY,
        sentiment=-2,
        occurred_at=timezone.now() - timedelta(days=3),
    )
    call.contacts.set(people)
    data = export(rep_client, "interactions")
    job = imported(team_a.rep, "interactions", data)
    assert (job.status, job.created) == ("succeeded", 1), job.errors
    copy = Interaction.objects.exclude(pk=call.pk).get()
    assert (copy.summary, copy.sentiment, copy.occurred_at, copy.kind, copy.direction) == (
        TRICKY,
        -2,
        call.occurred_at,
        call.kind,
        call.direction,
    )
    assert set(copy.contacts.all()) == set(people)


def test_promises_round_trip_by_their_external_ids(rep_client, team_a, account):
    original = PromiseFactory(account=account, description=TRICKY, external_id="p-ø")
    data = export(rep_client, "promises")
    assert imported(team_a.rep, "promises", data).created == 0  # already there
    Promise.objects.update(external_id="renamed")
    job = imported(team_a.rep, "promises", data)
    assert (job.status, job.created) == ("succeeded", 1), job.errors
    copy = Promise.objects.get(external_id="p-ø")
    assert (copy.description, copy.due_at, copy.created_at, copy.status) == (
        TRICKY,
        original.due_at,
        original.created_at,
        "open",
    )
