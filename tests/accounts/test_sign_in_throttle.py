"""The sign-in throttles: whose address counts, and that no header or spelling gets round them.

The token endpoint and the sign-in form share one counter per client address and username
(``RELCRM_THROTTLE_LOGIN``, 10 a minute by default). The client's address is the connection's
own (``REMOTE_ADDR``) unless ``RELCRM_TRUSTED_PROXIES`` says how many proxies stand in front.
"""

import pytest
from django.test import Client

from tests.accounts.sign_ins import LOGIN_RATE, admin_attempt, form_attempt, token_attempt
from tests.factories import PASSWORD


def over(attempt):
    """``attempt`` as a call of its own client, sent with the given headers."""

    def call(username, password, **headers):
        return attempt(Client(**headers), username, password)

    return call


ATTEMPTS = {
    # Where a user signs in -> (one attempt, the status of a refused wrong password).
    "token endpoint": (over(token_attempt), 400),
    "sign-in form": (over(form_attempt), 200),
}


@pytest.fixture(params=sorted(ATTEMPTS))
def attempt(request):
    return ATTEMPTS[request.param]


def test_a_new_x_forwarded_for_on_each_try_does_not_reset_the_count(team_a, attempt):
    sign_in, wrong = attempt
    statuses = [
        sign_in("alice", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(LOGIN_RATE + 2)
    ]
    assert statuses == [wrong] * LOGIN_RATE + [429, 429]
    # Nor does the right password get through with yet another header.
    assert sign_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_a_forged_header_cannot_lock_a_victim_out_from_their_own_address(team_a, attempt):
    sign_in, _ = attempt
    victim = "192.0.2.10"
    for _ in range(LOGIN_RATE + 2):
        sign_in("alice", "guess", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=victim)

    answer = sign_in("alice", PASSWORD, REMOTE_ADDR=victim)

    assert answer.status_code in (200, 302), answer.status_code


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_behind_a_trusted_proxy_the_address_it_saw_counts(team_a, attempt, behind_one_proxy):
    sign_in, wrong = attempt
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The proxy appends the address it saw; whatever the client put before it is ignored.
    statuses = [
        sign_in(
            "alice", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 192.0.2.5", **proxy
        ).status_code
        for n in range(LOGIN_RATE + 1)
    ]
    assert statuses == [wrong] * LOGIN_RATE + [429]
    # Another client behind the same proxy has its own allowance.
    other = sign_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.6", **proxy)
    assert other.status_code in (200, 302)


def test_the_trusted_proxy_count_defaults_to_none_in_front(settings):
    assert settings.RELCRM_TRUSTED_PROXIES == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


# --- the admin's sign-in -------------------------------------------------------------------


def test_a_password_posted_to_the_admin_sign_in_is_never_checked(admin_user):
    client = Client()
    answers = [admin_attempt(client, "root", "guess") for _ in range(15)]
    answers.append(admin_attempt(client, "root", PASSWORD))

    assert {answer.status_code for answer in answers} == {302}
    assert {answer["Location"] for answer in answers} == {"/login/?next=/admin/"}
    assert "_auth_user_id" not in client.session


def test_an_admin_signs_in_on_the_throttled_page_and_lands_in_the_admin(admin_user):
    client = Client()
    to_admin_login = client.get("/admin/")
    assert to_admin_login["Location"] == "/admin/login/?next=/admin/"
    to_sign_in = client.get(to_admin_login["Location"])
    assert to_sign_in["Location"] == "/login/?next=/admin/"

    signed_in = client.post(
        "/login/?next=/admin/", {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )

    assert signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_guessing_an_admin_password_is_throttled_like_any_other(admin_user):
    client = Client()
    for _ in range(LOGIN_RATE):
        client.post("/login/?next=/admin/", {"username": "root", "password": "guess"})
    answer = client.post("/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert answer.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_signed_in_rep_at_the_admin_sign_in_is_told_no_rather_than_sent_round(client, team_a):
    client.force_login(team_a.rep)
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 403
    assert "not an admin" in answer.content.decode()


# --- the limit per username, whatever the address ------------------------------------------

USERNAME_RATE = 50  # RELCRM_THROTTLE_LOGIN_USERNAME's default: 50/hour


def test_a_username_has_an_hourly_limit_whatever_the_address(team_a, attempt):
    sign_in, wrong = attempt
    # Spread over addresses, each within its own per-minute allowance.
    statuses = [
        sign_in("alice", "guess", REMOTE_ADDR=f"203.0.113.{n // 5}").status_code
        for n in range(USERNAME_RATE + 1)
    ]
    assert statuses == [wrong] * USERNAME_RATE + [429]
    assert sign_in("alice", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429
    # Only that name is held back.
    assert sign_in("andy", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code in (200, 302)


def test_the_rate_per_username_is_a_setting_like_the_others(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login_username"] == "50/hour"
