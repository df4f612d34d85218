"""The API reads JSON only, and JSON it can read: bounded in depth and size, a 400 otherwise."""

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from promises.models import Alert
from relcrm.api.parsers import JSONParser
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
)
from tests.openapi_check import _schema

# 200 KB of [[[...]]]: deeper than Python's recursion limit.
DEEPLY_NESTED = "[" * 100_000 + "]" * 100_000

BODY_OPERATIONS = sorted(
    (method, path)
    for path, operations in _schema()["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
    # The CSV import's body is the file itself, read by its own parser.
    and "application/json" in operation["requestBody"]["content"]
)


@pytest.fixture
def admin_api(admin_user):
    """An admin's client, and a row of each kind to name in a path."""
    client = APIClient()
    client.force_authenticate(admin_user)
    account = AccountFactory()
    rows = {
        "accounts": account,
        "contacts": ContactFactory(account=account),
        "interactions": InteractionFactory(account=account),
        "promises": PromiseFactory(account=account),
        "alerts": AlertFactory(account=account),
    }
    return client, rows


def url_of(path: str, rows: dict) -> str:
    resource = path.removeprefix("/api/v1/").split("/")[0]
    return path.replace("{id}", str(rows[resource].pk)) if "{id}" in path else path


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_deeply_nested_json_is_a_400_on_every_endpoint_that_reads_a_body(admin_api, method, path):
    client, rows = admin_api
    answer = getattr(client, method)(
        url_of(path, rows), DEEPLY_NESTED, content_type="application/json"
    )
    assert answer.status_code == 400, answer.content
    assert answer.json() == {"detail": f"JSON nested deeper than {JSONParser.max_depth} levels."}


def test_deeply_nested_json_is_a_400_at_sign_in_before_any_credentials():
    answer = APIClient().post("/api/v1/auth/token/", DEEPLY_NESTED, content_type="application/json")
    assert answer.status_code == 400
    assert "nested deeper" in answer.json()["detail"]


def test_json_as_deep_as_allowed_is_read(admin_api):
    client, rows = admin_api
    nested = "[" * (JSONParser.max_depth - 1) + "]" * (JSONParser.max_depth - 1)
    body = '{"note": "Called Ana", "extra": ' + nested + "}"
    url = f"/api/v1/alerts/{rows['alerts'].pk}/resolve/"
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 200, answer.content


def test_a_body_larger_than_the_upload_limit_is_a_413_and_changes_nothing(admin_api):
    client, rows = admin_api
    body = json.dumps({"note": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    url = f"/api/v1/alerts/{rows['alerts'].pk}/resolve/"
    answer = client.post(url, body, content_type="application/json")
    assert answer.status_code == 413
    assert Alert.objects.get(pk=rows["alerts"].pk).status == Alert.Status.OPEN


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/accounts/"])
def test_a_body_other_than_json_is_a_415(admin_api, path, content_type):
    client, _ = admin_api
    answer = client.post(path, "name=Acme", content_type=content_type)
    assert answer.status_code == 415


def test_every_operation_but_the_csv_upload_documents_a_json_body_only():
    media_types = {
        media_type
        for path in _schema()["paths"]
        if path != "/api/v1/imports/"
        for operation in _schema()["paths"][path].values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert media_types == {"application/json"}
