"""/api/v1/imports/: a CSV body in, a job out (202); polled and listed within the team."""

from datetime import timedelta

import pytest
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from interactions.models import Interaction
from relcrm import queue, task_names
from tests.factories import AccountFactory
from tests.imports.helpers import csv_text

URL = "/api/v1/imports/"
JOB_FIELDS = {
    "id", "resource", "status", "dry_run", "rows_total", "rows_done", "created", "updated",
    "errors", "created_at", "finished_at",
}  # fmt: skip


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(queue, "send", lambda name, *args, **kw: messages.append((name, args)))
    return messages


def calls(account, *kinds) -> str:
    when = (timezone.now() - timedelta(days=1)).isoformat()
    return csv_text(
        ["account", "kind", "direction", "occurred_at"],
        [[account.pk, kind, "outbound", when] for kind in kinds],
    )


def upload(client, text, query="?resource=interactions", **extra):
    return client.generic("POST", URL + query, text.encode(), content_type="text/csv", **extra)


def test_posting_a_csv_answers_202_with_the_pending_job_and_sends_it_to_a_worker(
    rep_client, account, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = upload(rep_client, calls(account, "call", "note"))
    assert answer.status_code == 202, answer.content
    job = answer.json()
    assert set(job) == JOB_FIELDS
    assert (job["resource"], job["status"], job["dry_run"], job["errors"]) == (
        "interactions",
        "pending",
        False,
        [],
    )
    assert sent == [(task_names.RUN_IMPORT_JOB, (job["id"],))]
    assert not Interaction.objects.exists()

    services.run_import(job["id"])  # what the worker does
    polled = rep_client.get(f"{URL}{job['id']}/").json()
    assert (polled["status"], polled["rows_total"], polled["rows_done"], polled["created"]) == (
        "succeeded",
        2,
        2,
        2,
    )
    assert polled["finished_at"] is not None
    assert Interaction.objects.count() == 2
    # The upload is gone once imported.
    assert not ImportJob.objects.get(pk=job["id"]).file


def test_a_dry_run_is_a_job_that_writes_nothing(rep_client, account, sent):
    answer = upload(rep_client, calls(account, "call"), "?resource=interactions&dry_run=true")
    assert answer.json()["dry_run"] is True
    services.run_import(answer.json()["id"])
    polled = rep_client.get(f"{URL}{answer.json()['id']}/").json()
    assert (polled["status"], polled["created"]) == ("succeeded", 1)
    assert not Interaction.objects.exists()


def test_a_failed_job_lists_its_bad_rows(rep_client, account, sent):
    job = upload(rep_client, calls(account, "call", "fax")).json()
    services.run_import(job["id"])
    polled = rep_client.get(f"{URL}{job['id']}/").json()
    assert polled["status"] == "failed"
    assert polled["errors"] == [
        {"row": 2, "column": "kind", "message": '"fax" is not a valid choice.'},
        {"row": None, "column": None, "message": "1 of 2 rows are invalid; nothing was written."},
    ]


def test_jobs_are_listed_for_the_team_and_another_team_gets_404(
    rep_client, lead_client, other_team_client, account, sent
):
    job = upload(rep_client, calls(account, "call")).json()
    assert [row["id"] for row in lead_client.get(URL).json()["results"]] == [job["id"]]
    assert other_team_client.get(URL).json()["results"] == []
    assert other_team_client.get(f"{URL}{job['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("?resource=teams", "a,b\n1,2\n", "resource"),
        ("", "a,b\n1,2\n", "resource"),
        ("?resource=accounts&dry_run=perhaps", "a,b\n1,2\n", "dry_run"),
        ("?resource=accounts", "", "body"),
    ],
)
def test_a_bad_request_is_a_400_and_creates_no_job(rep_client, sent, query, body, field):
    answer = upload(rep_client, body, query)
    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    assert not ImportJob.objects.exists()


def test_a_body_that_is_not_csv_is_a_415(rep_client, sent):
    answer = rep_client.post(URL + "?resource=accounts", {"name": "Acme"}, format="json")
    assert answer.status_code == 415
    assert not ImportJob.objects.exists()


def test_importing_needs_credentials(client):
    answer = client.generic(
        "POST", URL + "?resource=accounts", b"name\nA\n", content_type="text/csv"
    )
    assert answer.status_code == 401
