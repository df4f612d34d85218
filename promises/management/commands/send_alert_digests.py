"""``manage.py send_alert_digests``: today's alert digests for team leads, run here and now."""

from django.core.management.base import BaseCommand

from promises.tasks import send_alert_digests


class Command(BaseCommand):
    help = (
        "E-mail each team lead the open alerts of their team, once a day. "
        "Safe to run at any time, twice, or beside the schedule."
    )

    def handle(self, *args, **options):
        self.stdout.write(send_alert_digests())
