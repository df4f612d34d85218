"""An id in a request body is a whole number: ``"account": 1.5`` is no account 1."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Account, Contact, User
from interactions.models import Interaction
from promises.models import Promise
from relcrm.api.fields import VisibleRelatedField
from tests.factories import AccountFactory, ContactFactory, PromiseFactory


def soon() -> str:
    return (timezone.now() + timedelta(days=3)).isoformat()


def ago() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


def a_promise(rows, **fields) -> dict:
    return {"account": rows["account"].pk, "description": "x", "due_at": soon(), **fields}


def a_call(rows, **fields) -> dict:
    body = {"account": rows["account"].pk, "kind": "call", "direction": "outbound"}
    return {**body, "occurred_at": ago(), **fields}


def promises_url(r):
    return "/api/v1/promises/"


def interactions_url(r):
    return "/api/v1/interactions/"


def contacts_url(r):
    return "/api/v1/contacts/"


def users_url(r):
    return "/api/v1/users/"


def account_url(r):
    return f"/api/v1/accounts/{r['account'].pk}/"


# (method, path, body) for the rows the test makes; ``h(x)`` is the id of x plus a half,
# which int() would read as x's own id.
CASES = {
    "promise's account": ("post", promises_url, lambda r, h: a_promise(r, account=h(r["account"]))),
    "promise's contact": ("post", promises_url, lambda r, h: a_promise(r, contact=h(r["contact"]))),
    "promise's owner": ("post", promises_url, lambda r, h: a_promise(r, owner=h(r["owner"]))),
    "interaction's account": (
        "post",
        interactions_url,
        lambda r, h: a_call(r, account=h(r["account"])),
    ),
    "interaction's contacts": (
        "post",
        interactions_url,
        lambda r, h: a_call(r, contacts=[h(r["contact"])]),
    ),
    "contact of a promise in an interaction": (
        "post",
        interactions_url,
        lambda r, h: a_call(
            r, promises=[{"description": "x", "due_at": soon(), "contact": h(r["contact"])}]
        ),
    ),
    "contact's account": (
        "post",
        contacts_url,
        lambda r, h: {"account": h(r["account"]), "first_name": "Ada"},
    ),
    "account's owner": ("patch", account_url, lambda r, h: {"owner": h(r["owner"])}),
    "user's team": (
        "post",
        users_url,
        lambda r, h: {"username": "newbie", "password": "a-long-pw", "team": 0.5},
    ),
}
# The field each case's 400 names.
FIELDS = {
    "promise's account": "account",
    "promise's contact": "contact",
    "promise's owner": "owner",
    "interaction's account": "account",
    "interaction's contacts": "contacts",
    "contact of a promise in an interaction": "promises",
    "contact's account": "account",
    "account's owner": "owner",
    "user's team": "team",
}


def snapshot() -> tuple:
    return (
        Promise.objects.count(),
        Interaction.objects.count(),
        Contact.objects.count(),
        User.objects.count(),
        list(Account.objects.values_list("id", "owner_id").order_by("id")),
    )


@pytest.mark.parametrize("case", CASES)
def test_a_fractional_id_is_a_400_naming_its_field_and_writes_nothing(
    team_a, admin_client_api, case
):
    method, path, body = CASES[case]
    account = AccountFactory(owner=team_a.rep)
    rows = {
        "account": account,
        "contact": ContactFactory(account=account),
        "owner": team_a.other_rep,
    }
    PromiseFactory(account=account)
    before = snapshot()
    answer = getattr(admin_client_api, method)(
        path(rows), body(rows, lambda row: row.pk + 0.5), format="json"
    )
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [FIELDS[case]]
    assert snapshot() == before


@pytest.mark.parametrize("value", [1.5, 0.5, float("inf"), -1.5])
def test_the_related_field_refuses_a_fractional_number(value):
    field = VisibleRelatedField(lambda user: Account.objects.all(), model=Account)
    with pytest.raises(serializers.ValidationError) as error:
        field.to_internal_value(value)
    assert error.value.detail == ["An id is a whole number."]
