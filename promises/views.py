"""Web pages for a rep's promises and acting on them, the lead's alert inbox and the
team's record.

Every change goes through ``promises.services``. With htmx a view answers with the
fragment it changed (409 when the status no longer allows the change, 422 when the
input is invalid); without it, it redirects back with a message.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import add_service_errors
from accounts.models import Account
from accounts.selectors import accounts_visible_to, teams_visible_to, users_visible_to
from accounts.views import PAGE_SIZE, relationship_page
from promises import services
from promises.forms import (
    AlertFilterForm,
    NoteForm,
    RenegotiateForm,
    RequiredNoteForm,
    quick_due_dates,
)
from promises.models import Alert
from promises.selectors import (
    PROMISE_LISTS,
    RECORD_WINDOWS,
    alerts_visible_to,
    keeping_record,
    latest_event_of,
    my_promise_counts,
    my_promises,
    open_promises_of,
    promises_visible_to,
)
from relcrm.errors import TransitionNotAllowed
from relcrm.ids import parse_id

# --- my promises -------------------------------------------------------------------------


@login_required
def my_promises_page(request):
    """The promises the user made: open, overdue, due this week, kept or broken."""
    user, now = request.user, timezone.now()
    show = request.GET.get("show", "")
    if show not in PROMISE_LISTS:
        show = "open"
    counts = my_promise_counts(user, now=now)
    page = Paginator(my_promises(user, show, now=now), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "show": show,
        "lists": [(name, title, counts[name]) for name, title in PROMISE_LISTS.items()],
        "page": page,
        "now": now,
        "quick_dates": quick_due_dates(),
    }
    return render(request, "promises/my_promises.html", context)


# --- promise actions ---------------------------------------------------------------------


def _keep(promise, user, form):
    return services.keep_promise(promise, by=user)


def _renegotiate(promise, user, form):
    return services.renegotiate_promise(
        promise, by=user, due_at=form.due_at, note=form.cleaned_data["note"]
    )


def _break(promise, user, form):
    return services.break_promise(promise, by=user, note=form.cleaned_data["note"])


def _release(promise, user, form):
    return services.release_promise(promise, by=user, note=form.cleaned_data["note"])


# action -> (its form, the service call, what the message says after it)
PROMISE_ACTIONS: dict[str, tuple[type[forms.Form], Callable, str]] = {
    "keep": (forms.Form, _keep, "Marked as kept"),
    "renegotiate": (RenegotiateForm, _renegotiate, "New due date agreed"),
    "break": (RequiredNoteForm, _break, "Marked as broken"),
    "release": (NoteForm, _release, "Released"),
}
# A service's field name -> the form's.
FORM_FIELDS = {"due_at": "due_date"}


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        error = ValidationError(
            {FORM_FIELDS.get(name, name): errors for name, errors in error.message_dict.items()}
        )
    add_service_errors(form, error)


def _from_account_page(request, promise) -> bool:
    """Whether htmx sent the action from the promise's account page (htmx names the page).

    Only that page has a timeline and an open list to update along with the card.
    """
    page = urlsplit(request.htmx.current_url_abs_path or "").path
    return page == reverse("account-detail", args=[promise.account_id])


def _back(request, default: str):
    """Redirect to the page the form came from (its ``next``, if on this site), else ``default``."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


def _first_error(form) -> str:
    return next(iter(form.errors.values()))[0] if form.errors else ""


@login_required
@require_POST
def promise_action(request, pk: int, action: str):
    """Keep, renegotiate, break or release a promise the user may see."""
    promise = get_object_or_404(
        promises_visible_to(request.user).select_related("account", "contact", "owner"), pk=pk
    )
    form_class, perform, done = PROMISE_ACTIONS[action]
    form = form_class(request.POST)
    status, problem = 200, ""
    if not form.is_valid():
        status = 422
    else:
        try:
            perform(promise, request.user, form)
        except ValidationError as error:
            _add_errors(form, error)
            status = 422
        except TransitionNotAllowed as error:
            problem, status = error.detail, 409
            promise.refresh_from_db()
    if not request.htmx:
        if status == 200:
            messages.success(request, f"{done}: {promise.description}")
        else:
            messages.error(request, problem or _first_error(form))
        url = reverse("account-detail", args=[promise.account_id])
        return _back(request, f"{url}#promise-{promise.pk}")
    context = {
        "promise": promise,
        "now": timezone.now(),
        "quick_dates": quick_due_dates(),
        "problem": problem,
        "action_form": form if status == 422 else None,
        "open_action": action if status == 422 else "",
    }
    if status == 200 and _from_account_page(request, promise):
        context["event"] = latest_event_of(request.user, promise)
        context["account"] = promise.account
        context["open_promises"] = open_promises_of(request.user, promise.account)
    return render(request, "promises/promise_changed.html", context, status=status)


# --- alerts ------------------------------------------------------------------------------


def require_reviewer(user) -> None:
    """Lead pages are for leads and admins; a rep gets a 403."""
    if not user.is_reviewer:
        raise PermissionDenied("This page is for team leads and admins.")


def _alerts(user):
    return alerts_visible_to(user).select_related(
        "account", "promise", "promise__owner", "acknowledged_by", "resolved_by"
    )


def _back_to_inbox(request):
    return _back(request, reverse("alert-inbox"))


@login_required
def alert_inbox(request):
    """The lead's alerts, newest first, filtered by kind and status (unresolved by default)."""
    require_reviewer(request.user)
    filters = AlertFilterForm(request.GET)
    alerts = _alerts(request.user).filter(**filters.filters())
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "promises/alert_inbox.html", {"filters": filters, "page": page})


@login_required
@require_POST
def alert_action(request, pk: int, action: str):
    """Acknowledge an alert, or resolve it with a note; leads of its team and admins only."""
    require_reviewer(request.user)
    alert = get_object_or_404(_alerts(request.user), pk=pk)
    form = RequiredNoteForm(request.POST) if action == "resolve" else NoteForm(request.POST)
    status, problem = 200, ""
    if not form.is_valid():
        status = 422
    else:
        service = services.resolve_alert if action == "resolve" else services.acknowledge_alert
        try:
            service(alert, by=request.user, note=form.cleaned_data["note"])
        except TransitionNotAllowed as error:
            problem, status = error.detail, 409
            alert.refresh_from_db()
    if not request.htmx:
        if status == 200:
            verb = "resolved" if action == "resolve" else "acknowledged"
            messages.success(request, f"Alert {verb}: {alert.account}.")
        else:
            messages.error(request, problem or _first_error(form))
        return _back_to_inbox(request)
    context = {
        "alert": alert,
        "problem": problem,
        "resolve_form": form if status == 422 else None,
        "next_url": request.htmx.current_url_abs_path or reverse("alert-inbox"),
    }
    return render(request, "promises/_alert_row.html", context, status=status)


@login_required
@require_POST
def alert_bulk_acknowledge(request):
    """Acknowledge every checked open alert at once, all or none."""
    require_reviewer(request.user)
    ids = [pk for pk in map(parse_id, request.POST.getlist("alert")) if pk is not None]
    # An alert acknowledged or resolved since the page was drawn is left as it is.
    alerts = alerts_visible_to(request.user).filter(pk__in=ids, status=Alert.Status.OPEN)
    try:
        acknowledged = services.acknowledge_alerts(alerts, by=request.user)
    except TransitionNotAllowed as error:
        # Another lead changed one of them meanwhile.
        messages.error(request, f"{error.detail} Nothing was acknowledged; please try again.")
        return _back_to_inbox(request)
    if acknowledged:
        count = len(acknowledged)
        messages.success(request, f"{count} alert{'s' if count != 1 else ''} acknowledged.")
    else:
        messages.info(request, "Select the open alerts to acknowledge.")
    return _back_to_inbox(request)


# --- the team ----------------------------------------------------------------------------


def _window(record: dict, days: int) -> dict:
    on_time, late, broken = (record.get(f"{k}_{days}", 0) for k in ("on_time", "late", "broken"))
    resolved = on_time + late + broken
    return {
        "on_time": on_time,
        "late": late,
        "broken": broken,
        "rate": on_time / resolved if resolved else None,
    }


@login_required
def team_view(request):
    """Each member's promise-keeping record and the team's at-risk accounts."""
    require_reviewer(request.user)
    user, now = request.user, timezone.now()
    teams = teams_visible_to(user)
    team = None
    asked = parse_id(request.GET.get("team", ""))
    if user.is_superuser and asked is not None:
        team = teams.filter(pk=asked).first()
    team = team or (user.team if user.team_id else teams.first())
    context = {"team": team, "teams": teams if user.is_superuser else None}
    if team is not None:
        members = list(
            users_visible_to(user)
            .filter(team=team)
            .order_by("-team_role", "first_name", "username")
        )
        records = keeping_record(
            promises_visible_to(user).filter(owner__in=members, account__team=team), now=now
        )
        context["members"] = [
            {
                "user": member,
                "windows": [
                    (days, _window(records.get(member.pk, {}), days)) for days in RECORD_WINDOWS
                ],
                "open": records.get(member.pk, {}).get("open", 0),
                "overdue": records.get(member.pk, {}).get("overdue", 0),
            }
            for member in members
        ]
        at_risk = accounts_visible_to(user).filter(team=team).in_band(Account.Band.AT_RISK)
        context["page"] = relationship_page(request, at_risk)
    return render(request, "promises/team.html", context)
