"""The API's own records: the answers kept for retried requests."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key``, replayed to its retries.

    A key belongs to the caller who sent it (two callers' equal keys are two
    requests). ``fingerprint`` identifies the request the key was first sent
    with, so that the same key with another request is refused rather than
    answered with the first one's answer.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Set in the transaction that claimed the key, before it commits: never seen unset.
    status = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
