"""CSV import jobs: one file, one resource, all or nothing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Team

# Bad rows listed on a failed job; the count of all of them is told either way.
MAX_LISTED_ROWS = 1000


class ImportJob(models.Model):
    """One CSV file imported into one resource by one person, or its dry run.

    The job writes every row or none: a file with any invalid row writes nothing
    and fails, listing the bad rows (up to ``MAX_LISTED_ROWS``) and their count.
    A dry run checks and counts everything an import would do and writes nothing.
    """

    class Resource(models.TextChoices):
        ACCOUNTS = "accounts", "Accounts"
        CONTACTS = "contacts", "Contacts"
        INTERACTIONS = "interactions", "Interactions"
        PROMISES = "promises", "Promises"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    resource = models.CharField(max_length=16, choices=Resource.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    dry_run = models.BooleanField(default=False)
    # Who imports (the rows are checked against what they may see) and for which team;
    # no team for an admin's job.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="import_jobs"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="import_jobs"
    )
    # The uploaded CSV, where the workers read it (default storage). Empty for
    # ``import_csv``, which reads its file from the disk it runs on.
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True, default="")
    file_name = models.CharField(max_length=255, blank=True, default="")
    # The columns chosen in the web UI: {header as in the file: field, or "" to ignore}.
    # Empty: the file's headers are read as the API's field names and their aliases.
    mapping = models.JSONField(default=dict, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    # [{"row", "column", "message"}, ...]: the first bad rows' errors, then the count.
    errors = models.JSONField(default=list, blank=True)
    invalid_rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"], name="import_job_team_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resource__in=["accounts", "contacts", "interactions", "promises"]),
                name="import_job_resource_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "succeeded", "failed"]),
                name="import_job_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(rows_done__lte=models.F("rows_total")),
                name="import_job_rows_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_resource_display()} import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
