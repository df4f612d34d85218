"""With the broker down, a write still succeeds, at once, and says why nothing was sent.

The Celery app here is configured from the project's settings exactly as the
real one (``CELERY_*``: the Redis transport options and publish policy under
test), only pointed at a port where nothing listens. The last test takes the
cache (the throttles' counters) down too: the whole Redis server is away.
"""

import logging
import socket
import time
from datetime import timedelta

import pytest
from celery import Celery, current_app
from django.test import override_settings
from django.utils import timezone

from accounts.models import Account
from promises.models import Promise
from relcrm import queue, task_names
from tests.factories import AccountFactory

pytestmark = pytest.mark.redis


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dead_broker(settings):
    """The project's Celery configuration with its broker on a dead port, as the current app."""
    settings.RELCRM_RECOMPUTE_ON_WRITE = True
    previous = current_app._get_current_object()
    app = Celery("relcrm-broker-down", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = f"redis://127.0.0.1:{unused_port()}/0"
    app.set_current()
    yield app
    previous.set_current()
    app.close()


def test_a_promise_posted_while_the_broker_is_down_is_created_at_once(
    dead_broker, rep_client, team_a, caplog, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=team_a.rep)
    Account.objects.filter(pk=account.pk).update(health_stale_at=None)
    body = {
        "account": account.pk,
        "description": "Send the signed contract",
        "due_at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }

    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger=queue.__name__),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = rep_client.post("/api/v1/promises/", body, format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert callbacks, "the write should have tried to enqueue its account's recompute"
    assert elapsed < 1.0, f"the write waited {elapsed:.1f} s on the dead broker"
    assert f"could not enqueue {task_names.COMPUTE_ACCOUNT_HEALTH}" in caplog.text
    assert Promise.objects.filter(pk=response.json()["id"]).exists()
    account.refresh_from_db()
    assert account.health_stale_at is not None, "the periodic job would not catch up"


def test_publishing_to_a_dead_broker_fails_in_milliseconds_every_time(dead_broker):
    for _ in range(3):
        started = time.monotonic()
        assert queue.send(task_names.COMPUTE_ACCOUNT_HEALTH, 1) is False
        assert time.monotonic() - started < 0.5


def test_with_the_whole_redis_server_down_the_api_still_serves_and_writes(
    dead_broker, rep_client, team_a, caplog
):
    dead_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    account = AccountFactory(owner=team_a.rep)
    started = time.monotonic()
    with override_settings(CACHES=dead_cache), caplog.at_level(logging.WARNING):
        listed = rep_client.get("/api/v1/accounts/")
        written = rep_client.post(
            "/api/v1/contacts/", {"account": account.pk, "first_name": "Ada"}, format="json"
        )
    assert listed.status_code == 200
    assert written.status_code == 201, written.content
    assert time.monotonic() - started < 5
    assert "rate limiting skipped: the cache is unreachable" in caplog.text
