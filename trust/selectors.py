"""Reads of trust health, scoped to what a user may see.

Also the relationship rows the account lists show: each account with its promise
counts, its last touch and its recent health trend.
"""

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from accounts.models import Account
from accounts.selectors import visible_to
from interactions.models import Interaction
from promises.models import Promise
from trust.models import TrustSnapshot

TREND_POINTS = 20


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


def relationship_rows(accounts: QuerySet[Account], *, now: datetime) -> QuerySet[Account]:
    """``accounts`` (already scoped) worst health first, with their promise counts.

    Each row has ``open_promises``, ``overdue_promises`` (open and past due) and
    ``last_touch`` (its newest interaction's time); ``attach_trends`` adds the trend.
    """
    open_promises = Q(promises__status=Promise.Status.OPEN)
    last_touch = (
        Interaction.objects.filter(account=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        accounts.select_related("owner")
        .annotate(
            open_promises=Count("promises", filter=open_promises),
            overdue_promises=Count("promises", filter=open_promises & Q(promises__due_at__lt=now)),
            last_touch=Subquery(last_touch),
        )
        .order_by(F("health_score").asc(nulls_last=True), "name", "id")
    )


def attach_trends(user, accounts: list[Account]) -> list[Account]:
    """Give each account ``trend``: its latest scores, oldest first, for a sparkline.

    One query for the whole list: the newest TREND_POINTS snapshots of each account.
    """
    by_account: dict[int, list] = defaultdict(list)
    if accounts:
        newest_first = Window(
            RowNumber(),
            partition_by=[F("account_id")],
            order_by=[F("computed_at").desc(), F("id").desc()],
        )
        rows = (
            snapshots_visible_to(user)
            .filter(account_id__in=[account.pk for account in accounts])
            .annotate(rank=newest_first)
            .filter(rank__lte=TREND_POINTS)
            .values_list("account_id", "computed_at", "score")
        )
        for account_id, computed_at, score in rows:
            by_account[account_id].append((computed_at, score))
    for account in accounts:
        account.trend = sorted(by_account[account.pk])
    return accounts
