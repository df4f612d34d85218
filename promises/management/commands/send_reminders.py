"""``manage.py send_reminders``: the due-soon reminders, run once, here and now."""

from django.core.management.base import BaseCommand

from promises.tasks import send_due_soon_reminders


class Command(BaseCommand):
    help = (
        "E-mail each owner, once per due time, about their open promises due within "
        "RELCRM_REMINDER_WINDOW_HOURS. Safe to run at any time, twice, or beside the schedule."
    )

    def handle(self, *args, **options):
        self.stdout.write(send_due_soon_reminders())
