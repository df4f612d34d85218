"""Reads of trust health, scoped to what a user may see."""

from django.db.models import QuerySet

from accounts.selectors import visible_to
from trust.models import TrustSnapshot


def snapshots_visible_to(user) -> QuerySet[TrustSnapshot]:
    return visible_to(TrustSnapshot.objects.all(), user)


def latest_snapshot(account_id: int) -> TrustSnapshot | None:
    """The account's current health: its newest snapshot."""
    return (
        TrustSnapshot.objects.filter(account_id=account_id).order_by("-computed_at", "-id").first()
    )


def snapshot_history(account_id: int) -> QuerySet[TrustSnapshot]:
    """Every snapshot of the account, newest first."""
    return TrustSnapshot.objects.filter(account_id=account_id).order_by("-computed_at", "-id")
