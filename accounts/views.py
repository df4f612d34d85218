"""Web pages for signing in, finding accounts, an account's page with its timeline, and
the forms that create, edit and archive accounts and their contacts.

Every page starts from the selectors' team scope, so another team's account is a 404
here exactly as in the API; every change goes through ``accounts.services``.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.forms import (
    AccountForm,
    ApiTokenForm,
    ContactForm,
    SearchForm,
    add_service_errors,
)
from accounts.models import Account, Contact
from accounts.selectors import (
    account_owner_choices,
    accounts_in_band,
    accounts_matching,
    accounts_visible_to,
    contacts_matching,
    contacts_of,
    contacts_visible_to,
    tokens_of,
)
from accounts.throttles import sign_in_wait
from promises.forms import quick_due_dates
from promises.selectors import account_timeline, open_promises_of
from relcrm.api.throttling import client_address
from relcrm.moments import parse_moment
from trust.selectors import attach_trends, latest_snapshot, relationship_rows

PAGE_SIZE = 50
SEARCH_SIZE = 8


# --- signing in --------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's sign-in, refused with 429 past the sign-in throttles (``accounts.throttles``).

    The one sign-in page of the web UI and the admin; the audit log records each attempt
    (``accounts.signals``).
    """

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = sign_in_wait(request, self)
        if wait is None:
            return super().post(request, *args, **kwargs)
        # An unbound form: a bound one would check the password while rendering its errors.
        form = self.form_class(request, initial={"username": request.POST.get("username", "")})
        response = self.render_to_response(
            self.get_context_data(form=form, throttled_for=wait), status=429
        )
        response["Retry-After"] = str(wait)
        return response


def bad_request(request, message: str) -> HttpResponse:
    """A 400 page saying what is wrong with the request's parameters."""
    return render(request, "400.html", {"message": message}, status=400)


# --- account lists -----------------------------------------------------------------------


def relationship_page(request, accounts: QuerySet[Account]) -> Page:
    """One page of ``accounts`` as relationship rows with their trends."""
    page = Paginator(relationship_rows(accounts, now=timezone.now()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    attach_trends(request.user, list(page.object_list))
    return page


BAND_FILTERS = {**dict(Account.Band.choices), "none": "Not computed"}


def search_text(request) -> str:
    """The search box's text (``?q=``), trimmed; a ValidationError for text that cannot be one."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        raise ValidationError(list(form.errors["q"]))
    return form.cleaned_data["q"]


def listed_accounts(request) -> tuple[QuerySet[Account], str, str]:
    """The accounts the account list shows for the request's filters, and those filters.

    ``q``: a name or domain; ``band``: one of ``BAND_FILTERS``. The list and its CSV
    export both start here, so the file holds what the page shows. A ValidationError
    for a search text that cannot be one.
    """
    accounts = accounts_visible_to(request.user)
    query = search_text(request)
    band = request.GET.get("band", "")
    if query:
        accounts = accounts_matching(accounts, query)
    if band in BAND_FILTERS:
        accounts = accounts_in_band(accounts, band)
    return accounts, query, band


@login_required
def account_list(request):
    """Every account the user may see, filtered by band and a name or domain."""
    try:
        accounts, query, band = listed_accounts(request)
    except ValidationError as error:
        return bad_request(request, error.messages[0])
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
    try:
        query = search_text(request)
    except ValidationError as error:
        return bad_request(request, error.messages[0])
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


@login_required
def account_detail(request, pk: int):
    account = visible_account(request.user, pk)
    before = None
    if request.GET.get("before"):  # where the "Show older" link starts the next page
        try:
            before = parse_moment(request.GET["before"])
        except ValidationError as error:
            return bad_request(request, error.messages[0])
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
        contact_form=ContactForm(auto_id="new-contact-%s"),
    )
    return render(request, "accounts/account_detail.html", context)


# --- changing accounts and contacts ------------------------------------------------------


def form_page(
    request, form, save: Callable[[], tuple[str, str]], *, template: str, context: dict
) -> HttpResponse:
    """A form's page: a valid POST saves and redirects, anything else shows the form.

    ``save`` makes the change through a service and returns where to go next and what
    to say. Invalid input, or a ValidationError from the service, shows the form again
    with each error next to its field (422): nothing is saved.
    """
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                next_url, done = save()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(next_url)
        status = 422
    return render(request, template, {"form": form, **context}, status=status)


def confirm_page(
    request, perform: Callable[[], tuple[str, str]], *, template: str, context: dict
) -> HttpResponse:
    """A GET asks for confirmation; the POST of its button performs and redirects."""
    if request.method == "POST":
        next_url, done = perform()
        messages.success(request, done)
        return redirect(next_url)
    return render(request, template, context)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _account_form(request, *, account: Account | None = None) -> AccountForm:
    """The account form; leads and admins also choose the owner, among the account's team."""
    user = request.user
    owners = None
    if user.is_reviewer:
        owners = account_owner_choices(user, team_id=account.team_id if account else None)
    if account is None:
        initial = {"owner": user.pk}
    else:
        initial = {"name": account.name, "domain": account.domain, "owner": account.owner_id}
    return AccountForm(_posted(request), owners=owners, admin=user.is_superuser, initial=initial)


def account_url(account: Account) -> str:
    return reverse("account-detail", args=[account.pk])


@login_required
def account_create(request):
    """A new account, owned by the user unless a lead or an admin picks its owner."""
    form = _account_form(request)

    def save():
        account = services.create_account(**{"owner": request.user, **form.account_fields()})
        return account_url(account), f"{account.name} created."

    return form_page(
        request, form, save, template="accounts/account_form.html", context={"account": None}
    )


@login_required
def account_edit(request, pk: int):
    """Rename an account, correct its domain or (leads and admins) hand it to a colleague."""
    account = visible_account(request.user, pk)
    form = _account_form(request, account=account)

    def save():
        try:
            services.update_account(account, **form.account_fields())
        except ValidationError:
            account.refresh_from_db()  # the service set the refused values on it
            raise
        return account_url(account), "Account saved."

    return form_page(
        request, form, save, template="accounts/account_form.html", context={"account": account}
    )


@login_required
def account_archive(request, pk: int):
    """Archive an account once confirmed: hidden from everyone, its history kept."""
    account = visible_account(request.user, pk)

    def archive():
        services.archive_account(account)
        return reverse("account-list"), f"{account.name} archived."

    context = {
        "account": account,
        "open_promises": open_promises_of(request.user, account),
        "now": timezone.now(),
    }
    return confirm_page(request, archive, template="accounts/account_archive.html", context=context)


def visible_contact(user, pk: int) -> Contact:
    """The contact if ``user`` may see its account; a 404 otherwise."""
    return get_object_or_404(contacts_visible_to(user).select_related("account"), pk=pk)


def contact_url(contact: Contact) -> str:
    return f"{reverse('account-detail', args=[contact.account_id])}#contact-{contact.pk}"


@login_required
def contact_create(request, pk: int):
    account = visible_account(request.user, pk)
    form = ContactForm(_posted(request))

    def save():
        contact = services.create_contact(account=account, **form.cleaned_data)
        return contact_url(contact), f"{contact} added."

    context = {"account": account, "contact": None}
    return form_page(request, form, save, template="accounts/contact_form.html", context=context)


@login_required
def contact_edit(request, pk: int):
    contact = visible_contact(request.user, pk)
    form = ContactForm(_posted(request), initial=model_to_dict(contact))

    def save():
        services.update_contact(contact, **form.cleaned_data)
        return contact_url(contact), f"{contact} saved."

    context = {"account": contact.account, "contact": contact}
    return form_page(request, form, save, template="accounts/contact_form.html", context=context)


@login_required
def contact_delete(request, pk: int):
    contact = visible_contact(request.user, pk)

    def delete():
        services.delete_contact(contact)
        return account_url(contact.account), f"{contact} deleted."

    context = {"account": contact.account, "contact": contact}
    return confirm_page(request, delete, template="accounts/contact_delete.html", context=context)


# --- API tokens ----------------------------------------------------------------------------


@login_required
def api_tokens(request):
    """Your API tokens: the list, and a form for a new one whose secret is shown this once."""
    form = ApiTokenForm(request.POST or None)
    clear = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, clear = services.issue_token(
                    request.user,
                    **form.cleaned_data,
                    by=request.user,
                    address=client_address(request),
                    via="the token page",
                )
            except ValidationError as error:
                add_service_errors(form, error)
        if clear is None:
            status = 400
        else:
            form = ApiTokenForm()
    context = {"form": form, "tokens": tokens_of(request.user), "clear": clear}
    return render(request, "accounts/api_tokens.html", context, status=status)


@login_required
def api_token_revoke(request, pk: int):
    """Revoke one of your tokens (POST); another user's is a 404."""
    token = get_object_or_404(tokens_of(request.user), pk=pk)
    if request.method == "POST":
        services.revoke_token(token, by=request.user, address=client_address(request))
        messages.success(request, f"Revoked the token {token.prefix}….")
        return redirect("api-tokens")
    return render(request, "accounts/api_token_revoke.html", {"token": token})
