"""``manage.py flag_overdue``: the overdue sweep, run once, here and now."""

from django.core.management.base import BaseCommand

from promises.tasks import flag_overdue_promises


class Command(BaseCommand):
    help = (
        "Break every open promise past its due time, with its event and promise_broken alert. "
        "Safe to run at any time, twice, or beside the scheduled sweep."
    )

    def handle(self, *args, **options):
        self.stdout.write(flag_overdue_promises())
