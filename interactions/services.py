"""Writes to interactions that do not involve promises.

Logging an interaction together with the commitments made in it is
``promises.services.log_interaction``: it writes both.
"""

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from interactions.models import Interaction


def answered_by(account_id: int, occurred_at) -> QuerySet[Interaction]:
    """The inbound interactions an outbound touch at ``occurred_at`` answers.

    The earlier ones not answered sooner: still awaiting an answer, or answered
    only later (a call logged after the fact). The index
    ``interaction_inbound_answer`` finds both without reading the account's rows.
    """
    return Interaction.objects.filter(
        Q(answered_at__isnull=True) | Q(answered_at__gt=occurred_at),
        account_id=account_id,
        direction=Interaction.Direction.INBOUND,
        occurred_at__lte=occurred_at,
    )


def note_outbound(account_id: int, occurred_at) -> None:
    """An outbound touch answers every earlier inbound one that was not answered sooner."""
    answered_by(account_id, occurred_at).update(answered_at=occurred_at)


def note_inbound(interaction: Interaction) -> None:
    """Set an inbound interaction's answer time from the outbound ones already logged."""
    answered_at = (
        Interaction.objects.filter(
            account_id=interaction.account_id,
            direction=Interaction.Direction.OUTBOUND,
            occurred_at__gte=interaction.occurred_at,
        )
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if answered_at != interaction.answered_at:
        interaction.answered_at = answered_at
        Interaction.objects.filter(pk=interaction.pk).update(answered_at=answered_at)


def refresh_answers(account_id: int) -> None:
    """Recompute every inbound interaction's answer time of one account (after an edit).

    An outbound interaction awaits no answer: one corrected from inbound loses its own.
    """
    Interaction.objects.filter(
        account_id=account_id,
        direction=Interaction.Direction.OUTBOUND,
        answered_at__isnull=False,
    ).update(answered_at=None)
    Interaction.objects.filter(
        account_id=account_id, direction=Interaction.Direction.INBOUND
    ).update(
        answered_at=Subquery(
            Interaction.objects.filter(
                account_id=OuterRef("account_id"),
                direction=Interaction.Direction.OUTBOUND,
                occurred_at__gte=OuterRef("occurred_at"),
            )
            .order_by("occurred_at")
            .values("occurred_at")[:1]
        )
    )


FUTURE_MESSAGE = "An interaction cannot happen in the future."


def is_in_future(moment) -> bool:
    """The one rule for when an interaction can be logged: not after now."""
    return moment > timezone.now()


def check_occurred_at(moment) -> None:
    """Refuse an interaction dated in the future, as a field error."""
    if is_in_future(moment):
        raise ValidationError({"occurred_at": [FUTURE_MESSAGE]})
