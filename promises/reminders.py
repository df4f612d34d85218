"""Reminders before a promise falls due, and each lead's daily digest of open alerts.

Both claim their work in the database before anything is sent, so that any
number of runs (beat, a command, a redelivered task) send each e-mail at most
once: a reminder by a conditional UPDATE of ``Promise.reminded_for_due_at`` to
the due time it reminds of (so a renegotiated promise is reminded again), a
digest by inserting its ``AlertDigest`` row under a unique constraint. A send
that fails gives its claim back, and the next run tries again.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from promises.models import Alert, AlertDigest, Promise
from promises.services import claim_promises

logger = logging.getLogger(__name__)

# A digest lists the newest open alerts and counts the rest: an e-mail is read, not searched.
DIGEST_MAX_LISTED = 50


@dataclass(frozen=True)
class ReminderRun:
    """What one run of the due-soon reminders did, in promises and e-mails."""

    emails: int = 0
    promises: int = 0
    # Claimed but not sent: the owner has no address or is inactive, or the account is archived.
    skipped: int = 0
    # The e-mail failed; their claims were given back for the next run.
    failed: int = 0

    def __add__(self, other: "ReminderRun") -> "ReminderRun":
        return ReminderRun(
            self.emails + other.emails,
            self.promises + other.promises,
            self.skipped + other.skipped,
            self.failed + other.failed,
        )

    def __str__(self) -> str:
        return (
            f"Sent {self.emails} reminder e-mail(s) for {self.promises} promise(s) due within "
            f"{settings.RELCRM_REMINDER_WINDOW_HOURS} hours; skipped {self.skipped}, "
            f"failed {self.failed}."
        )


@dataclass(frozen=True)
class DigestRun:
    """What one run of the daily alert digests did."""

    emails: int = 0
    alerts: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"Sent {self.emails} alert digest(s) listing {self.alerts} open alert(s); "
            f"failed {self.failed}."
        )


def _message(template: str, context: dict, to: str) -> EmailMessage:
    subject = " ".join(render_to_string(f"promises/email/{template}_subject.txt", context).split())
    body = render_to_string(f"promises/email/{template}_body.txt", context)
    return EmailMessage(subject=subject, body=body, to=[to])


# --- due-soon reminders -----------------------------------------------------------------


def send_due_soon_reminders(
    *, now: datetime | None = None, batch_size: int | None = None
) -> ReminderRun:
    """E-mail each owner once about their open promises falling due within the window.

    The window is ``RELCRM_REMINDER_WINDOW_HOURS``; promises already due are the
    sweep's, not a reminder's. One e-mail per owner and run lists all of theirs.
    """
    now = now or timezone.now()
    until = now + timedelta(hours=settings.RELCRM_REMINDER_WINDOW_HOURS)
    batch_size = batch_size or settings.RELCRM_REMINDER_BATCH_SIZE
    mail = get_connection()
    run = ReminderRun()
    while True:
        claimed = _claim_due_soon(now, until, batch_size)
        if claimed:
            run += _send_reminders(claimed, mail)
        if len(claimed) < batch_size:
            return run


def _claim_due_soon(now: datetime, until: datetime, batch_size: int) -> list[int]:
    due_soon = (
        Promise.objects.open()
        .filter(due_at__gt=now, due_at__lte=until)
        .exclude(reminded_for_due_at=F("due_at"))
    )
    rows = claim_promises(
        due_soon, assign={"reminded_for_due_at": F("due_at")}, limit=batch_size, returning=["id"]
    )
    return [promise_id for (promise_id,) in rows]


def _send_reminders(promise_ids: list[int], mail) -> ReminderRun:
    by_owner: dict[User, list[Promise]] = defaultdict(list)
    skipped = 0
    promises = Promise.objects.filter(pk__in=promise_ids).select_related("owner", "account")
    for promise in promises.order_by("due_at", "id"):
        if promise.owner.email and promise.owner.is_active and not promise.account.is_archived:
            by_owner[promise.owner].append(promise)
        else:
            skipped += 1
    run = ReminderRun(skipped=skipped)
    for owner, theirs in by_owner.items():
        message = _message("due_soon", {"owner": owner, "promises": theirs}, to=owner.email)
        message.connection = mail
        try:
            message.send()
        except Exception:  # a backend may raise anything; the claim must go back either way
            logger.exception("could not send a due-soon reminder to %s", owner.email)
            Promise.objects.filter(
                pk__in=[promise.pk for promise in theirs], reminded_for_due_at=F("due_at")
            ).update(reminded_for_due_at=None)
            run += ReminderRun(failed=len(theirs))
        else:
            run += ReminderRun(emails=1, promises=len(theirs))
    return run


# --- daily alert digests ----------------------------------------------------------------


def send_alert_digests(*, now: datetime | None = None) -> DigestRun:
    """E-mail each team lead, once a day, the open alerts of their team.

    Nothing is sent to a lead whose team has no open alert. The day is the
    project's local date, so a digest sent at 07:00 is that morning's.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    leads = (
        User.objects.leads()
        .exclude(email="")
        .exclude(alert_digests__day=day)
        .select_related("team")
        .order_by("team_id", "id")
    )
    open_alerts = Alert.objects.filter(
        status=Alert.Status.OPEN, account__archived_at__isnull=True
    ).select_related("account", "promise")
    mail = get_connection()
    emails = listed = failed = 0
    for team_id, team_leads in groupby(leads, key=lambda lead: lead.team_id):
        alerts = list(open_alerts.filter(account__team_id=team_id)[:DIGEST_MAX_LISTED])
        if not alerts:
            continue
        total = len(alerts)
        if total == DIGEST_MAX_LISTED:
            total = open_alerts.filter(account__team_id=team_id).count()
        for lead in team_leads:
            digest = _claim_digest(lead, day, total, now)
            if digest is None:
                continue
            context = {
                "lead": lead,
                "day": day,
                "alerts": alerts,
                "total": total,
                "more": total - len(alerts),
            }
            message = _message("alert_digest", context, to=lead.email)
            message.connection = mail
            try:
                message.send()
            except Exception:  # a backend may raise anything; the claim must go back either way
                logger.exception("could not send the alert digest to %s", lead.email)
                AlertDigest.objects.filter(pk=digest.pk).delete()
                failed += 1
            else:
                emails += 1
                listed += total
    return DigestRun(emails=emails, alerts=listed, failed=failed)


def _claim_digest(lead: User, day, total: int, now: datetime) -> AlertDigest | None:
    """Insert the (lead, day) row; None if another run inserted it first."""
    try:
        with transaction.atomic():
            return AlertDigest.objects.create(lead=lead, day=day, alert_count=total, sent_at=now)
    except IntegrityError:
        return None
