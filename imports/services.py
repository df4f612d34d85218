"""Import jobs: creating one, and running it, all or nothing.

``run_import`` is the one way a job runs: the Celery task calls it for a file
uploaded through the API or the web UI, and ``manage.py import_csv`` calls it
for a file on its own disk. It reads the file twice: once to learn its encoding,
separator and number of rows, then a batch of rows at a time, each checked with
the resource's rules and, while every row so far is valid, written. The whole
file is one transaction: if any row is invalid the transaction is rolled back,
so nothing is written, and the reading goes on to list every bad row. A dry run
does everything an import does and rolls it back, so what it counts (and the
rules it applies) are exactly those of the real import.
"""

import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import stale_mark
from imports.checks import Cells
from imports.columns import map_columns
from imports.importers import IMPORTERS, Importer
from imports.models import MAX_LISTED_ROWS, ImportJob
from imports.reading import CsvFormat, FileError, inspect, records
from relcrm import queue, task_names

logger = logging.getLogger(__name__)

Status = ImportJob.Status
# Rows checked (and written) per batch: each batch costs its lookups once.
BATCH_SIZE = 2000
# How often the job's progress is written, at most.
PROGRESS_EVERY_S = 0.5
# Accounts marked stale per statement.
STALE_CHUNK = 10_000


def create_import_job(
    *,
    user,
    resource: str,
    dry_run: bool = False,
    upload: File | None = None,
    file_name: str = "",
    mapping: dict[str, str] | None = None,
) -> ImportJob:
    """A pending job for ``user``'s team; ``upload`` is stored where the workers read it."""
    job = ImportJob(
        created_by=user,
        team_id=user.team_id,
        resource=resource,
        dry_run=dry_run,
        file_name=file_name[:255],
        mapping=mapping or {},
    )
    if upload is not None:
        job.file.save(file_name or "import.csv", upload, save=False)
    job.save()
    return job


def send_import_job(job: ImportJob) -> None:
    """Have a worker run the job once the transaction that created it commits."""
    queue.send_on_commit(task_names.RUN_IMPORT_JOB, job.pk)


class _Discard(Exception):
    """Leave the import's transaction without committing it (a dry run, or a bad row)."""


class Report:
    """The bad rows found so far: the first ``MAX_LISTED_ROWS`` listed, all counted."""

    def __init__(self, headers: list[str], columns: dict[str, int]) -> None:
        self.header_of = {field: headers[index] for field, index in columns.items()}
        self.errors: list[dict] = []
        self.invalid_rows = 0

    @property
    def clean(self) -> bool:
        return not self.invalid_rows

    def add(self, batch: list[Cells]) -> None:
        for cells in batch:
            if not cells.errors:
                continue
            self.invalid_rows += 1
            if self.invalid_rows > MAX_LISTED_ROWS:
                continue
            for field, message in dict.fromkeys(cells.errors):  # each error once, in order
                column = None if field is None else self.header_of.get(field, field)
                self.errors.append({"row": cells.number, "column": column, "message": message})

    def file_error(self, message: str, column: str | None = None) -> None:
        self.errors.append({"row": None, "column": column, "message": message})

    def summary(self, rows_total: int) -> list[dict]:
        """The errors, closed by the count of bad rows when there are any."""
        if not self.invalid_rows:
            return self.errors
        message = f"{self.invalid_rows:,} of {rows_total:,} rows are invalid; nothing was written."
        if self.invalid_rows > MAX_LISTED_ROWS:
            message += f" The first {MAX_LISTED_ROWS:,} are listed."
        return [*self.errors, {"row": None, "column": None, "message": message}]


class Progress:
    """Writes the job's ``rows_done`` as it goes, on a connection of its own.

    The import's own transaction is not committed until the end, so a change of
    the job made in it would be seen by nobody polling the job until then.
    """

    def __init__(self, job: ImportJob, callback: Callable[[int, int], None] | None) -> None:
        self.job = job
        self.callback = callback
        self.written_at = 0.0
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int) -> None:
        if self.callback is not None:
            self.callback(done, self.job.rows_total)
        now = time.monotonic()
        if now - self.written_at < PROGRESS_EVERY_S:
            return
        self.written_at = now
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET rows_done = %s WHERE id = %s",
                [done, self.job.pk],
            )

    def close(self) -> None:
        self.connection.close()


def _batches(
    rows: Iterator[tuple[int, list[str]]], columns: dict[str, int], width: int, size: int
) -> Iterator[list[Cells]]:
    batch: list[Cells] = []
    for number, cells in rows:
        row = Cells(
            number, {field: cells[i] if i < len(cells) else "" for field, i in columns.items()}
        )
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            row.errors.append((None, f"This row has {len(cells)} cells; the header names {width}."))
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def mark_stale(account_ids: set[int]) -> None:
    """Mark each account stale once, locking them in id order as the other bulk writes do."""
    ordered = sorted(account_ids)
    for start in range(0, len(ordered), STALE_CHUNK):
        chunk = ordered[start : start + STALE_CHUNK]
        locked = list(
            Account.objects.filter(pk__in=chunk)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        Account.objects.filter(pk__in=locked).update(**stale_mark())
    if account_ids and settings.RELCRM_RECOMPUTE_ON_WRITE:
        # One message for the whole import: the stale-accounts job recomputes them all.
        queue.send_on_commit(task_names.COMPUTE_TRUST_HEALTH)


def _import(job: ImportJob, binary: IO[bytes], form: CsvFormat, progress: Progress) -> dict:
    """Check every row and write them all, or none; what to record on the job."""
    columns = map_columns(job.resource, form.headers, job.mapping)
    report = Report(form.headers, columns)
    importer: Importer = IMPORTERS[job.resource](job.created_by)
    done = 0
    try:
        with transaction.atomic():
            for batch in _batches(records(binary, form), columns, len(form.headers), BATCH_SIZE):
                rows = importer.check(batch)
                # Written only while every row so far is valid: the rest is only checked.
                if report.clean and not any(cells.errors for cells in batch):
                    importer.write(rows)
                report.add(batch)
                done += len(batch)
                progress(done)
            if report.clean:
                importer.finish()
                mark_stale(importer.touched)
            if job.dry_run or not report.clean:
                raise _Discard
    except _Discard:
        pass
    except IntegrityError:
        logger.warning("import job %s collided with another write", job.pk, exc_info=True)
        report.file_error(
            "Another write added the same external ids while this import ran; "
            "nothing was written. Run it again."
        )
    failed = not report.clean or bool(report.errors)
    return {
        "status": Status.FAILED if failed else Status.SUCCEEDED,
        "rows_done": done,
        "created": 0 if failed else importer.created,
        "updated": 0 if failed else importer.updated,
        "errors": report.summary(form.rows),
        "invalid_rows": report.invalid_rows,
    }


def run_import(
    job_id: int,
    *,
    source: IO[bytes] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportJob:
    """Run a pending job (once: a job another run has claimed is left to it) and return it.

    ``source``: the file to read, when it is not the job's stored one (the
    command's). ``on_progress(done, total)`` is called after each batch.
    """
    # The run holds the job's lock until it ends (a worker killed mid-run drops it
    # with its connection), so recover_import_jobs can tell a running job from one
    # whose worker went away. Taken before the claim: a running job is always held.
    with queue.exclusive(_job_lock(job_id)) as alone:
        claimed = alone and ImportJob.objects.filter(pk=job_id, status=Status.PENDING).update(
            status=Status.RUNNING, started_at=timezone.now()
        )
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        if claimed:
            _run(job, source, on_progress)
    return job


def _job_lock(job_id: int) -> str:
    return f"import-job:{job_id}"


def _run(
    job: ImportJob, source: IO[bytes] | None, on_progress: Callable[[int, int], None] | None
) -> None:
    job_id = job.pk
    binary = source if source is not None else job.file.open("rb")
    progress = Progress(job, on_progress)
    try:
        try:
            form = inspect(binary)
            map_columns(job.resource, form.headers, job.mapping)
        except FileError as error:
            outcome = {
                "status": Status.FAILED,
                "errors": [{"row": None, "column": error.column, "message": error.message}],
            }
        else:
            job.rows_total = form.rows
            ImportJob.objects.filter(pk=job.pk).update(rows_total=form.rows)
            outcome = _import(job, binary, form, progress)
    except Exception:
        logger.exception("import job %s stopped", job_id)
        _finish(job, status=Status.FAILED, errors=[_UNEXPECTED])
        _drop_file(job)
        raise
    finally:
        progress.close()
        if source is None:
            binary.close()
    _finish(job, **outcome)
    if not job.dry_run:
        # A dry run's file stays, for the import that may follow it (for a while:
        # recover_import_jobs).
        _drop_file(job)


def _drop_file(job: ImportJob) -> None:
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


_UNEXPECTED = {
    "row": None,
    "column": None,
    "message": "The import stopped on an unexpected error; nothing was written.",
}


def _finish(job: ImportJob, **fields) -> None:
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def start_from_dry_run(job: ImportJob, *, user) -> ImportJob:
    """The import of a succeeded dry run's file, as a new pending job, sent to a worker."""
    real = ImportJob.objects.create(
        created_by=user,
        team_id=user.team_id,
        resource=job.resource,
        file=job.file.name,
        file_name=job.file_name,
        mapping=job.mapping,
    )
    send_import_job(real)
    return real


_WORKER_GONE = {
    "row": None,
    "column": None,
    "message": "The import stopped when its worker went away; nothing was written. "
    "Upload the file again.",
}


def recover_import_jobs(now=None) -> str:
    """Tend the jobs no run will finish: the periodic job (and safe to run in parallel).

    - A running job whose run holds no lock lost its worker (killed, or its
      machine gone): its transaction was rolled back, so nothing was written. It
      is failed, saying so, and its file deleted.
    - A pending job still pending after ``RELCRM_IMPORT_RESEND_AFTER_S`` lost its
      message to the broker: it is sent again (a run claims a job only once).
    - A dry run's file is kept ``RELCRM_IMPORT_KEEP_DRY_RUN_HOURS`` for the import
      that may follow it, then deleted.
    """
    now = now or timezone.now()
    failed = 0
    for job in ImportJob.objects.filter(status=Status.RUNNING):
        with queue.exclusive(_job_lock(job.pk)) as alone:
            # Holding the lock, no run can start or finish it under us.
            if alone and ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
                status=Status.FAILED, errors=[_WORKER_GONE], finished_at=now
            ):
                _drop_file(job)
                failed += 1
    resend_before = now - timedelta(seconds=settings.RELCRM_IMPORT_RESEND_AFTER_S)
    pending = list(
        ImportJob.objects.filter(status=Status.PENDING, created_at__lt=resend_before)
        .exclude(file="")
        .values_list("pk", flat=True)
    )
    for job_id in pending:
        queue.send(task_names.RUN_IMPORT_JOB, job_id)
    keep_until = now - timedelta(hours=settings.RELCRM_IMPORT_KEEP_DRY_RUN_HOURS)
    expired = list(
        ImportJob.objects.filter(dry_run=True, finished_at__lt=keep_until).exclude(file="")
    )
    for job in expired:
        _drop_file(job)
    return (
        f"{failed} import job(s) whose worker went away failed, {len(pending)} pending "
        f"sent again, {len(expired)} dry run file(s) deleted."
    )
