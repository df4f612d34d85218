"""Fixtures shared by the whole suite: two teams with their people, API clients."""

import os
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiToken
from relcrm.api.throttling import WindowRateThrottle
from tests.factories import AdminFactory, LeadFactory, TeamFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("RELCRM_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _redis_url() -> str:
    return os.environ.get("REDIS_URL", "")


def pytest_runtest_setup(item):
    """Skip tests whose service is absent here; in CI an absent service is a failure."""
    missing = []
    if item.get_closest_marker("redis") and not _redis_url():
        missing.append("Redis (set REDIS_URL=redis://...)")
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        message = "needs " + " and ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(f"RELCRM_REQUIRE_SERVICES=1 but this test {message}", pytrace=False)
        pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With RELCRM_REQUIRE_SERVICES=1 (CI), any skipped test fails the run."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service is present: {report.longrepr}"


# Half-way through a minute and an hour: a test's requests never straddle two windows.
THROTTLE_CLOCK = 500_000 * 3600 + 1830.0


@pytest.fixture(autouse=True)
def _isolated(settings, monkeypatch):
    """Each test starts with empty throttle counters, in one window of the throttles'
    clock, and no recompute messages sent."""
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: THROTTLE_CLOCK))
    settings.RELCRM_RECOMPUTE_ON_WRITE = False
    # Hashing strength is not under test here; a fast hasher keeps sign-ins cheap.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    cache.clear()
    yield
    cache.clear()


@dataclass
class Team:
    team: object
    rep: object
    other_rep: object
    lead: object


@pytest.fixture
def team_a(db):
    team = TeamFactory(name="Northwind sales")
    return Team(
        team=team,
        rep=UserFactory(team=team, username="alice"),
        other_rep=UserFactory(team=team, username="andy"),
        lead=LeadFactory(team=team, username="laura"),
    )


@pytest.fixture
def team_b(db):
    team = TeamFactory(name="Southwind sales")
    return Team(
        team=team,
        rep=UserFactory(team=team, username="bob"),
        other_rep=UserFactory(team=team, username="bella"),
        lead=LeadFactory(team=team, username="lucas"),
    )


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="root")


def client_for(user) -> APIClient:
    client = APIClient()
    _, clear = ApiToken.issue(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clear}")
    return client


@pytest.fixture
def as_user():
    """``as_user(user)`` -> an APIClient authenticated with a fresh bearer token."""
    return client_for


@pytest.fixture
def rep_client(team_a):
    return client_for(team_a.rep)


@pytest.fixture
def lead_client(team_a):
    return client_for(team_a.lead)


@pytest.fixture
def other_team_client(team_b):
    return client_for(team_b.rep)


@pytest.fixture
def admin_client_api(admin_user):
    return client_for(admin_user)


# Every API answer of the suite is checked against the OpenAPI schema (tests/openapi_check.py).
from tests.openapi_check import check_every_api_answer  # noqa: E402, F401
