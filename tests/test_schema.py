"""/api/v1/schema/ and /api/v1/docs/: the documented API, readable without internet."""

import re

import pytest
from django.http import JsonResponse
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.openapi_check import UNDOCUMENTED, check_answer

DOCUMENTED_PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/teams/",
    "/api/v1/users/",
    "/api/v1/accounts/",
    "/api/v1/accounts/{id}/",
    "/api/v1/contacts/",
    "/api/v1/contacts/{id}/",
    "/api/v1/interactions/",
    "/api/v1/interactions/{id}/",
    "/api/v1/promises/",
    "/api/v1/promises/{id}/",
    "/api/v1/promises/{id}/keep/",
    "/api/v1/promises/{id}/renegotiate/",
    "/api/v1/promises/{id}/break/",
    "/api/v1/promises/{id}/release/",
    "/api/v1/promises/{id}/events/",
    "/api/v1/alerts/",
    "/api/v1/alerts/{id}/",
    "/api/v1/alerts/{id}/acknowledge/",
    "/api/v1/alerts/{id}/resolve/",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        answer = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_schema_is_a_valid_openapi_3_document(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_endpoint_is_documented(schema, path):
    assert path in schema["paths"]


def test_the_bearer_token_is_the_documented_way_in(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/auth/token/ or `manage.py createapitoken`.",
    }


def test_id_filters_are_documented_as_integers(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/promises/"]["get"]["parameters"]}
    assert parameters["account"]["schema"]["type"] == "integer"
    assert parameters["owner"]["schema"]["type"] == "integer"


def test_the_docs_page_loads_every_asset_from_this_server(db):
    client = APIClient()
    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page references no assets"
    assert "://" not in " ".join(assets)
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])


def _answer(status: int, body) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)


def test_every_answer_is_held_to_its_operations_schema():
    team = {"id": 1, "name": "North", "created_at": "2026-01-02T03:04:05Z"}
    check_answer("get", "/api/v1/teams/1/", _answer(200, team))  # as documented

    for wrong in ({**team, "extra": 1}, {"id": 1, "name": "North"}, {**team, "id": "1"}):
        with pytest.raises(pytest.fail.Exception, match="does not allow"):
            check_answer("get", "/api/v1/teams/1/", _answer(200, wrong))


def test_an_undocumented_status_fails_and_an_error_is_held_to_its_schema_too():
    with pytest.raises(AssertionError, match="answered 202, undocumented"):
        check_answer("get", "/api/v1/teams/1/", _answer(202, {}))
    with pytest.raises(AssertionError, match="does not document"):
        check_answer("get", "/api/v1/teams/1/", _answer(418, {}))
    assert not UNDOCUMENTED, "every error answer the suite receives is documented"

    check_answer("get", "/api/v1/teams/1/", _answer(404, {"detail": "Not found."}))
    with pytest.raises(pytest.fail.Exception, match="does not allow"):
        check_answer("get", "/api/v1/teams/1/", _answer(404, {"message": "Not found."}))
