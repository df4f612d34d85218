"""Reads of promises, their events and alerts, scoped to what a user may see."""

from django.db.models import QuerySet

from accounts.selectors import visible_to
from promises.models import Alert, Promise, PromiseEvent


def promises_visible_to(user) -> QuerySet[Promise]:
    return visible_to(Promise.objects.all(), user)


def promise_events_visible_to(user) -> QuerySet[PromiseEvent]:
    return visible_to(PromiseEvent.objects.all(), user, via="promise__account")


def alerts_visible_to(user) -> QuerySet[Alert]:
    return visible_to(Alert.objects.all(), user)
