"""Form fields shared by the web UI's forms."""

from collections.abc import Iterable

from django import forms

from accounts.models import Contact


class _ContactChoices:
    """Choices among contacts the view loaded once: a formset of many rows costs one query."""

    leading_choices: tuple = ()

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
