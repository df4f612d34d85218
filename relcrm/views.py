"""The home page: what needs the signed-in rep (and, for a lead, their team) today."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts.selectors import accounts_visible_to
from accounts.views import relationship_page
from promises.selectors import my_promises, team_glance

LIST_SIZE = 20


@login_required
def home(request):
    user, now = request.user, timezone.now()
    context = {
        "page": relationship_page(request, accounts_visible_to(user).filter(owner=user)),
        "slipped": list(my_promises(user, "overdue", now=now)[:LIST_SIZE]),
        "due_soon": list(my_promises(user, "week", now=now)[:LIST_SIZE]),
        "now": now,
    }
    if user.is_reviewer:
        context["team_glance"] = team_glance(user)
    return render(request, "home.html", context)
