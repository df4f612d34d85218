"""/api/v1/contacts/: the people at an account."""

import pytest

from accounts.models import Contact
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, PromiseFactory

URL = "/api/v1/contacts/"
FIELDS = {"id", "account", "first_name", "last_name", "email", "phone", "title", "external_id"}


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


def ids(answer):
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def test_creating_a_contact_answers_201_with_it(rep_client, account):
    answer = rep_client.post(
        URL,
        {
            "account": account.pk,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@acme.test",
            "phone": "+44 20 7946 0000",
            "title": "CTO",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert set(body) == FIELDS
    assert Contact.objects.get(pk=body["id"]).email == "ada@acme.test"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account": None}, "account"),
        ({"first_name": ""}, "first_name"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "1" * 41}, "phone"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_creates_nothing(rep_client, account, change, field):
    body = {"account": account.pk, "first_name": "Ada", **change}
    answer = rep_client.post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("missing", ["account", "first_name"])
def test_a_missing_required_field_is_a_400_naming_it(rep_client, account, missing):
    body = {"account": account.pk, "first_name": "Ada"}
    del body[missing]
    answer = rep_client.post(URL, body, format="json")
    assert answer.json() == {missing: ["This field is required."]}


def test_patch_edits_a_contact(rep_client, account):
    contact = ContactFactory(account=account, title="Buyer")
    answer = rep_client.patch(f"{URL}{contact.pk}/", {"title": "Head of buying"}, format="json")
    assert answer.status_code == 200
    contact.refresh_from_db()
    assert contact.title == "Head of buying"


def test_a_contact_cannot_move_to_another_account(team_a, rep_client, account):
    contact = ContactFactory(account=account)
    other = AccountFactory(owner=team_a.rep)
    answer = rep_client.patch(f"{URL}{contact.pk}/", {"account": other.pk}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"account": ["A contact cannot move to another account."]}
    contact.refresh_from_db()
    assert contact.account == account


def test_deleting_a_contact_keeps_the_interactions_and_promises_it_was_on(rep_client, account):
    contact = ContactFactory(account=account)
    interaction = InteractionFactory(account=account)
    interaction.contacts.add(contact)
    promise = PromiseFactory(account=account, contact=contact)

    assert rep_client.delete(f"{URL}{contact.pk}/").status_code == 204

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert list(interaction.contacts.all()) == []
    promise.refresh_from_db()
    assert promise.contact is None


def test_filters_by_account(team_a, rep_client, account):
    here = ContactFactory(account=account)
    ContactFactory(account=AccountFactory(owner=team_a.rep))
    assert ids(rep_client.get(URL, {"account": account.pk})) == {here.pk}


@pytest.mark.parametrize(
    ("term", "field"),
    [("lovel", "last_name"), ("ADA", "first_name"), ("@acme.test", "email"), ("7946", "phone")],
)
def test_search_matches_names_email_and_phone(rep_client, account, term, field):
    ada = ContactFactory(
        account=account,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.test",
        phone="+44 20 7946 0000",
    )
    ContactFactory(
        account=account, first_name="Bob", last_name="Smith", email="bob@b.test", phone="555"
    )
    assert ids(rep_client.get(URL, {"search": term})) == {ada.pk}
