"""Every error under /api/ is JSON ``{"detail": ...}``, also those Django answers before any view.

Found by schemathesis (tests/test_api_fuzz.py): ``GET /api/v1/accounts/1.5/`` (an id
no route matches) answered the web UI's HTML "Not found" page, a content type
the API never documents; so did every other error Django answers itself.
"""

import json

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_protect
from rest_framework.test import APIClient

from accounts.models import Account
from relcrm import urls as project_urls
from tests.factories import AccountFactory
from tests.openapi_check import _schema


def _detail(answer) -> str:
    assert answer["Content-Type"] == "application/json", answer.content[:200]
    body = answer.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str), body
    return body["detail"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/accounts/1.5/", "/api/v1/accounts/null/health/", "/api/v1/no-such-thing/", "/api/"],
)
def test_a_url_no_route_matches_is_a_json_404_under_the_api(rep_client, url):
    answer = rep_client.get(url)
    assert answer.status_code == 404
    assert _detail(answer) == "Not found."


def test_the_web_ui_keeps_its_html_pages(client):
    answer = client.get("/no-such-page/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")


def test_a_host_not_allowed_is_a_json_400(rep_client):
    answer = rep_client.get("/api/v1/accounts/", HTTP_HOST="attacker.example")
    assert answer.status_code == 400
    assert "cannot read" in _detail(answer)


def test_a_body_over_the_upload_limit_is_a_json_413_and_writes_nothing(rep_client, team_a):
    body = json.dumps({"name": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "team": team_a.team.pk})
    answer = rep_client.post("/api/v1/accounts/", body, content_type="application/json")
    assert answer.status_code == 413
    assert "larger" in _detail(answer)
    assert not Account.objects.exists()


def test_a_method_an_endpoint_does_not_offer_is_a_json_405(rep_client, team_a):
    account = AccountFactory(team=team_a.team)
    answer = rep_client.put(f"/api/v1/accounts/{account.pk}/", {"name": "Acme"})
    assert answer.status_code == 405
    _detail(answer)


def _fails(request):
    raise RuntimeError("a bug")


@csrf_protect
def _protected(request):
    return HttpResponse("written")


urlpatterns = [
    path("api/v1/_fails/", _fails),
    path("api/v1/_protected/", _protected),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.mark.urls(__name__)
def test_an_uncaught_exception_is_a_json_500_under_the_api(db):
    client = APIClient(raise_request_exception=False)
    answer = client.get("/api/v1/_fails/")
    assert answer.status_code == 500
    assert "went wrong" in _detail(answer)


@pytest.mark.urls(__name__)
def test_a_failed_csrf_check_is_a_json_403_under_the_api(db):
    answer = APIClient(enforce_csrf_checks=True).post("/api/v1/_protected/")
    assert answer.status_code == 403
    assert _detail(answer).startswith("CSRF check failed")


def test_every_operation_documents_a_400_and_every_body_a_413():
    for operations in _schema()["paths"].values():
        for method, operation in operations.items():
            assert "400" in operation["responses"], method
            if "requestBody" in operation:
                assert "413" in operation["responses"], method
