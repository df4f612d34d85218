"""Web pages for signing in, finding accounts, and an account's page with its timeline.

Every page starts from the selectors' team scope, so another team's account is a 404
here exactly as in the API.
"""

from datetime import datetime
from math import ceil
from types import SimpleNamespace

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.api import LoginRateThrottle
from accounts.models import Account
from accounts.selectors import (
    accounts_in_band,
    accounts_matching,
    accounts_visible_to,
    contacts_matching,
    contacts_of,
    contacts_visible_to,
)
from promises.forms import quick_due_dates
from promises.selectors import account_timeline, open_promises_of
from trust.selectors import attach_trends, latest_snapshot, relationship_rows

PAGE_SIZE = 50
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
        accounts = accounts_matching(accounts, query)
    if band in BAND_FILTERS:
        accounts = accounts_in_band(accounts, band)
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
            accounts_matching(accounts_visible_to(request.user), query).order_by("name", "id")[
                :SEARCH_SIZE
            ]
        )
        contacts = list(
            contacts_matching(contacts_visible_to(request.user), query).select_related("account")[
                :SEARCH_SIZE
            ]
        )
    template = "accounts/_search_results.html" if request.htmx else "accounts/search.html"
    return render(request, template, {"query": query, "accounts": accounts, "contacts": contacts})


# --- one account -------------------------------------------------------------------------


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
        contacts=list(contacts_of(request.user, account)),
        open_promises=open_promises_of(request.user, account),
    )
    return render(request, "accounts/account_detail.html", context)
