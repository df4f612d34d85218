"""API tokens with a lifecycle: a name, an optional expiry, a scope; listed and revoked by
their owner (API, web page, command)."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEvent
from tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(user, **options):
    body = {"username": user.username, "password": PASSWORD, **options}
    return APIClient().post(TOKEN_URL, body, format="json")


def test_a_token_is_issued_with_its_name_scope_and_expiry(team_a):
    answer = sign_in(team_a.rep, name="ERP sync", expires_in_days=30, scope="read")

    assert answer.status_code == 200, answer.content
    token = ApiToken.objects.get()
    assert (token.name, token.scope) == ("ERP sync", "read")
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert "read" in AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_CREATED).detail


def test_without_options_a_token_reads_and_writes_until_revoked(team_a):
    sign_in(team_a.rep)

    token = ApiToken.objects.get()
    assert (token.scope, token.expires_at) == ("read_write", None)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": -3}, "expires_in_days"),
        ({"expires_in_days": 10**12}, "expires_in_days"),
        ({"expires_in_days": 1.5}, "expires_in_days"),
        ({"expires_in_days": "7"}, "expires_in_days"),
        ({"expires_in_days": True}, "expires_in_days"),
        ({"scope": "admin"}, "scope"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_a_bad_option_is_a_400_on_its_field_and_issues_nothing(team_a, options, field):
    answer = sign_in(team_a.rep, **options)

    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    assert not ApiToken.objects.exists()


def test_a_read_token_reads_and_is_refused_every_write(team_a):
    clear = sign_in(team_a.rep, scope="read").json()["token"]
    client = bearer(clear)

    assert client.get("/api/v1/accounts/").status_code == 200
    answer = client.post("/api/v1/accounts/", {"name": "Acme"}, format="json")
    assert answer.status_code == 403
    assert "read" in answer.json()["detail"]
    assert client.delete(TOKEN_URL).status_code == 403


def test_an_expired_token_is_a_401(team_a):
    clear = sign_in(team_a.rep, expires_in_days=1).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    answer = bearer(clear).get("/api/v1/accounts/")

    assert answer.status_code == 401
    assert answer.json() == {"detail": "This token has expired."}


def test_you_list_your_own_tokens_without_their_secrets(team_a, team_b):
    mine = sign_in(team_a.rep, name="mine", scope="read").json()["token"]
    sign_in(team_a.rep, name="revoked")
    bearer(sign_in(team_a.rep).json()["token"]).delete(TOKEN_URL)
    sign_in(team_b.rep, name="theirs")

    answer = bearer(mine).get(TOKENS_URL)

    assert answer.status_code == 200
    listed = answer.json()["results"]
    assert [token["name"] for token in listed] == ["revoked", "mine"]
    assert set(listed[1]) == {
        "id", "name", "prefix", "scope", "created_at", "last_used_at", "expires_at",
    }  # fmt: skip
    assert listed[1]["prefix"] == mine.partition(".")[0]
    assert listed[1]["last_used_at"] is not None  # this very request
    assert mine.partition(".")[2] not in answer.content.decode()


def test_you_revoke_one_of_your_tokens_and_not_another_users(team_a, team_b):
    mine = sign_in(team_a.rep, name="main").json()["token"]
    spare = sign_in(team_a.rep, name="spare").json()["token"]
    theirs = ApiToken.objects.get(name="spare")
    sign_in(team_b.rep, name="theirs")
    other = ApiToken.objects.get(name="theirs")

    assert bearer(mine).delete(f"{TOKENS_URL}{other.pk}/").status_code == 404
    assert bearer(mine).delete(f"{TOKENS_URL}{theirs.pk}/").status_code == 204

    assert bearer(spare).get("/api/v1/accounts/").status_code == 401
    assert bearer(mine).get("/api/v1/accounts/").status_code == 200
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_REVOKED).count() == 1


def test_last_used_is_written_at_most_once_a_minute(team_a):
    clear = sign_in(team_a.rep).json()["token"]
    client = bearer(clear)
    client.get("/api/v1/teams/")
    first = ApiToken.objects.get().last_used_at

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/teams/")
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    assert ApiToken.objects.get().last_used_at == first

    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/teams/")
    assert ApiToken.objects.get().last_used_at > first


def test_createapitoken_takes_the_same_options(team_a):
    out = io.StringIO()
    call_command(
        "createapitoken", team_a.rep.username, "--name", "bi", "--expires-in-days", "7",
        "--scope", "read", stdout=out,
    )  # fmt: skip

    token = ApiToken.objects.get()
    assert (token.name, token.scope) == ("bi", "read")
    assert token.expires_at is not None
    assert bearer(out.getvalue().strip()).get("/api/v1/accounts/").status_code == 200


@pytest.mark.parametrize("days", ["0", "-1", "99999"])
def test_createapitoken_refuses_a_bad_lifetime(team_a, days):
    with pytest.raises(CommandError, match="expires-in-days"):
        call_command("createapitoken", team_a.rep.username, "--expires-in-days", days)
    assert not ApiToken.objects.exists()


def test_the_token_page_creates_lists_and_revokes_your_tokens(client, team_a, team_b):
    ApiToken.issue(team_b.rep, name="theirs")
    client.force_login(team_a.rep)

    page = client.post("/tokens/", {"name": "ERP sync", "expires_in_days": "30", "scope": "read"})

    assert page.status_code == 200
    token = ApiToken.objects.get(user=team_a.rep)
    clear = page.context["clear"]
    assert clear.startswith(token.prefix) and clear in page.content.decode()
    assert (token.name, token.scope) == ("ERP sync", "read")
    listing = client.get("/tokens/").content.decode()
    assert "ERP sync" in listing and "theirs" not in listing and clear not in listing

    other = ApiToken.objects.get(name="theirs")
    assert client.post(f"/tokens/{other.pk}/revoke/").status_code == 404
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None


@pytest.mark.parametrize("days", ["0", "-2", "1.5", "100000"])
def test_the_token_page_refuses_a_bad_lifetime(client, team_a, days):
    client.force_login(team_a.rep)

    page = client.post("/tokens/", {"name": "x", "expires_in_days": days, "scope": "read"})

    assert page.status_code == 400
    assert page.context["form"].errors["expires_in_days"]
    assert not ApiToken.objects.exists()
