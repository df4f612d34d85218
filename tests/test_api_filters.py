"""A filter value the API cannot read is a 400, never quietly "no filter" (found by schemathesis).

django-filter takes an empty value, and for a boolean anything but a boolean, as
if the filter had not been sent: ``?overdue=null`` listed every promise.
"""

import pytest

from tests.factories import AccountFactory, PromiseFactory
from tests.openapi_check import _schema


@pytest.mark.parametrize(
    "query",
    [
        "promises/?overdue=null",
        "promises/?overdue=1",
        "promises/?overdue=",
        "promises/export/?overdue=yes",
        "promises/?due_before=",
        "interactions/?occurred_before=",
        "interactions/export/?occurred_after=",
        "accounts/?owner=",
        "accounts/?band=",
        "alerts/?status=",
    ],
)
def test_a_filter_value_the_api_cannot_read_is_a_400(rep_client, team_a, query):
    PromiseFactory(account=AccountFactory(owner=team_a.rep))
    answer = rep_client.get(f"/api/v1/{query}")
    assert answer.status_code == 400, answer.content
    name = query.split("?")[1].split("=")[0]
    assert list(answer.json()) == [name]


def test_an_empty_search_still_lists_everything(rep_client, team_a):
    AccountFactory(owner=team_a.rep)
    answer = rep_client.get("/api/v1/accounts/?search=")
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == 1


def test_overdue_true_and_false_filter(rep_client, team_a):
    PromiseFactory(account=AccountFactory(owner=team_a.rep))
    assert len(rep_client.get("/api/v1/promises/?overdue=false").json()["results"]) == 1
    assert rep_client.get("/api/v1/promises/?overdue=true").json()["results"] == []


def test_id_filters_and_the_idempotency_key_document_their_range():
    paths = _schema()["paths"]
    owner = next(p for p in paths["/api/v1/promises/"]["get"]["parameters"] if p["name"] == "owner")
    assert owner["schema"]["minimum"] == 1
    key = next(
        p
        for p in paths["/api/v1/accounts/"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
