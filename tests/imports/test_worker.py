"""A 20,000-row import through the API and a real Celery worker over the real Redis broker.

The worker is ``celery -A relcrm worker`` in a child process on the test
database; it reads the uploaded file from the storage the API wrote it to.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from benchmarks.scenarios.trust_recompute import start_worker
from interactions.models import Interaction
from relcrm.celery import app
from tests.factories import AccountFactory
from tests.imports.helpers import csv_text
from tests.processes import database_url

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROWS = 20_000
BAD = {7_777: "occurred_at", 15_000: "kind"}


@pytest.fixture
def worker(transactional_db, tmp_path):
    assert app.conf.broker_url == django_settings.CELERY_BROKER_URL
    assert app.conf.broker_url.startswith("redis://"), app.conf.broker_url
    # The worker's storage is the test's: its var folder holds the uploads (media/).
    child = start_worker(1, env={"DATABASE_URL": database_url(), "RELCRM_VAR_DIR": str(tmp_path)})
    try:
        yield child
    finally:
        child.terminate()
        child.wait(timeout=30)


def a_file(accounts, *, broken: bool) -> bytes:
    now = timezone.now()
    rows = []
    for number in range(1, ROWS + 1):
        occurred = now - timedelta(minutes=number)
        kind = "call"
        if broken and BAD.get(number) == "occurred_at":
            occurred = now + timedelta(days=1)
        if broken and BAD.get(number) == "kind":
            kind = "carrier pigeon"
        rows.append(
            [
                accounts[number % len(accounts)].pk,
                kind,
                "inbound" if number % 3 else "outbound",
                occurred.isoformat(),
                f"Call {number}, about the renewal",
                number % 5 - 2,
                f"tel-{number}",
            ]
        )
    header = ["account", "kind", "direction", "occurred_at", "summary", "sentiment", "external_id"]
    return csv_text(header, rows).encode()


def finished(client, job_id: int, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/imports/{job_id}/").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"import {job_id} did not finish within {timeout} s: {job}")


def test_a_big_file_fails_whole_then_imports_whole_then_adds_nothing(worker, team_a, rep_client):
    accounts = [AccountFactory(owner=team_a.rep) for _ in range(20)]

    def upload(data: bytes) -> dict:
        answer = rep_client.generic(
            "POST", "/api/v1/imports/?resource=interactions", data, content_type="text/csv"
        )
        assert answer.status_code == 202, answer.content
        return finished(rep_client, answer.json()["id"])

    failed = upload(a_file(accounts, broken=True))
    assert failed["status"] == "failed"
    assert (failed["rows_total"], failed["created"]) == (ROWS, 0)
    assert {(error["row"], error["column"]) for error in failed["errors"]} == {
        (7_777, "occurred_at"),
        (15_000, "kind"),
        (None, None),
    }
    assert failed["errors"][-1]["message"] == "2 of 20,000 rows are invalid; nothing was written."
    assert not Interaction.objects.exists()

    fixed = a_file(accounts, broken=False)
    succeeded = upload(fixed)
    assert (succeeded["status"], succeeded["rows_done"], succeeded["created"]) == (
        "succeeded",
        ROWS,
        ROWS,
    )
    assert Interaction.objects.count() == ROWS
    assert Interaction.objects.filter(logged_by=team_a.rep).count() == ROWS

    again = upload(fixed)
    assert (again["status"], again["created"], again["updated"]) == ("succeeded", 0, 0)
    assert Interaction.objects.count() == ROWS
