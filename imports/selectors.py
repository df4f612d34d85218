"""Reads of import jobs, scoped to what a user may see."""

from django.db.models import QuerySet

from imports.models import ImportJob


def import_jobs_visible_to(user) -> QuerySet[ImportJob]:
    """The jobs of the user's team (every job for an admin); nobody else's."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ImportJob.objects.none()
    if user.is_superuser:
        return ImportJob.objects.all()
    if user.team_id is None:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(team_id=user.team_id)
