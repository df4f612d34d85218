"""``manage.py seed_demo``: fill an empty database with two teams and months of history."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from accounts.models import Account, Contact, User
from interactions.models import Interaction
from promises.models import Alert, Promise
from relcrm import demo


class Command(BaseCommand):
    help = (
        "Fill an empty database with demo data: two teams with their leads and reps, "
        "24 accounts and four months of interactions, promises and alerts. "
        "Prints the logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when any account exists; `make run` uses this.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help="Seed of the random story (default %(default)s): the same seed, the same data.",
        )

    def handle(self, *args, if_empty: bool, seed: int, **options):
        if Account.objects.exists():
            if not if_empty:
                raise CommandError(
                    "The database already has accounts; seed_demo only fills an empty one."
                )
            self.stdout.write("The database already has accounts: no demo data added.")
            if len(self.taken_usernames()) == len(demo.PEOPLE):
                self.print_logins()
            return
        taken = self.taken_usernames()
        if taken:
            raise CommandError(f"These demo usernames are taken already: {', '.join(taken)}.")
        story = demo.seed(seed=seed)
        self.print_summary(story)
        self.print_logins()

    @staticmethod
    def taken_usernames() -> list[str]:
        usernames = [person.username for person in demo.PEOPLE]
        return sorted(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )

    def print_summary(self, story: demo.Story) -> None:
        statuses = dict(
            Promise.objects.values_list("status").annotate(n=Count("id")).order_by("status")
        )
        alerts = dict(Alert.objects.values_list("status").annotate(n=Count("id")).order_by())
        bands = dict(Account.objects.values_list("health_band").annotate(n=Count("id")).order_by())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(demo.TEAMS)} teams, {Account.objects.count()} accounts, "
                f"{Contact.objects.count()} contacts, {Interaction.objects.count()} interactions "
                f"since {min(account.since for account in story.accounts):%Y-%m-%d}, "
                f"{sum(statuses.values())} promises "
                f"({', '.join(f'{n} {status}' for status, n in statuses.items())}), "
                f"{sum(alerts.values())} alerts "
                f"({', '.join(f'{n} {status}' for status, n in sorted(alerts.items()))}); "
                f"trust health: {', '.join(f'{n} {band}' for band, n in sorted(bands.items()))}."
            )
        )

    def print_logins(self) -> None:
        self.stdout.write("\nDemo logins (username / password):")
        for person in demo.PEOPLE:
            role = f"{person.role} of {person.team}" if person.team else person.role
            self.stdout.write(f"  {person.username:<7} / {demo.PASSWORD}   {role}")
