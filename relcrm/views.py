"""The home page: what needs the signed-in rep (and, for a lead, their team) today."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from accounts.selectors import accounts_visible_to
from accounts.views import relationship_page
from promises.models import Alert, Promise
from promises.selectors import alerts_visible_to, promises_visible_to

DUE_SOON = timedelta(days=7)
# A promise the sweep broke stays on the rep's list this long: it can still be kept late.
SLIPPED_FOR = timedelta(days=30)
LIST_SIZE = 20


@login_required
def home(request):
    user, now = request.user, timezone.now()
    mine = promises_visible_to(user).filter(owner=user).select_related("account")
    slipped = mine.filter(
        Q(status=Promise.Status.OPEN, due_at__lt=now)
        | Q(status=Promise.Status.BROKEN, broken_at__gte=now - SLIPPED_FOR)
    ).order_by("due_at", "id")
    due_soon = mine.filter(
        status=Promise.Status.OPEN, due_at__gte=now, due_at__lt=now + DUE_SOON
    ).order_by("due_at", "id")
    context = {
        "page": relationship_page(request, accounts_visible_to(user).filter(owner=user)),
        "slipped": list(slipped[:LIST_SIZE]),
        "due_soon": list(due_soon[:LIST_SIZE]),
        "now": now,
    }
    if user.is_lead or user.is_superuser:
        context["team_glance"] = {
            "open_alerts": alerts_visible_to(user).filter(status=Alert.Status.OPEN).count(),
            **accounts_visible_to(user).aggregate(
                at_risk=Count("pk", filter=Q(health_band="at_risk")),
                watch=Count("pk", filter=Q(health_band="watch")),
            ),
        }
    return render(request, "home.html", context)
