"""Writing CSV files for the import tests, and running them as a job."""

import csv
import io

from imports import services
from imports.models import ImportJob


def csv_text(header, rows, *, separator: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return buffer.getvalue()


def imported(user, resource: str, text: str | bytes, *, dry_run: bool = False, **job) -> ImportJob:
    """Run ``text`` as an import job of ``user``'s, as the worker would; the finished job."""
    data = text.encode() if isinstance(text, str) else text
    created = services.create_import_job(user=user, resource=resource, dry_run=dry_run, **job)
    finished = services.run_import(created.pk, source=io.BytesIO(data))
    finished.refresh_from_db()
    return finished


def messages_by_row(job: ImportJob) -> dict[int, list[tuple]]:
    """The job's errors as {row: [(column, message), ...]}, the closing count left out."""
    found: dict[int, list[tuple]] = {}
    for error in job.errors:
        if error["row"] is not None:
            found.setdefault(error["row"], []).append((error["column"], error["message"]))
    return found
