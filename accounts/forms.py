"""Forms of the web UI for accounts and contacts, and the form fields other apps' forms share.

The forms validate and shape input; the writes go through ``accounts.services``, whose
own ValidationErrors the views show next to the fields they name (``add_service_errors``).
"""

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.db.models import QuerySet

from accounts.models import Account, ApiToken, Contact, User


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names (else above the form)."""
    errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for field, field_messages in errors.items():
        form.add_error(field if field in form.fields else None, field_messages)


def _model_field(model, name: str, **kwargs) -> forms.Field:
    """The form field the model's own field makes (its length, whether it may be blank)."""
    return model._meta.get_field(name).formfield(**kwargs)


# --- accounts ----------------------------------------------------------------------------


class OwnerChoiceField(forms.ModelChoiceField):
    """A member of a team, named as colleagues know them, with their team for an admin."""

    def __init__(self, queryset: QuerySet[User], *, with_team: bool, **kwargs):
        self.with_team = with_team
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, user: User) -> str:
        name = user.get_full_name() or user.username
        if self.with_team:
            return f"{name} · {user.team}"
        return f"{name} ({user.get_team_role_display().lower()})"


class AccountForm(forms.Form):
    """An account's name and domain, and its owner when the user may choose one.

    Without ``owners`` the form has no owner field: a rep's new account is theirs, and
    an account keeps its owner when a rep edits it. A lead picks among their team; an
    admin (who belongs to no team) must pick someone, whose team the account joins.
    """

    name = _model_field(Account, "name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    domain = _model_field(
        Account,
        "domain",
        help_text="The customer's web address, such as acme.com.",
        widget=forms.TextInput(attrs={"placeholder": "acme.com", "inputmode": "url"}),
    )

    def __init__(self, *args, owners: QuerySet[User] | None = None, admin=False, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["owner"] = OwnerChoiceField(
                owners,
                with_team=admin,
                required=admin,
                empty_label="Choose the owner" if admin else None,
                help_text="Who looks after this relationship.",
            )

    def clean_domain(self) -> str:
        """A bare domain: "https://www.Acme.com/about" is stored as "www.acme.com"."""
        text = self.cleaned_data["domain"].strip().lower()
        if not text:
            return ""
        try:
            host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
            DomainNameValidator()(host)
        except (ValueError, ValidationError):
            raise ValidationError("Enter a domain such as acme.com.") from None
        return host

    def account_fields(self) -> dict:
        """What ``accounts.services`` takes: name, domain, and the owner if one was chosen."""
        fields = {"name": self.cleaned_data["name"], "domain": self.cleaned_data["domain"]}
        if self.cleaned_data.get("owner") is not None:
            fields["owner"] = self.cleaned_data["owner"]
        return fields


class SearchForm(forms.Form):
    """The text of a search box. A form field refuses what no database text can hold (NUL)."""

    q = forms.CharField(required=False)


# --- contacts ----------------------------------------------------------------------------


class ContactForm(forms.Form):
    """A person at an account."""

    first_name = _model_field(Contact, "first_name")
    last_name = _model_field(Contact, "last_name")
    title = _model_field(Contact, "title", widget=forms.TextInput(attrs={"placeholder": "CTO"}))
    email = _model_field(Contact, "email", label="E-mail")
    phone = _model_field(Contact, "phone", widget=forms.TextInput(attrs={"type": "tel"}))


# --- fields other forms share ------------------------------------------------------------


class _ContactChoices:
    """Choices among contacts the view loaded once: a formset of many rows costs one query."""

    leading_choices: tuple = ()
    # Declared here for the mixin's own methods; the form field classes define them.
    choices: Any
    coerce: Any

    def set_contacts(self, contacts: Iterable[Contact]) -> None:
        by_id = {str(contact.pk): contact for contact in contacts}

        def coerce(value) -> Contact:
            try:
                return by_id[str(value)]
            except KeyError:
                raise ValueError(f"No contact {value!r} here") from None

        self.coerce = coerce
        self.choices = [*self.leading_choices, *((pk, str(c)) for pk, c in by_id.items())]

    @property
    def has_contacts(self) -> bool:
        return len(self.choices) > len(self.leading_choices)


class ContactChoiceField(_ContactChoices, forms.TypedChoiceField):
    """One of the account's contacts, or nobody in particular."""

    leading_choices = (("", "Anyone"),)

    def __init__(self, **kwargs):
        super().__init__(empty_value=None, **kwargs)


class ContactsChoiceField(_ContactChoices, forms.TypedMultipleChoiceField):
    """Any number of the account's contacts."""

    widget = forms.CheckboxSelectMultiple


# --- API tokens ----------------------------------------------------------------------------


class ApiTokenForm(forms.Form):
    """A new API token's options, as ``POST /auth/token/`` and ``createapitoken`` take them."""

    name = _model_field(ApiToken, "name", help_text="To recognise it by: “ERP sync”.")
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        max_value=ApiToken.MAX_DAYS,
        required=False,
        help_text="Empty: until you revoke it.",
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ_WRITE,
        widget=forms.RadioSelect,
    )
