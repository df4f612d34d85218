"""Web pages for signing in, finding accounts, and an account's page with its timeline.

Every page starts from the selectors' team scope, so another team's account is a 404
here exactly as in the API.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from types import SimpleNamespace

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.api import LoginRateThrottle
from accounts.models import Account
from accounts.selectors import accounts_visible_to, contacts_visible_to
from interactions.models import Interaction
from interactions.selectors import interactions_visible_to
from promises.forms import quick_due_dates
from promises.models import Promise, PromiseEvent
from promises.selectors import promise_events_visible_to, promises_visible_to
from trust.selectors import latest_snapshot, snapshots_visible_to

PAGE_SIZE = 50
TREND_POINTS = 20
TIMELINE_SIZE = 40
SEARCH_SIZE = 8


# --- signing in --------------------------------------------------------------------------


class LoginFormRateThrottle(LoginRateThrottle):
    """The API's login throttle on the sign-in form: same rate, same cache counter.

    ``LoginRateThrottle`` reads the username from DRF's ``request.data``; a form posts
    it, so the form's fields are handed over in that shape.
    """

    def get_cache_key(self, request, view):
        form_request = SimpleNamespace(
            data=request.POST.dict(), META=request.META, headers=request.headers
        )
        return super().get_cache_key(form_request, view)


class LoginView(auth_views.LoginView):
    """Django's sign-in, refused with 429 after RELCRM_THROTTLE_LOGIN tries per address and name."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        throttle = LoginFormRateThrottle()
        if throttle.allow_request(request, self):
            return super().post(request, *args, **kwargs)
        wait = ceil(throttle.wait() or 60)
        # An unbound form: a bound one would check the password while rendering its errors.
        form = self.form_class(request, initial={"username": request.POST.get("username", "")})
        response = self.render_to_response(
            self.get_context_data(form=form, throttled_for=wait), status=429
        )
        response["Retry-After"] = str(wait)
        return response


# --- account lists -----------------------------------------------------------------------


def relationship_rows(accounts: QuerySet[Account], *, now: datetime) -> QuerySet[Account]:
    """Accounts as the lists show them: worst health first, with their promise counts."""
    open_promises = Q(promises__status=Promise.Status.OPEN)
    last_touch = (
        Interaction.objects.filter(account=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        accounts.select_related("owner")
        .annotate(
            open_promises=Count("promises", filter=open_promises),
            overdue_promises=Count("promises", filter=open_promises & Q(promises__due_at__lt=now)),
            last_touch=Subquery(last_touch),
        )
        .order_by(F("health_score").asc(nulls_last=True), "name", "id")
    )


def attach_trends(user, accounts: list[Account]) -> list[Account]:
    """Give each account ``trend``: its latest scores, oldest first, for a sparkline.

    One query for the whole list: the newest TREND_POINTS snapshots of each account.
    """
    by_account: dict[int, list] = defaultdict(list)
    if accounts:
        newest_first = Window(
            RowNumber(),
            partition_by=[F("account_id")],
            order_by=[F("computed_at").desc(), F("id").desc()],
        )
        rows = (
            snapshots_visible_to(user)
            .filter(account_id__in=[account.pk for account in accounts])
            .annotate(rank=newest_first)
            .filter(rank__lte=TREND_POINTS)
            .values_list("account_id", "computed_at", "score")
        )
        for account_id, computed_at, score in rows:
            by_account[account_id].append((computed_at, score))
    for account in accounts:
        account.trend = sorted(by_account[account.pk])
    return accounts


def relationship_page(request, accounts: QuerySet[Account]) -> Page:
    """One page of ``accounts`` as relationship rows with their trends."""
    page = Paginator(relationship_rows(accounts, now=timezone.now()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    attach_trends(request.user, page.object_list)
    return page


BAND_FILTERS = {
    "healthy": "Healthy",
    "watch": "Watch",
    "at_risk": "At risk",
    "none": "Not computed",
}


@login_required
def account_list(request):
    """Every account the user may see, filtered by band and a name or domain."""
    accounts = accounts_visible_to(request.user)
    query = request.GET.get("q", "").strip()
    band = request.GET.get("band", "")
    if query:
        accounts = accounts.filter(Q(name__icontains=query) | Q(domain__icontains=query))
    if band == "none":
        accounts = accounts.filter(health_score__isnull=True)
    elif band in BAND_FILTERS:
        accounts = accounts.filter(health_band=band)
    return render(
        request,
        "accounts/account_list.html",
        {
            "page": relationship_page(request, accounts),
            "query": query,
            "band": band,
            "bands": BAND_FILTERS,
        },
    )


@login_required
def search(request):
    """Quick search over accounts (name, domain) and contacts (name, e-mail, phone)."""
    query = request.GET.get("q", "").strip()
    accounts, contacts = [], []
    if query:
        accounts = list(
            accounts_visible_to(request.user)
            .filter(Q(name__icontains=query) | Q(domain__icontains=query))
            .order_by("name", "id")[:SEARCH_SIZE]
        )
        contacts = list(
            contacts_visible_to(request.user)
            .filter(
                Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(email__icontains=query)
                | Q(phone__icontains=query)
            )
            .select_related("account")[:SEARCH_SIZE]
        )
    template = "accounts/_search_results.html" if request.htmx else "accounts/search.html"
    return render(request, template, {"query": query, "accounts": accounts, "contacts": contacts})


# --- one account -------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One row of an account's timeline: an interaction, a promise or a promise event."""

    at: datetime
    kind: str
    item: object


def account_timeline(
    user, account: Account, *, before: datetime | None = None
) -> tuple[list[TimelineEntry], datetime | None]:
    """The newest TIMELINE_SIZE entries before ``before``, and where the next page starts.

    A promise made in an interaction is shown inside it; promises made on their own and
    every later event of a promise (renegotiated, kept, broken, released) are rows of
    their own. Three queries (and two prefetches) whatever the history's length.
    """
    promises_made = Prefetch(
        "promises", queryset=Promise.objects.select_related("contact", "owner").order_by("id")
    )
    interactions = (
        interactions_visible_to(user)
        .filter(account=account)
        .select_related("logged_by")
        .prefetch_related("contacts", promises_made)
        .order_by("-occurred_at", "-id")
    )
    standalone = (
        promises_visible_to(user)
        .filter(account=account, interaction__isnull=True)
        .select_related("contact", "owner")
        .order_by("-created_at", "-id")
    )
    events = (
        promise_events_visible_to(user)
        .filter(promise__account=account)
        .exclude(kind=PromiseEvent.Kind.CREATED)
        .select_related("promise", "by")
        .order_by("-at", "-id")
    )
    if before is not None:
        interactions = interactions.filter(occurred_at__lt=before)
        standalone = standalone.filter(created_at__lt=before)
        events = events.filter(at__lt=before)
    # One more than a page from each source tells whether anything older remains.
    size = TIMELINE_SIZE + 1
    entries = [
        *(TimelineEntry(i.occurred_at, "interaction", i) for i in interactions[:size]),
        *(TimelineEntry(p.created_at, "promise", p) for p in standalone[:size]),
        *(TimelineEntry(e.at, "event", e) for e in events[:size]),
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    more = len(entries) > TIMELINE_SIZE
    entries = entries[:TIMELINE_SIZE]
    return entries, (entries[-1].at if more else None)


def open_promises_of(user, account: Account) -> list[Promise]:
    """The account's open commitments, soonest due first (the page's "to do")."""
    return list(
        promises_visible_to(user)
        .filter(account=account, status=Promise.Status.OPEN)
        .order_by("due_at", "id")[:25]
    )


def visible_account(user, pk: int) -> Account:
    """The account if ``user`` may see it; a 404 otherwise (never a 403: nothing leaks)."""
    return get_object_or_404(accounts_visible_to(user).select_related("owner", "team"), pk=pk)


def _parse_moment(text: str) -> datetime | None:
    try:
        return parse_datetime(text)
    except ValueError:
        return None


@login_required
def account_detail(request, pk: int):
    account = visible_account(request.user, pk)
    before = _parse_moment(request.GET.get("before", ""))
    entries, older = account_timeline(request.user, account, before=before)
    context = {
        "account": account,
        "entries": entries,
        "older": older,
        "now": timezone.now(),
        "quick_dates": quick_due_dates(),
    }
    if request.htmx and before is not None:
        return render(request, "accounts/_timeline_entries.html", context)
    attach_trends(request.user, [account])
    context.update(
        snapshot=latest_snapshot(account.pk),
        contacts=list(contacts_visible_to(request.user).filter(account=account)),
        open_promises=open_promises_of(request.user, account),
    )
    return render(request, "accounts/account_detail.html", context)
