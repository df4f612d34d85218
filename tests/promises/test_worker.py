"""A real Celery worker on the real Redis broker runs the sweep it is sent.

The worker is the project's own app (configured from Django settings, so its
broker is ``CELERY_BROKER_URL``, i.e. ``REDIS_URL``), embedded in a thread; the
task goes through Redis, never eagerly.
"""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.services import create_account
from promises import services
from promises.models import Alert, Promise
from promises.tasks import flag_overdue_promises
from relcrm.celery import app

pytestmark = pytest.mark.redis


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker(transactional_db):
    assert app.conf.broker_url == django_settings.CELERY_BROKER_URL
    assert app.conf.broker_url.startswith("redis://"), app.conf.broker_url
    assert not app.conf.task_always_eager
    # Messages left in this Redis database by an earlier run are not this test's.
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


def test_a_worker_breaks_a_promise_made_due_in_the_past_when_sent_the_sweep(worker, team_a):
    account = create_account(name="Contoso", owner=team_a.rep)
    promise = services.create_promise(
        account=account,
        description="Send the signed contract",
        due_at=timezone.now() - timedelta(minutes=2),
        by=team_a.rep,
    )

    flag_overdue_promises.apply_async()

    def broken():
        promise.refresh_from_db()
        return promise.status == Promise.Status.BROKEN

    assert wait_for(broken), "the worker did not break the overdue promise within 20 s"
    alert = Alert.objects.get(promise=promise)
    assert (alert.kind, alert.status) == (Alert.Kind.PROMISE_BROKEN, Alert.Status.OPEN)
