"""``manage.py createapitoken USERNAME``: print a new API token for a user."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to recognise the token by.")

    def handle(self, *args, username, name, **options):
        user = User.objects.named(username).first()
        if user is None:
            raise CommandError(f'No user named "{username}".')
        if not user.is_active:
            raise CommandError(f'The user "{username}" is inactive; a token would not work.')
        _, clear = services.issue_token(user, name=name, by=None, via="manage.py createapitoken")
        self.stdout.write(clear)
