"""Celery tasks of the trust app: thin wrappers around ``trust.services``."""

from celery import shared_task

from relcrm import queue
from trust import services


@shared_task(name="trust.tasks.compute_account_health")
def compute_account_health(account_id: int) -> str:
    """Recompute one account's health right after a write to it (sent on commit)."""
    return str(services.compute_account_health(account_id))


@shared_task(name="trust.tasks.compute_trust_health")
def compute_trust_health(all_accounts: bool = False) -> str:
    """Recompute stale accounts (beat: every 5 minutes), or all of them (nightly).

    Evidence fades with time even when nothing happens, hence the nightly ``--all``.
    """
    name = "the full trust recompute" if all_accounts else "the stale trust recompute"
    return queue.run_alone(name, lambda: services.compute_trust_health(all_accounts=all_accounts))
