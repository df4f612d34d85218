"""recover_import_jobs: jobs whose worker went away, lost messages, old dry runs' files."""

import io
import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connections
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from relcrm import queue, task_names

Status = ImportJob.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(queue, "send", lambda name, *args, **kw: messages.append((name, args)))
    return messages


def job_of(user, *, dry_run=False, **fields) -> ImportJob:
    job = services.create_import_job(
        user=user, resource="accounts", dry_run=dry_run, upload=ContentFile(b"name\nAcme\n")
    )
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


@pytest.fixture
def other_session():
    """A second database session, as a worker running a job elsewhere holds its lock."""
    connection = connections.create_connection("default")
    yield connection
    connection.close()


def hold_lock(connection, job: ImportJob) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_lock(%s)", [queue._advisory_lock_key(f"import-job:{job.pk}")]
        )


def test_a_running_job_whose_worker_went_away_fails_and_says_nothing_was_written(team_a):
    job = job_of(team_a.rep, status=Status.RUNNING, started_at=timezone.now())
    path = job.file.path

    services.recover_import_jobs()

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.finished_at is not None
    assert "nothing was written" in job.errors[0]["message"]
    assert not job.file
    assert not os.path.exists(path)


def test_a_job_that_a_live_run_holds_is_left_running_until_its_session_ends(team_a, other_session):
    job = job_of(team_a.rep, status=Status.RUNNING, started_at=timezone.now())
    hold_lock(other_session, job)

    services.recover_import_jobs()
    job.refresh_from_db()
    assert job.status == Status.RUNNING

    other_session.close()  # the worker is killed: the server drops its lock
    services.recover_import_jobs()
    job.refresh_from_db()
    assert job.status == Status.FAILED


def test_a_run_does_not_start_a_job_another_run_holds(team_a, other_session):
    job = job_of(team_a.rep)
    hold_lock(other_session, job)

    services.run_import(job.pk, source=io.BytesIO(b"name\nAcme\n"))

    job.refresh_from_db()
    assert job.status == Status.PENDING


def test_a_job_pending_too_long_is_sent_again_and_a_recent_one_is_not(team_a, sent, settings):
    old = job_of(team_a.rep, created_at=timezone.now() - timedelta(minutes=11))
    job_of(team_a.rep)

    services.recover_import_jobs()

    assert sent == [(task_names.RUN_IMPORT_JOB, (old.pk,))]


def test_a_dry_runs_file_is_deleted_after_the_hours_it_is_kept(team_a, sent, settings):
    settings.RELCRM_IMPORT_KEEP_DRY_RUN_HOURS = 24
    now = timezone.now()
    old = job_of(
        team_a.rep, dry_run=True, status=Status.SUCCEEDED, finished_at=now - timedelta(hours=25)
    )
    recent = job_of(
        team_a.rep, dry_run=True, status=Status.SUCCEEDED, finished_at=now - timedelta(hours=23)
    )

    services.recover_import_jobs()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.file
    assert recent.file


def test_importing_a_dry_run_whose_file_is_gone_says_to_upload_it_again(team_a, client, sent):
    job = job_of(team_a.rep, dry_run=True, status=Status.SUCCEEDED, file="")
    client.force_login(team_a.rep)

    answer = client.post(f"/imports/{job.pk}/import/", follow=True)

    assert "upload it again" in answer.content.decode()
    assert ImportJob.objects.count() == 1
