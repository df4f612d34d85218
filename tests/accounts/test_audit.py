"""The audit log: every sign-in, failed sign-in, API token created or revoked, and role change.

Each entry says who (the account it concerns and who acted), when and from which address;
admins read it in the admin, where nobody can change or delete it.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent
from tests.accounts.sign_ins import form_attempt, token_attempt
from tests.factories import PASSWORD

Kind = AuditEvent.Kind
ADDRESS = "192.0.2.44"


def entries():
    """The log, oldest first, as (kind, username, who acted, address)."""
    return [
        (event.kind, event.username, event.actor.username if event.actor else None, event.address)
        for event in AuditEvent.objects.order_by("id").select_related("actor")
    ]


def test_a_sign_in_on_the_form_is_recorded_with_when_and_from_where(team_a):
    before = timezone.now()
    assert form_attempt(Client(REMOTE_ADDR=ADDRESS), " Alice", PASSWORD).status_code == 302

    assert entries() == [(Kind.SIGNED_IN, "alice", "alice", ADDRESS)]
    event = AuditEvent.objects.get()
    assert event.user == team_a.rep
    assert before <= event.at <= timezone.now()


@pytest.mark.parametrize("attempt", [form_attempt, token_attempt])
def test_a_failed_sign_in_is_recorded_with_the_name_tried(team_a, attempt):
    attempt(Client(REMOTE_ADDR=ADDRESS), "ALICE ", "guess")
    attempt(Client(REMOTE_ADDR=ADDRESS), "nobody", "guess")

    assert entries() == [
        (Kind.SIGN_IN_FAILED, "alice", None, ADDRESS),
        (Kind.SIGN_IN_FAILED, "nobody", None, ADDRESS),
    ]
    known, unknown = AuditEvent.objects.order_by("id")
    assert (known.user, unknown.user) == (team_a.rep, None)
    assert known.detail == "typed as 'ALICE'"  # both forms trim before they authenticate


def test_a_token_from_the_api_is_a_sign_in_and_a_token_created(team_a):
    assert token_attempt(Client(REMOTE_ADDR=ADDRESS), "alice", PASSWORD).status_code == 200

    token = ApiToken.objects.get()
    assert entries() == [
        (Kind.SIGNED_IN, "alice", "alice", ADDRESS),
        (Kind.TOKEN_CREATED, "alice", "alice", ADDRESS),
    ]
    assert token.prefix in AuditEvent.objects.get(kind=Kind.TOKEN_CREATED).detail


def test_a_token_from_the_command_line_is_recorded(team_a):
    call_command("createapitoken", "alice", stdout=io.StringIO())
    assert entries() == [(Kind.TOKEN_CREATED, "alice", None, "")]
    assert "createapitoken" in AuditEvent.objects.get().detail


def test_revoking_a_token_through_the_api_is_recorded(team_a):
    _, clear = ApiToken.issue(team_a.rep)
    Client(REMOTE_ADDR=ADDRESS).delete("/api/v1/auth/token/", HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert entries() == [(Kind.TOKEN_REVOKED, "alice", "alice", ADDRESS)]


def test_revoking_tokens_in_the_admin_is_recorded_once_each(client, team_a, admin_user):
    token, _ = ApiToken.issue(team_a.rep, name="telephony")
    client.force_login(admin_user)
    AuditEvent.objects.all().delete()
    changelist = reverse("admin:accounts_apitoken_changelist")
    for _ in range(2):  # revoking a revoked token changes nothing and records nothing
        client.post(
            changelist, {"action": "revoke", "_selected_action": [token.pk]}, REMOTE_ADDR=ADDRESS
        )
    assert entries() == [(Kind.TOKEN_REVOKED, "alice", "root", ADDRESS)]


def test_a_role_change_in_the_admin_is_recorded(client, team_a, admin_user):
    client.force_login(admin_user)
    AuditEvent.objects.all().delete()
    rep = team_a.rep
    form = {
        "username": rep.username,
        "first_name": rep.first_name,
        "last_name": rep.last_name,
        "email": rep.email,
        "team": team_a.team.pk,
        "team_role": "lead",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    answer = client.post(
        reverse("admin:accounts_user_change", args=[rep.pk]), form, REMOTE_ADDR=ADDRESS
    )
    assert answer.status_code == 302, answer.content[:2000]

    assert entries() == [(Kind.ROLE_CHANGED, "alice", "root", ADDRESS)]
    assert AuditEvent.objects.get().detail == "rep of Northwind sales → lead of Northwind sales"
    # Saving again without a change of role records nothing.
    client.post(reverse("admin:accounts_user_change", args=[rep.pk]), form)
    assert AuditEvent.objects.count() == 1


def test_creating_an_admin_through_the_api_is_recorded_as_a_role_given(
    admin_user, admin_client_api
):
    answer = admin_client_api.post(
        "/api/v1/users/",
        {"username": "ops", "password": "a-long-new-password", "role": "admin"},
        format="json",
        REMOTE_ADDR=ADDRESS,
    )
    assert answer.status_code == 201, answer.content
    assert entries() == [(Kind.ROLE_CHANGED, "ops", "root", ADDRESS)]
    assert AuditEvent.objects.get().detail == "new user → admin"


def test_behind_a_trusted_proxy_the_client_address_is_recorded(team_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {ADDRESS}")
    form_attempt(client, "alice", PASSWORD)
    assert entries() == [(Kind.SIGNED_IN, "alice", "alice", ADDRESS)]


# --- reading it ----------------------------------------------------------------------------


def test_admins_read_the_log_and_nobody_changes_it(client, team_a, admin_user):
    form_attempt(Client(REMOTE_ADDR=ADDRESS), "alice", "guess")
    event = AuditEvent.objects.get()
    client.force_login(admin_user)

    listing = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert listing.status_code == 200
    assert ADDRESS in listing.content.decode()
    detail = reverse("admin:accounts_auditevent_change", args=[event.pk])
    assert client.get(detail).status_code == 200
    assert client.post(detail, {"kind": Kind.SIGNED_IN, "username": "x"}).status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    delete = reverse("admin:accounts_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert (event.kind, event.username) == (Kind.SIGN_IN_FAILED, "alice")


def test_reps_and_leads_cannot_read_the_log(client, team_a):
    client.force_login(team_a.lead)
    answer = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert answer.status_code == 302  # to the admin's sign-in: not an admin


def test_the_log_lists_newest_first(team_a):
    old = AuditEvent.objects.create(
        kind=Kind.SIGNED_IN, username="alice", at=timezone.now() - timedelta(days=1)
    )
    new = AuditEvent.objects.create(kind=Kind.SIGNED_IN, username="alice")
    assert list(AuditEvent.objects.all()) == [new, old]
