"""Commitments made to customers, their append-only history, and the alerts a lead reviews.

The rules of a promise's lifecycle live in ``promises.services``: it is the only
place a status changes. The database enforces what must never be false.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account, Contact
from interactions.models import Interaction


class PromiseQuerySet(models.QuerySet):
    """The rules of a promise's state as queries; their conditions are below ``Promise``."""

    def open(self):
        return self.filter(status=Promise.Status.OPEN)

    def overdue(self, now):
        """Open and past due at ``now``: what the sweep breaks, through ``promise_open_due``."""
        return self.filter(overdue_condition(now))

    def due_between(self, start, end):
        return self.filter(due_between_condition(start, end))

    def kept_on_time(self):
        return self.filter(kept_on_time_condition())

    def kept_late(self):
        return self.filter(kept_late_condition())


class Promise(models.Model):
    """A commitment *we* made to the customer."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        RELEASED = "released", "Released"

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="promises", db_index=False
    )  # indexed by promise_account_due
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises"
    )
    interaction = models.ForeignKey(
        Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promises", db_index=False
    )  # indexed by promise_owner_status_due
    description = models.TextField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    kept_at = models.DateTimeField(null=True, blank=True)
    # When it was broken; kept when a broken promise is later kept late.
    broken_at = models.DateTimeField(null=True, blank=True)
    # Broken by us before the due time, telling the customer (a disclosed break)
    # rather than swept overdue (a silent one).
    broken_disclosed = models.BooleanField(default=False)
    released_at = models.DateTimeField(null=True, blank=True)
    renegotiated_count = models.PositiveIntegerField(default=0)
    # The first repair after the break: a promise made after it was kept, or a
    # positive outbound interaction. The trust model decides whether it came soon
    # enough (its repair window) to soften the break.
    repaired_at = models.DateTimeField(null=True, blank=True)
    # The due time a "due soon" reminder was sent for; a renegotiated promise gets a new one.
    reminded_for_due_at = models.DateTimeField(null=True, blank=True)
    # The promise's id in another system, for integrations and re-imports; unique in
    # the account (NULLs skipped).
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromiseQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep and the "overdue" lists: open promises by due time. Tiny,
            # so an empty sweep costs one index probe whatever the table size.
            models.Index(fields=["due_at"], name="promise_open_due", condition=Q(status="open")),
            # An account's promises by due time; it also carries every column the
            # trust aggregation reads, so one account's recompute is an index-only
            # scan (its promises lie on as many heap pages as it has promises).
            models.Index(
                fields=["account", "due_at"],
                include=[
                    "created_at",
                    "kept_at",
                    "broken_at",
                    "released_at",
                    "repaired_at",
                    "renegotiated_count",
                ],
                name="promise_account_due",
            ),
            models.Index(fields=["owner", "status", "due_at"], name="promise_owner_status_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=Q(external_id__isnull=False),
                name="promise_external_id_unique_per_account",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "kept", "broken", "released"]),
                name="promise_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="kept", kept_at__isnull=False)
                | (~Q(status="kept") & Q(kept_at__isnull=True)),
                name="promise_kept_at_iff_kept",
            ),
            models.CheckConstraint(
                condition=~Q(status="broken") | Q(broken_at__isnull=False),
                name="promise_broken_has_broken_at",
            ),
            models.CheckConstraint(
                condition=Q(status="released", released_at__isnull=False)
                | (~Q(status="released") & Q(released_at__isnull=True)),
                name="promise_released_at_iff_released",
            ),
            # Nothing is delivered before it was promised, and a promise kept after it
            # broke was kept after the break: a keep cannot be back-dated over either.
            models.CheckConstraint(
                condition=Q(kept_at__isnull=True) | Q(kept_at__gte=F("created_at")),
                name="promise_kept_after_made",
            ),
            models.CheckConstraint(
                condition=Q(kept_at__isnull=True)
                | Q(broken_at__isnull=True)
                | Q(kept_at__gte=F("broken_at")),
                name="promise_kept_after_broken",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:80]

    @property
    def kept_on_time(self) -> bool | None:
        return kept_on_time(self.kept_at, self.due_at, self.broken_at)

    def is_overdue(self, now=None) -> bool:
        return is_overdue(self.status, self.due_at, now or timezone.now())


# The rules of a promise's state, each written here once: on one promise (for the
# model and the API's lean rows) and, beside it, as the condition a query filters
# or counts by (for the querysets below, and for aggregates such as a keeping record).


def kept_on_time(kept_at, due_at, broken_at) -> bool | None:
    """True when kept by the due time, False when kept late, None when not kept.

    A promise kept after it broke is kept late, always: even one broken before its
    due time (a disclosed break) and delivered by it after all.
    """
    if kept_at is None:
        return None
    return kept_at <= due_at and broken_at is None


def kept_on_time_condition() -> Q:
    """``kept_on_time`` is True."""
    return Q(status=Promise.Status.KEPT, kept_at__lte=F("due_at"), broken_at__isnull=True)


def kept_late_condition() -> Q:
    """``kept_on_time`` is False (including a broken promise kept later)."""
    return Q(status=Promise.Status.KEPT) & (Q(kept_at__gt=F("due_at")) | Q(broken_at__isnull=False))


def is_overdue(status: str, due_at, now) -> bool:
    """Open and past its due time (the sweep has not broken it yet)."""
    return status == Promise.Status.OPEN and due_at < now


def overdue_condition(now) -> Q:
    """``is_overdue`` at ``now``."""
    return Q(status=Promise.Status.OPEN, due_at__lt=now)


def due_between_condition(start, end) -> Q:
    """Open and due at or after ``start``, before ``end`` (not yet overdue at ``start``)."""
    return Q(status=Promise.Status.OPEN, due_at__gte=start, due_at__lt=end)


class PromiseEvent(models.Model):
    """One entry in a promise's history. Appended, never edited or deleted."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        RENEGOTIATED = "renegotiated", "Renegotiated"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        RELEASED = "released", "Released"

    promise = models.ForeignKey(
        Promise, on_delete=models.PROTECT, related_name="events", db_index=False
    )  # indexed by promise_event_promise_at
    kind = models.CharField(max_length=14, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    # Null for the system (the overdue sweep).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promise_events",
        db_index=False,
    )  # indexed by promise_event_by
    note = models.TextField(blank=True, default="")
    old_due_at = models.DateTimeField(null=True, blank=True)
    new_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["promise", "at"], name="promise_event_promise_at"),
            # A user's events (what deleting a user checks). The sweep's events have
            # nobody and stay out of it: the sweep appends thousands at once.
            models.Index(fields=["by"], name="promise_event_by", condition=Q(by__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["created", "renegotiated", "kept", "broken", "released"]),
                name="promise_event_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """Something a team lead should look at."""

    class Kind(models.TextChoices):
        PROMISE_BROKEN = "promise_broken", "Promise broken"
        HEALTH_DROP = "health_drop", "Health dropped to at risk"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )  # indexed by alert_account_status
    promise = models.ForeignKey(
        Promise,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        db_index=False,
    )  # indexed by alert_one_per_broken_promise
    detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledged_alerts",
        db_index=False,
    )  # indexed by alert_acknowledged_by
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_alerts",
        db_index=False,
    )  # indexed by alert_resolved_by
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status"], name="alert_account_status"),
            models.Index(fields=["status", "created_at"], name="alert_status_created"),
            # Who reviewed what (what deleting a user checks). Open alerts, the ones
            # the sweep inserts by the thousand, have no reviewer and stay out of them.
            models.Index(
                fields=["acknowledged_by"],
                name="alert_acknowledged_by",
                condition=Q(acknowledged_by__isnull=False),
            ),
            models.Index(
                fields=["resolved_by"],
                name="alert_resolved_by",
                condition=Q(resolved_by__isnull=False),
            ),
        ]
        constraints = [
            # One alert per broken promise, ever: the last line against a double alert.
            # Only promise_broken alerts name a promise (alert_promise_matches_kind), so
            # the constraint need not say so, and its index also serves as the
            # foreign key's: a promise's alert, and what deleting a promise checks.
            models.UniqueConstraint(fields=["promise"], name="alert_one_per_broken_promise"),
            models.CheckConstraint(
                condition=(Q(kind="promise_broken") & Q(promise__isnull=False))
                | (Q(kind="health_drop") & Q(promise__isnull=True)),
                name="alert_promise_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "acknowledged", "resolved"]),
                name="alert_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.account}"


class AlertDigest(models.Model):
    """A lead's daily e-mail of their team's open alerts, one per lead and day.

    The row is the claim: it is inserted before the e-mail is sent, and the unique
    constraint lets exactly one of any number of concurrent runs send it. A failed
    send deletes the row so that a later run tries again.
    """

    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_digests"
    )
    # The lead's working day, in the project's time zone.
    day = models.DateField()
    alert_count = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "lead_id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "day"], name="alert_digest_one_per_lead_day"),
        ]

    def __str__(self) -> str:
        return f"Digest for {self.lead} on {self.day:%Y-%m-%d}"
