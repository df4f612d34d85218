"""The recompute of every account spread over a real Celery worker, on the real Redis broker.

The worker is ``celery -A relcrm worker`` in a child process (two processes of
its own), its ``DATABASE_URL`` the test database: the chunk tasks and the
finishing task go through Redis and write through another connection than the
test's.
"""

import random

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from benchmarks.scenarios.trust_recompute import start_worker
from relcrm.celery import app
from tests.factories import AccountFactory
from tests.processes import database_url
from tests.trust.test_services import assert_stored_as_computed_alone, random_history
from trust import services
from trust.models import BulkRecompute, TrustSnapshot

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(transactional_db):
    assert app.conf.broker_url == django_settings.CELERY_BROKER_URL
    assert app.conf.broker_url.startswith("redis://"), app.conf.broker_url
    child = start_worker(2, env={"DATABASE_URL": database_url()})
    try:
        yield child
    finally:
        child.terminate()
        child.wait(timeout=30)


def test_workers_recompute_every_account_in_chunks_as_each_alone(worker, team_a, capsys):
    rng = random.Random(20261202)
    now = timezone.now()
    accounts = [AccountFactory(owner=team_a.rep) for _ in range(10)]
    for account in accounts:
        random_history(account, rng, now)

    run = services.spread_bulk_recompute(as_of=now, chunk_size=3)
    result = services.wait_for_bulk_recompute(run, timeout=60)
    assert result is not None, "the workers did not finish the run within 60 s"
    run.refresh_from_db()
    assert (run.chunks, sorted(run.chunks_done)) == (4, [0, 1, 2, 3])
    assert result.accounts == result.snapshots == len(accounts)
    assert_stored_as_computed_alone(accounts, now)

    # The command sends the same chunks when a worker answers, and waits for them.
    call_command("compute_trust", "--all", "--as-of", now.isoformat())
    out = capsys.readouterr().out
    assert "Sent 1 chunk(s) to the Celery workers" in out
    assert "Computed the trust health of 10 account(s): 0 new snapshot(s), 10 unchanged" in out
    assert BulkRecompute.objects.filter(finished_at__isnull=False).count() == 2
    assert TrustSnapshot.objects.count() == len(accounts)
