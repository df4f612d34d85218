"""Web pages for CSV: each list page's "Export CSV", for exactly what the page shows.

Each export starts from the same query as its page (the account list's filters, one
of "my promises" lists, the alert inbox's filters) and writes it through the API's
JSON function for the resource, so the file has the API's columns and values.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.api import AccountSerializer
from accounts.views import bad_request, listed_accounts
from imports.export import csv_response
from promises.api import AlertSerializer, PromiseSerializer
from promises.forms import AlertFilterForm
from promises.selectors import PROMISE_LISTS, alerts_visible_to, my_promises
from promises.views import require_reviewer


@login_required
def export_accounts(request):
    """The account list as CSV, with the list's name-or-domain and band filters."""
    try:
        accounts, _, _ = listed_accounts(request)
    except ValidationError as error:
        return bad_request(request, error.messages[0])
    return csv_response(AccountSerializer, accounts, name="accounts")


@login_required
def export_my_promises(request):
    """One of "my promises" lists (``show``) as CSV, in the list's order."""
    show = request.GET.get("show", "")
    if show not in PROMISE_LISTS:
        show = "open"
    promises = my_promises(request.user, show, now=timezone.now())
    return csv_response(PromiseSerializer, promises, name=f"promises-{show}")


@login_required
def export_alerts(request):
    """The alert inbox as CSV, with its kind and status filters (leads and admins)."""
    require_reviewer(request.user)
    alerts = alerts_visible_to(request.user).filter(**AlertFilterForm(request.GET).filters())
    return csv_response(AlertSerializer, alerts, name="alerts")
