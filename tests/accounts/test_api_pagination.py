"""Every list is paginated by a cursor: walking it yields every row exactly once."""

import pytest

from promises import services
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
)

ROWS = 7


def make(endpoint, account):
    """One more row listed at ``endpoint``, inside ``account``."""
    return {
        "accounts": lambda: AccountFactory(owner=account.owner),
        "contacts": lambda: ContactFactory(account=account),
        "interactions": lambda: InteractionFactory(account=account),
        "promises": lambda: PromiseFactory(account=account),
        "alerts": lambda: AlertFactory(account=account),
    }[endpoint]()


def walk(client, url, on_each_page=lambda: None):
    seen, pages = [], 0
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert set(body) == {"next", "previous", "results"}
        seen += [row["id"] for row in body["results"]]
        pages += 1
        url = body["next"]
        on_each_page()
    return seen, pages


@pytest.mark.parametrize("endpoint", ["accounts", "contacts", "interactions", "promises", "alerts"])
def test_walking_a_list_yields_every_row_once_even_while_rows_are_added(
    team_a, rep_client, endpoint
):
    account = AccountFactory(owner=team_a.rep)
    existing = {make(endpoint, account).pk for _ in range(ROWS)}
    if endpoint == "accounts":
        existing.add(account.pk)

    seen, pages = walk(
        rep_client, f"/api/v1/{endpoint}/?page_size=3", on_each_page=lambda: make(endpoint, account)
    )

    assert len(seen) == len(set(seen))
    assert existing <= set(seen)
    assert pages >= 3


def test_a_promises_history_is_paginated_oldest_first(team_a, rep_client):
    promise = PromiseFactory(account=AccountFactory(owner=team_a.rep))
    for _ in range(3):
        services.renegotiate_promise(
            promise, by=team_a.rep, due_at=promise.due_at.replace(year=2100)
        )

    seen, pages = walk(rep_client, f"/api/v1/promises/{promise.pk}/events/?page_size=2")

    assert seen == sorted(promise.events.values_list("id", flat=True))
    assert pages == 2


def test_the_first_page_has_no_previous_and_the_last_no_next(team_a, rep_client):
    AccountFactory.create_batch(3, owner=team_a.rep)
    first = rep_client.get("/api/v1/accounts/?page_size=2").json()
    last = rep_client.get(first["next"]).json()
    assert first["previous"] is None and first["next"]
    assert last["next"] is None and last["previous"]


@pytest.mark.parametrize("page_size", ["abc", "null", "0", "-1", "1.5", "201", ""])
def test_a_page_size_that_is_not_1_to_200_is_a_400_not_silently_another_size(rep_client, page_size):
    answer = rep_client.get(f"/api/v1/accounts/?page_size={page_size}")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == ["page_size"]


def test_the_page_size_range_is_documented(rep_client):
    schema = rep_client.get("/api/v1/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/accounts/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
