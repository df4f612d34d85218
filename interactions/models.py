"""Every touch-point with a customer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, Contact


class Interaction(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"
        MESSAGE = "message", "Message"
        NOTE = "note", "Note"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Sentiment(models.IntegerChoices):
        VERY_NEGATIVE = -2, "Very negative"
        NEGATIVE = -1, "Negative"
        NEUTRAL = 0, "Neutral"
        POSITIVE = 1, "Positive"
        VERY_POSITIVE = 2, "Very positive"

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="interactions", db_index=False
    )  # indexed by interaction_account_time
    kind = models.CharField(max_length=10, choices=Kind.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    occurred_at = models.DateTimeField()
    summary = models.TextField(blank=True, default="")
    sentiment = models.SmallIntegerField(choices=Sentiment.choices, null=True, blank=True)
    contacts = models.ManyToManyField(Contact, blank=True, related_name="interactions")
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="logged_interactions"
    )
    # Set by integrations that sync from another system; replaying it is a no-op.
    # NULL, not "", when absent: the per-account unique constraint skips NULLs.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # For an inbound interaction: when we next reached out (the first outbound one
    # after it). Kept up to date by the write path; read by the trust model.
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # Not a column: the promises logged with it, set by the service that logs both so
    # that its answer need not read them back.
    promises_made: list

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The timeline (newest first, by time then id) and the trust
            # aggregation of an account or a range of accounts both read this
            # index; the aggregation finds every column it needs in it (an
            # index-only scan), as an account's rows lie on as many heap pages as
            # it has interactions (rows are stored in time order).
            models.Index(
                fields=["account", "occurred_at", "id"],
                include=["direction", "sentiment", "answered_at"],
                name="interaction_account_time",
            ),
            # The inbound interactions an outbound touch answers (note_outbound):
            # those still awaiting an answer, or answered only later than it. Without
            # it, logging a call on a busy account reads every one of its rows.
            models.Index(
                fields=["account", "answered_at"],
                name="interaction_inbound_answer",
                condition=Q(direction="inbound"),
            ),
            models.Index(fields=["occurred_at"], name="interaction_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=Q(external_id__isnull=False),
                name="interaction_external_id_unique_per_account",
            ),
            models.CheckConstraint(
                condition=Q(sentiment__isnull=True) | Q(sentiment__gte=-2, sentiment__lte=2),
                name="interaction_sentiment_range",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["call", "email", "meeting", "message", "note"]),
                name="interaction_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=["inbound", "outbound"]),
                name="interaction_direction_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.account} on {self.occurred_at:%Y-%m-%d}"
