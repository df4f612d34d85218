"""Celery tasks of the promises app: thin wrappers that run one service each.

All three are periodic (``CELERY_BEAT_SCHEDULE``) and take no arguments: each
finds its own work in the database. The management commands call these same
functions synchronously. Each returns the line a person would want to read,
which the worker logs and the command prints.
"""

from celery import shared_task

from promises import reminders, services
from relcrm import queue


def _sweep() -> str:
    broken = services.flag_overdue_promises()
    return f"Broke {broken} overdue promise(s), each with its event and promise_broken alert."


@shared_task(name="promises.tasks.flag_overdue_promises")
def flag_overdue_promises() -> str:
    """Break every open promise past its due time, with its event and alert (beat: every minute)."""
    return queue.run_alone("the overdue sweep", _sweep)


@shared_task(name="promises.tasks.send_due_soon_reminders")
def send_due_soon_reminders() -> str:
    """Remind owners, once per due time, of their open promises falling due soon."""
    return queue.run_alone("the due-soon reminders", reminders.send_due_soon_reminders)


@shared_task(name="promises.tasks.send_alert_digests")
def send_alert_digests() -> str:
    """Send each team lead, once a day, the digest of their team's open alerts."""
    return queue.run_alone("the alert digests", reminders.send_alert_digests)
