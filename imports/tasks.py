"""Celery tasks of the imports app: thin wrappers around ``imports.services``."""

from celery import shared_task

from imports import services
from relcrm import queue, task_names

# A file of millions of rows takes minutes; no job may hold a worker for ever.
IMPORT_TIME_LIMIT_S = 3 * 60 * 60


@shared_task(name=task_names.RUN_IMPORT_JOB, time_limit=IMPORT_TIME_LIMIT_S)
def run_import_job(job_id: int) -> str:
    """Run one pending import job (a job already claimed by another run is left alone)."""
    job = services.run_import(job_id)
    return (
        f"Import {job.pk} ({job.resource}{', dry run' if job.dry_run else ''}): {job.status}, "
        f"{job.created} created, {job.updated} updated, {job.invalid_rows} invalid row(s)."
    )


@shared_task(name=task_names.RECOVER_IMPORT_JOBS)
def recover_import_jobs() -> str:
    """Fail the jobs whose worker went away, resend lost ones, delete old dry runs' files."""
    return queue.run_alone(task_names.RECOVER_IMPORT_JOBS, services.recover_import_jobs)
