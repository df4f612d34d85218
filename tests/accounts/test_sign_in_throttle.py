"""The sign-in throttles: whose address counts, and that no header or spelling gets round them.

The token endpoint and the sign-in form share one counter per client address and username
(``RELCRM_THROTTLE_LOGIN``, 10 a minute by default). The client's address is the connection's
own (``REMOTE_ADDR``) unless ``RELCRM_TRUSTED_PROXIES`` says how many proxies stand in front.
"""

import pytest
from django.test import Client

from tests.accounts.sign_ins import LOGIN_RATE, form_attempt, token_attempt
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
