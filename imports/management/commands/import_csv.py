"""``manage.py import_csv RESOURCE FILE --user USERNAME [--dry-run]``: an import, here and now."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from imports import services
from imports.models import ImportJob

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import a CSV file of accounts, contacts, interactions or promises as USERNAME, "
        "all or nothing, with a progress bar. The job is recorded as an API upload's is."
    )

    def add_arguments(self, parser):
        parser.add_argument("resource", choices=ImportJob.Resource.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="who imports: the rows are theirs")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, write nothing"
        )

    def handle(self, *args, resource, file, user, dry_run, **options):
        try:
            importer = User.objects.get(username=user, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user {user!r}.") from None
        if not file.is_file():
            raise CommandError(f"No file {file}.")
        job = services.create_import_job(
            user=importer, resource=resource, dry_run=dry_run, file_name=file.name
        )
        with file.open("rb") as source:
            job = services.run_import(job.pk, source=source, on_progress=self._bar)
        if self._interactive():
            self.stdout.write("")
        self._report(job)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"Import {job.pk} failed; nothing was written.")

    def _interactive(self) -> bool:
        return sys.stdout.isatty()

    def _bar(self, done: int, total: int) -> None:
        if not self._interactive():
            return
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done:,}/{total:,} rows", ending="")
        self.stdout.flush()

    def _report(self, job: ImportJob) -> None:
        what = "Dry run of import" if job.dry_run else "Import"
        verb = "would create" if job.dry_run else "created"
        self.stdout.write(
            f"{what} {job.pk} of {job.rows_total:,} {job.resource} row(s): {job.status}; "
            f"{verb} {job.created:,}, {'would update' if job.dry_run else 'updated'} "
            f"{job.updated:,}."
        )
        for error in job.errors:
            where = f"row {error['row']}" if error["row"] is not None else "file"
            column = f", {error['column']}" if error["column"] else ""
            self.stdout.write(f"  {where}{column}: {error['message']}")
