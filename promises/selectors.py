"""Reads of promises, their events and alerts, scoped to what a user may see.

Besides the scoped querysets, the reads the web UI shows and the API and exports can
share: an account's timeline and open commitments, a rep's promise lists, the team's
promise-keeping record.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Account, band_condition
from accounts.selectors import accounts_visible_to, visible_to
from interactions.selectors import interactions_visible_to
from promises.models import (
    Alert,
    Promise,
    PromiseEvent,
    due_between_condition,
    kept_late_condition,
    kept_on_time_condition,
    overdue_condition,
)

Status = Promise.Status

TIMELINE_SIZE = 40
OPEN_PROMISES_SHOWN = 25
DUE_SOON = timedelta(days=7)
# A promise the sweep broke stays on the rep's overdue list this long: it can still be
# kept late.
SLIPPED_FOR = timedelta(days=30)
RECORD_WINDOWS = (30, 90)


def promises_visible_to(user) -> QuerySet[Promise]:
    return visible_to(Promise.objects.all(), user)


def promise_events_visible_to(user) -> QuerySet[PromiseEvent]:
    return visible_to(PromiseEvent.objects.all(), user, via="promise__account")


def alerts_visible_to(user) -> QuerySet[Alert]:
    return visible_to(Alert.objects.all(), user)


# --- one account -------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One row of an account's timeline: an interaction, a promise or a promise event."""

    at: datetime
    kind: str
    item: object


def account_timeline(
    user, account: Account, *, before: datetime | None = None
) -> tuple[list[TimelineEntry], datetime | None]:
    """The newest TIMELINE_SIZE entries before ``before``, and where the next page starts.

    A promise made in an interaction is shown inside it; promises made on their own and
    every later event of a promise (renegotiated, kept, broken, released) are rows of
    their own. Three queries (and two prefetches) whatever the history's length.
    """
    promises_made = Prefetch(
        "promises", queryset=Promise.objects.select_related("contact", "owner").order_by("id")
    )
    interactions = (
        interactions_visible_to(user)
        .filter(account=account)
        .select_related("logged_by")
        .prefetch_related("contacts", promises_made)
        .order_by("-occurred_at", "-id")
    )
    standalone = (
        promises_visible_to(user)
        .filter(account=account, interaction__isnull=True)
        .select_related("contact", "owner")
        .order_by("-created_at", "-id")
    )
    events = (
        promise_events_visible_to(user)
        .filter(promise__account=account)
        .exclude(kind=PromiseEvent.Kind.CREATED)
        .select_related("promise", "by")
        .order_by("-at", "-id")
    )
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
        standalone = standalone.filter(created_at__lt=before)
        events = events.filter(at__lt=before)
    # One more than a page from each source tells whether anything older remains.
    size = TIMELINE_SIZE + 1
    entries = [
        *(TimelineEntry(i.occurred_at, "interaction", i) for i in interactions[:size]),
        *(TimelineEntry(p.created_at, "promise", p) for p in standalone[:size]),
        *(TimelineEntry(e.at, "event", e) for e in events[:size]),
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    more = len(entries) > TIMELINE_SIZE
    entries = entries[:TIMELINE_SIZE]
    return entries, (entries[-1].at if more else None)


def open_promises_of(user, account: Account) -> list[Promise]:
    """The account's open commitments, soonest due first (the account's "to do")."""
    return list(
        promises_visible_to(user)
        .filter(account=account, status=Status.OPEN)
        .order_by("due_at", "id")[:OPEN_PROMISES_SHOWN]
    )


def latest_event_of(user, promise: Promise) -> PromiseEvent | None:
    """What last happened to the promise (the event a change just wrote)."""
    return (
        promise_events_visible_to(user)
        .filter(promise=promise)
        .select_related("promise", "by")
        .order_by("-at", "-id")
        .first()
    )


# --- a rep's promises --------------------------------------------------------------------


# The lists of "my promises", by the name a URL gives them, with their titles.
PROMISE_LISTS = {
    "open": "Open",
    "overdue": "Overdue",
    "week": "Due this week",
    "kept": "Kept",
    "broken": "Broken",
}


def _promise_lists(now: datetime) -> dict[str, tuple[Q, tuple[str, ...]]]:
    """Each of PROMISE_LISTS as its condition and its order.

    Overdue: past due and still open (the sweep has not run yet), or broken in the
    last SLIPPED_FOR (it can still be kept late); due this week: open and due in the
    next DUE_SOON. Kept and broken ones come newest first.
    """
    is_open = Q(status=Status.OPEN)
    return {
        "open": (is_open, ("due_at", "id")),
        "overdue": (
            overdue_condition(now) | Q(status=Status.BROKEN, broken_at__gte=now - SLIPPED_FOR),
            ("due_at", "id"),
        ),
        "week": (due_between_condition(now, now + DUE_SOON), ("due_at", "id")),
        "kept": (Q(status=Status.KEPT), ("-kept_at", "-id")),
        "broken": (Q(status=Status.BROKEN), ("-broken_at", "-id")),
    }


def promises_owned_by(user) -> QuerySet[Promise]:
    """The promises ``user`` made, on the accounts they may still see."""
    return promises_visible_to(user).filter(owner=user)


def my_promises(user, which: str, *, now: datetime) -> QuerySet[Promise]:
    """One of PROMISE_LISTS of the promises ``user`` made, in that list's order."""
    condition, order = _promise_lists(now)[which]
    return (
        promises_owned_by(user)
        .filter(condition)
        .select_related("account", "contact", "owner")
        .order_by(*order)
    )


def my_promise_counts(user, *, now: datetime) -> dict[str, int]:
    """How many promises each of PROMISE_LISTS holds, in one query."""
    counts = {
        name: Count("pk", filter=condition) for name, (condition, _) in _promise_lists(now).items()
    }
    return promises_owned_by(user).aggregate(**counts)


# --- the team ----------------------------------------------------------------------------


def keeping_record(promises: QuerySet[Promise], *, now: datetime) -> dict[int, dict]:
    """Each owner's promise-keeping record over RECORD_WINDOWS (in days), in one query.

    A promise counts in a window when it was resolved in it: kept on time
    (``kept_at <= due_at``), kept late (including a broken promise kept later), or
    broken and not kept since. ``open`` and ``overdue`` count what is open now.
    """
    counts: dict[str, Count] = {}
    for days in RECORD_WINDOWS:
        since = now - timedelta(days=days)
        kept = Q(kept_at__gte=since)
        counts[f"on_time_{days}"] = Count("pk", filter=kept & kept_on_time_condition())
        counts[f"late_{days}"] = Count("pk", filter=kept & kept_late_condition())
        counts[f"broken_{days}"] = Count("pk", filter=Q(status=Status.BROKEN, broken_at__gte=since))
    open_now = Q(status=Status.OPEN)
    counts["open"] = Count("pk", filter=open_now)
    counts["overdue"] = Count("pk", filter=overdue_condition(now))
    rows: Iterable[Mapping[str, Any]] = promises.order_by().values("owner_id").annotate(**counts)
    return {row["owner_id"]: {name: row[name] for name in counts} for row in rows}


def team_glance(user) -> dict[str, int]:
    """For a lead's home page: open alerts, and accounts at risk and to watch."""
    return {
        "open_alerts": alerts_visible_to(user).filter(status=Alert.Status.OPEN).count(),
        **accounts_visible_to(user).aggregate(
            at_risk=Count("pk", filter=band_condition(Account.Band.AT_RISK)),
            watch=Count("pk", filter=band_condition(Account.Band.WATCH)),
        ),
    }
