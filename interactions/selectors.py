"""Reads of interactions, scoped to what a user may see."""

from django.db.models import QuerySet

from accounts.selectors import visible_to
from interactions.models import Interaction


def interactions_visible_to(user) -> QuerySet[Interaction]:
    return visible_to(Interaction.objects.all(), user)
