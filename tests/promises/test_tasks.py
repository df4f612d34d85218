"""The Celery tasks of the promises app, run in-process (the worker test sends them via Redis)."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from promises import services, tasks
from promises.models import Alert, Promise
from relcrm import queue, task_names
from relcrm.celery import app
from tests.factories import PromiseFactory
from tests.promises.test_sweep import held_elsewhere

PERIODIC = [
    entry["task"]
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
    if entry["task"].startswith("promises.")
]


def overdue() -> Promise:
    return PromiseFactory(due_at=timezone.now() - timedelta(minutes=3))


@pytest.fixture
def sent(monkeypatch):
    """The tasks published through ``relcrm.queue.send``, by name, instead of publishing them."""
    names = []
    monkeypatch.setattr(queue, "send", lambda name, *args, **kwargs: names.append(name) or True)
    return names


@pytest.mark.parametrize("name", PERIODIC)
def test_every_scheduled_promises_job_is_a_registered_acks_late_task(name):
    task = app.tasks[name]

    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_the_sweep_task_breaks_overdue_promises_and_says_how_many(db):
    promise = overdue()

    result = tasks.flag_overdue_promises.apply().get()

    assert result.startswith("Broke 1 overdue promise(s)")
    promise.refresh_from_db()
    assert promise.status == Promise.Status.BROKEN
    assert tasks.flag_overdue_promises.apply().get().startswith("Broke 0 ")


def test_a_sweep_that_broke_promises_asks_once_for_the_stale_accounts_recompute(
    db, settings, sent, django_capture_on_commit_callbacks
):
    settings.RELCRM_RECOMPUTE_ON_WRITE = True
    for _ in range(5):
        overdue()

    with django_capture_on_commit_callbacks(execute=True):
        services.flag_overdue_promises(batch_size=2)

    assert sent == [task_names.COMPUTE_TRUST_HEALTH]


def test_an_empty_sweep_sends_nothing(db, settings, sent, django_capture_on_commit_callbacks):
    settings.RELCRM_RECOMPUTE_ON_WRITE = True
    PromiseFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.flag_overdue_promises()

    assert sent == []


def test_the_reminder_and_digest_tasks_report_what_they_sent(db, mailoutbox):
    PromiseFactory(due_at=timezone.now() + timedelta(hours=2))

    reminded = tasks.send_due_soon_reminders.apply().get()
    digested = tasks.send_alert_digests.apply().get()

    assert reminded.startswith("Sent 1 reminder e-mail(s) for 1 promise(s)")
    assert digested.startswith("Sent 0 alert digest(s)")
    assert len(mailoutbox) == 1


def test_a_sweep_steps_aside_while_another_is_running(db):
    promise = overdue()

    with held_elsewhere(lambda: queue.exclusive("the overdue sweep")):
        result = tasks.flag_overdue_promises.apply().get()

    assert result == "Another run of the overdue sweep is in progress; this one did nothing."
    promise.refresh_from_db()
    assert promise.status == Promise.Status.OPEN
    assert tasks.flag_overdue_promises.apply().get().startswith("Broke 1 ")
    assert Alert.objects.filter(promise=promise).count() == 1
