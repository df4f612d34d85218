"""Celery tasks of the trust app: thin wrappers around ``trust.services``."""

from celery import shared_task

from accounts.services import recompute_started
from relcrm import queue, task_names
from trust import services


@shared_task(name=task_names.COMPUTE_ACCOUNT_HEALTH)
def compute_account_health(account_id: int) -> str:
    """Recompute one account's health right after a write to it (sent on commit).

    First it lets the next write ask again (``accounts.services._ask_once``): any
    write that commits from now on is either read here or asks for another run.
    """
    recompute_started(account_id)
    return str(services.compute_account_health(account_id))


@shared_task(name=task_names.COMPUTE_TRUST_HEALTH)
def compute_trust_health(all_accounts: bool = False) -> str:
    """Recompute stale accounts (beat: every 5 minutes), or all of them (nightly).

    Evidence fades with time even when nothing happens, hence the nightly
    recompute of every account: sent to the workers as one chunk task per id
    range (``compute_trust_chunk``), so that every worker takes its share.
    """
    if all_accounts:
        run = services.spread_bulk_recompute()
        return f"Sent the recompute of every account as {run.chunks} chunk task(s) (run {run.pk})."
    return queue.run_alone(
        "the stale trust recompute", lambda: services.compute_trust_health(all_accounts=False)
    )


@shared_task(name=task_names.COMPUTE_TRUST_CHUNK)
def compute_trust_chunk(run_id: int, index: int, first_id: int, last_id: int) -> str:
    """One id-range chunk of the recompute of every account."""
    return str(services.compute_bulk_chunk(run_id, index, first_id, last_id))


@shared_task(name=task_names.FINISH_TRUST_RECOMPUTE)
def finish_trust_recompute(run_id: int) -> str:
    """Sent by the chunk that completes a run: marks it finished and logs what it did."""
    return services.finish_bulk_recompute(run_id)
