"""``manage.py createapitoken USERNAME``: print a new API token for a user."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to recognise the token by.")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help=f"Stop working this many days from now (1 to {ApiToken.MAX_DAYS}); "
            "by default the token lives until it is revoked.",
        )
        parser.add_argument(
            "--scope",
            choices=ApiToken.Scope.values,
            default=ApiToken.Scope.READ_WRITE,
            help="read: GET only; read_write (the default): everything the user's role may.",
        )

    def handle(self, *args, username, name, expires_in_days, scope, **options):
        user = User.objects.named(username).first()
        if user is None:
            raise CommandError(f'No user named "{username}".')
        if not user.is_active:
            raise CommandError(f'The user "{username}" is inactive; a token would not work.')
        try:
            _, clear = services.issue_token(
                user,
                name=name,
                scope=scope,
                expires_in_days=expires_in_days,
                by=None,
                via="manage.py createapitoken",
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(
                    f"--{field.replace('_', '-')}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                )
            ) from error
        self.stdout.write(clear)
