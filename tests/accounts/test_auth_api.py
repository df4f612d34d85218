"""Signing in to the API: bearer tokens, stored hashed, revocable, throttled."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import revoke_token
from accounts.throttles import LoginRateThrottle
from tests.factories import PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token/"
API_ENDPOINTS = ["teams", "users", "accounts", "contacts", "interactions", "promises", "alerts"]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(username, password=PASSWORD):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_a_username_and_password_give_a_token_that_opens_the_api(team_a):
    answer = sign_in(team_a.rep.username)

    assert answer.status_code == 200, answer.content
    assert list(answer.json()) == ["token"]
    assert bearer(answer.json()["token"]).get("/api/v1/accounts/").status_code == 200


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "inactive user"])
def test_bad_credentials_are_a_400_that_does_not_say_which_part_was_wrong(team_a, who):
    if who == "inactive user":
        UserFactory(username="gone", team=team_a.team, is_active=False)
    username, password = {
        "wrong password": (team_a.rep.username, "not-the-password"),
        "unknown user": ("nobody", PASSWORD),
        "inactive user": ("gone", PASSWORD),
    }[who]

    answer = sign_in(username, password)

    assert answer.status_code == 400
    assert answer.json() == {
        "non_field_errors": ["Unable to log in with the provided credentials."]
    }
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["username", "password"]),
        ({"username": "alice"}, ["password"]),
        (["alice", PASSWORD], ["non_field_errors"]),
    ],
)
def test_a_malformed_token_request_is_a_400(db, body, fields):
    answer = APIClient().post(TOKEN_URL, body, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == fields


@pytest.mark.parametrize("endpoint", API_ENDPOINTS)
def test_every_endpoint_is_a_401_without_credentials(db, endpoint):
    answer = APIClient().get(f"/api/v1/{endpoint}/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Bearer 0123456789ab.wrong-secret",
        "Bearer",
        "Bearer two parts",
    ],
)
def test_a_bad_bearer_token_is_a_401(team_a, header):
    ApiToken.issue(team_a.rep)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/accounts/").status_code == 401


def test_a_token_with_the_right_prefix_but_a_wrong_secret_is_refused(team_a):
    token, clear = ApiToken.issue(team_a.rep)
    forged = f"{token.prefix}.{'x' * (len(clear) - len(token.prefix) - 1)}"
    assert bearer(forged).get("/api/v1/accounts/").status_code == 401


def test_the_clear_token_is_nowhere_in_the_database(team_a):
    clear = sign_in(team_a.rep.username).json()["token"]
    _, secret = clear.split(".")

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)

    assert secret not in dump.getvalue()
    assert ApiToken.objects.get().key_hash != clear


def test_delete_revokes_the_token_in_use_and_only_that_one(team_a):
    _, first = ApiToken.issue(team_a.rep)
    _, second = ApiToken.issue(team_a.rep)

    assert bearer(first).delete(TOKEN_URL).status_code == 204

    assert bearer(first).get("/api/v1/accounts/").status_code == 401
    assert bearer(second).get("/api/v1/accounts/").status_code == 200
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_a_revoked_token_is_refused(team_a):
    token, clear = ApiToken.issue(team_a.rep)
    revoke_token(token)
    assert bearer(clear).get("/api/v1/accounts/").status_code == 401


def test_the_token_of_a_deactivated_user_is_refused(team_a):
    _, clear = ApiToken.issue(team_a.rep)
    team_a.rep.is_active = False
    team_a.rep.save()
    assert bearer(clear).get("/api/v1/accounts/").status_code == 401


def test_using_a_token_records_when_it_was_last_used(team_a):
    token, clear = ApiToken.issue(team_a.rep)
    bearer(clear).get("/api/v1/accounts/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_auth_works_for_the_browsable_api(team_a):
    client = APIClient()
    client.force_login(team_a.rep)
    assert client.get("/api/v1/accounts/").status_code == 200


def test_the_token_endpoint_is_throttled_per_address_and_username(team_a, monkeypatch):
    monkeypatch.setattr(LoginRateThrottle, "THROTTLE_RATES", {"login": "2/minute"})

    attempts = [sign_in(team_a.rep.username, "guess").status_code for _ in range(3)]

    assert attempts == [400, 400, 429]
    assert "Retry-After" in sign_in(team_a.rep.username)
    # Another username from the same address has its own allowance.
    assert sign_in("someone-else", "guess").status_code == 400


# --- manage.py createapitoken -------------------------------------------------------------


def test_createapitoken_prints_a_working_token(team_a):
    out = io.StringIO()
    call_command("createapitoken", team_a.rep.username, stdout=out)

    clear = out.getvalue().strip()
    assert bearer(clear).get("/api/v1/accounts/").status_code == 200
    assert ApiToken.objects.get().user == team_a.rep


def test_createapitoken_for_an_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match='No user named "ghost"'):
        call_command("createapitoken", "ghost")
    assert not ApiToken.objects.exists()


def test_a_found_token_and_its_user_are_what_the_orm_loads(team_a):
    token, clear = ApiToken.issue(team_a.lead, name="integration")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    found = ApiToken.find(clear)
    loaded = ApiToken.objects.select_related("user").get(pk=token.pk)
    for model, mine, theirs in ((ApiToken, found, loaded), (User, found.user, loaded.user)):
        for field in model._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.name
        assert (mine._state.adding, mine._state.db) == (False, theirs._state.db)
    assert found.user.role == "lead"
    with CaptureQueriesContext(connection) as queries:
        assert found.user.pk == found.user_id  # loaded with the token, no query
    assert not queries.captured_queries
    assert ApiToken.find(f"{token.prefix}.wrong") is None
    assert ApiToken.find("nodot") is None
