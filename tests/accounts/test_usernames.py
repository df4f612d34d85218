"""One spelling of a username: trimmed, NFKC-normalised and case-insensitive, everywhere.

Sign-in (the token endpoint, and the sign-in form, where the admin's sign-in leads), the
sign-in throttle and the uniqueness of usernames all use the same normalisation, so no
spelling of a name signs in as its owner while counting in a bucket of its own, and no two
people hold names that differ only in case.
"""

import pytest
from django.db import IntegrityError
from django.test import Client

from accounts.models import User
from tests.accounts.sign_ins import LOGIN_RATE, form_attempt, token_attempt
from tests.factories import PASSWORD, UserFactory

# What a person (or a script) may type for "alice".
SPELLINGS = [
    "alice",
    " alice",
    "alice ",
    "\talice",
    "alice\n",
    "alice\u00a0",
    "ALICE",
    "Alice",
    "\uff41\uff4c\uff49\uff43\uff45",  # full-width letters, NFKC "alice"
]

SIGN_INS = {
    # where -> (one attempt, the status of a success)
    "token endpoint": (token_attempt, 200),
    "sign-in form": (form_attempt, 302),
}


@pytest.fixture(params=sorted(SIGN_INS))
def sign_in(request):
    return SIGN_INS[request.param]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_a_name_signs_in_as_its_owner(team_a, sign_in, spelling):
    attempt, success = sign_in
    client = Client()

    assert attempt(client, spelling, PASSWORD).status_code == success
    if success == 302:
        assert client.session["_auth_user_id"] == str(team_a.rep.pk)


@pytest.mark.parametrize("spelling", ["root", " ROOT ", "root\u00a0"])
def test_the_admin_sign_in_takes_every_spelling_too(admin_user, spelling):
    client = Client()
    answer = client.post(
        "/login/?next=/admin/", {"username": spelling, "password": PASSWORD, "next": "/admin/"}
    )
    assert answer["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_every_spelling_counts_against_one_throttle(team_a, sign_in):
    attempt, _ = sign_in
    client = Client()
    for n in range(LOGIN_RATE):
        attempt(client, SPELLINGS[n % len(SPELLINGS)], "guess")

    assert attempt(client, "alice", PASSWORD).status_code == 429
    assert attempt(client, " Alice\u00a0", PASSWORD).status_code == 429


def test_a_name_that_differs_only_in_case_or_spaces_is_taken(admin_client_api, team_a):
    for taken in ("ALICE", " alice ", "\uff41lice"):
        answer = admin_client_api.post(
            "/api/v1/users/",
            {"username": taken, "password": "a-long-new-password", "team": team_a.team.pk},
            format="json",
        )
        assert answer.status_code == 400, (taken, answer.content)
        assert answer.json() == {"username": ["A user with that username already exists."]}
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_a_new_username_is_stored_in_its_normal_spelling(admin_client_api, team_a):
    answer = admin_client_api.post(
        "/api/v1/users/",
        {
            "username": " \uff2d\uff41x\u00a0",
            "password": "a-long-password",
            "team": team_a.team.pk,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["username"] == "Max"
    assert (
        Client().post("/login/", {"username": "max", "password": "a-long-password"})["Location"]
        == "/"
    )


def test_the_database_refuses_two_names_that_differ_only_in_case(team_a):
    with pytest.raises(IntegrityError):
        UserFactory(username="ALICE", team=team_a.team)


def test_the_admin_refuses_a_name_that_differs_only_in_case(client, admin_user, team_a):
    client.force_login(admin_user)
    answer = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "Alice",
            "password1": "a-long-new-password",
            "password2": "a-long-new-password",
            "usable_password": "true",
            "team": team_a.team.pk,
            "team_role": "rep",
        },
    )
    assert answer.status_code == 200
    assert "A user with that username already exists." in answer.content.decode()
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_createapitoken_finds_the_user_by_any_spelling(team_a, capsys):
    from django.core.management import call_command

    call_command("createapitoken", " ALICE ")
    clear = capsys.readouterr().out.strip()
    answer = Client().get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {clear}")
    assert answer.status_code == 200
