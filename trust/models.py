"""Computed trust health: one snapshot per computation, the newest is current."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account


class WrittenJSONField(models.JSONField):
    """A JSONField kept as written: PostgreSQL's ``json`` type rather than ``jsonb``.

    A snapshot's JSON is written once per account by every bulk recompute and
    never queried into, only shown: ``json`` stores the text after checking
    it, where ``jsonb`` converts it to its binary form (4% of the recompute of
    every account).
    """

    def db_type(self, connection):
        return "json"

    def from_db_value(self, value, expression, connection):
        # psycopg hands ``json`` over already decoded (Django asks it for text
        # of ``jsonb`` only).
        if value is None or isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        return value


class TrustSnapshot(models.Model):
    class Band(models.TextChoices):
        HEALTHY = "healthy", "Healthy"
        WATCH = "watch", "Watch"
        AT_RISK = "at_risk", "At risk"

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="trust_snapshots", db_index=False
    )  # indexed by snapshot_account_latest
    computed_at = models.DateTimeField(default=timezone.now)
    # The moment the health describes (evidence after it is ignored).
    as_of = models.DateTimeField()
    score = models.FloatField()
    band = models.CharField(max_length=16, choices=Band.choices)
    confidence = models.FloatField()
    components = WrittenJSONField(default=dict)
    explanation = WrittenJSONField(default=list)

    class Meta:
        ordering = ["-computed_at", "-id"]
        get_latest_by = "computed_at"
        indexes = [
            models.Index(fields=["account", "-computed_at"], name="snapshot_account_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="snapshot_score_range"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1),
                name="snapshot_confidence_range",
            ),
            models.CheckConstraint(
                condition=Q(band__in=["healthy", "watch", "at_risk"]), name="snapshot_band_valid"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.account}: {self.score:.0f} ({self.band}) at {self.computed_at:%Y-%m-%d %H:%M}"
        )


class BulkRecompute(models.Model):
    """One recompute of every account, spread over Celery workers in id-range chunks.

    The chunks count themselves here, each in the transaction that writes its
    snapshots: the one that completes the count sends the task that finishes
    the run. A row of the database rather than a Celery chord, which needs a
    result backend (tasks keep no results here, and the embedded setup has no
    backend to keep them in); and a chunk delivered twice is counted once.
    """

    as_of = models.DateTimeField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    chunks = models.PositiveIntegerField()
    # The indexes of the chunks written so far.
    chunks_done = ArrayField(models.PositiveIntegerField(), default=list)
    accounts = models.PositiveIntegerField(default=0)
    snapshots = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    alerts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"recompute {self.pk} as of {self.as_of:%Y-%m-%d %H:%M}"
