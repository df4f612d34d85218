"""Sending Celery tasks by name after a write commits, and keeping a periodic job single.

Both are about the broker being a convenience, never a dependency: a write
commits whatever the broker does, and a job's correctness never rests on how
many copies of it the broker delivers.
"""

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from celery import current_app
from django.db import connection, transaction

logger = logging.getLogger(__name__)


def send(task_name: str, *args, **kwargs) -> bool:
    """Publish one task; log and return False when the broker is unreachable.

    A write must never fail or hang because the broker is away: the account is
    already marked stale in the database and the periodic job catches up. The
    broker settings make the attempt fail in milliseconds (no connection retry).
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


def _advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, derived from the name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Yield True if this process may run the job ``name``, False if another is running it.

    Beat sends a periodic job on a fixed rhythm; when one run is slow, the next
    should step aside rather than start beside it. This only saves work: every
    job claims its rows atomically and is correct when copies run in parallel.
    It is a session advisory lock, which the server drops when the connection
    closes, so a worker killed mid-run never leaves it held.
    """
    key = _advisory_lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def run_alone(name: str, job: Callable[[], object]) -> str:
    """Run a periodic job under ``exclusive(name)``; return what it did, as a line to log.

    A job that finds another copy running does nothing and says so.
    """
    with exclusive(name) as alone:
        if not alone:
            return f"Another run of {name} is in progress; this one did nothing."
        return str(job())
