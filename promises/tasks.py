"""Celery tasks of the promises app: thin wrappers that run one service each.

All three are periodic (``CELERY_BEAT_SCHEDULE``) and take no arguments: each
finds its own work in the database. The management commands call these same
functions synchronously. Each returns the line a person would want to read,
which the worker logs and the command prints.
"""

from celery import shared_task

from promises import reminders, services
from relcrm import queue, task_names


def _sweep() -> str:
    broken = services.flag_overdue_promises()
    return f"Broke {broken} overdue promise(s), each with its event and promise_broken alert."


@shared_task(name=task_names.FLAG_OVERDUE_PROMISES)
def flag_overdue_promises() -> str:
    """Break every open promise past its due time, with its event and alert (beat: every minute)."""
    return queue.run_alone("the overdue sweep", _sweep)


@shared_task(name=task_names.SEND_DUE_SOON_REMINDERS)
def send_due_soon_reminders() -> str:
    """Remind owners, once per due time, of their open promises falling due soon."""
    return queue.run_alone("the due-soon reminders", reminders.send_due_soon_reminders)


@shared_task(name=task_names.SEND_ALERT_DIGESTS)
def send_alert_digests() -> str:
    """Send each team lead, once a day, the digest of their team's open alerts."""
    return queue.run_alone("the alert digests", reminders.send_alert_digests)
