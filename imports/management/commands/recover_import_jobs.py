"""``manage.py recover_import_jobs``: tend the import jobs no run will finish, once, now."""

from django.core.management.base import BaseCommand

from imports.tasks import recover_import_jobs


class Command(BaseCommand):
    help = (
        "Fail the import jobs whose worker went away, send again the pending ones whose message "
        "was lost, and delete old dry runs' files. Safe to run at any time, or twice."
    )

    def handle(self, *args, **options):
        self.stdout.write(recover_import_jobs())
