"""``manage.py compute_trust [--all [--in-process]] [--account ID]``: the recompute job, run now."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from accounts.models import Account
from trust import services

# How long the command waits for the workers to finish every account.
WAIT_SECONDS = 3600


class Command(BaseCommand):
    help = (
        "Recompute trust health for accounts whose data changed since their last snapshot "
        "(--all: every account, spread over the Celery workers when any answers; --account: "
        "one account), write snapshots and raise health_drop alerts. Safe to run twice or "
        "concurrently."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--all", action="store_true", help="Recompute every active account.")
        group.add_argument("--account", type=int, action="append", help="Recompute this account.")
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="With --all: run the chunks in this process even when Celery workers answer.",
        )
        parser.add_argument(
            "--as-of", help="Compute the health as it was at this ISO 8601 time (default: now)."
        )

    def handle(self, *args, **options):
        as_of = None
        if options["as_of"]:
            as_of = parse_datetime(options["as_of"])
            if as_of is None or as_of.tzinfo is None:
                raise CommandError("--as-of needs an ISO 8601 time with an offset.")
        account_ids = options["account"]
        if account_ids:
            missing = set(account_ids) - set(
                Account.objects.active().filter(pk__in=account_ids).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(f"No active account with id {sorted(missing)}.")
        if options["all"] and not options["in_process"] and services.workers_answer():
            run = services.spread_bulk_recompute(as_of=as_of)
            self.stdout.write(f"Sent {run.chunks} chunk(s) to the Celery workers (run {run.pk}).")
            result = services.wait_for_bulk_recompute(run, timeout=WAIT_SECONDS)
            if result is None:
                raise CommandError(f"Run {run.pk} did not finish within {WAIT_SECONDS} s.")
        else:
            result = services.compute_trust_health(
                all_accounts=options["all"], account_ids=account_ids, as_of=as_of
            )
        self.stdout.write(str(result))
