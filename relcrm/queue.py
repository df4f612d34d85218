"""Sending Celery tasks by name from a write path, after its transaction commits."""

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def send(task_name: str, *args, **kwargs) -> bool:
    """Publish one task; log and return False when the broker is unreachable.

    A write must never fail or hang because the broker is away: the account is
    already marked stale in the database and the periodic job catches up.
    """
    try:
        current_app.send_task(task_name, args=args, kwargs=kwargs, retry=False)
    except Exception:  # the broker clients raise many kinds; none may fail a write
        logger.warning(
            "could not enqueue %s%r; the periodic job will catch up", task_name, args, exc_info=True
        )
        return False
    return True


def send_on_commit(task_name: str, *args, **kwargs) -> None:
    """Publish ``task_name`` once the current transaction has committed."""
    transaction.on_commit(lambda: send(task_name, *args, **kwargs))
