"""Forms of the web UI for commitments, their lifecycle actions and alert review."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone

from accounts.forms import ContactChoiceField

# A promise due "on Friday" is due by the end of Friday, in the user's time zone.
END_OF_DAY = time(23, 59)
MAX_COMMITMENTS = 20


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, END_OF_DAY))


def quick_due_dates(today: date | None = None) -> list[tuple[str, date]]:
    """The due dates a rep picks most, as (label, date): today, tomorrow, Friday, a week, two."""
    today = today or timezone.localdate()
    # The coming Friday; on a Friday or a weekend, next week's.
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    return [
        ("Today", today),
        ("Tomorrow", today + timedelta(days=1)),
        ("Friday", friday),
        ("In a week", today + timedelta(days=7)),
        ("In 2 weeks", today + timedelta(days=14)),
    ]


class DueDateInput(forms.DateInput):
    """A native date picker followed by the quick picks (filled in by app.js)."""

    input_type = "date"
    template_name = "promises/widgets/due_date.html"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["quick_dates"] = quick_due_dates()
        return context


class CommitmentForm(forms.Form):
    """One commitment made in the interaction being logged."""

    description = forms.CharField(
        label="We promised",
        max_length=1000,
        widget=forms.TextInput(
            attrs={"placeholder": "Send the revised quote", "autocomplete": "off"}
        ),
    )
    due_date = forms.DateField(label="Due by", widget=DueDateInput())
    contact = ContactChoiceField(label="To", required=False)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].set_contacts(contacts)

    def as_promise(self) -> dict:
        """The shape ``promises.services.log_interaction`` takes."""
        return {
            "description": self.cleaned_data["description"],
            "due_at": end_of_day(self.cleaned_data["due_date"]),
            "contact": self.cleaned_data.get("contact"),
        }


CommitmentFormSet = formset_factory(
    CommitmentForm, extra=1, max_num=MAX_COMMITMENTS, validate_max=True
)


class RenegotiateForm(forms.Form):
    due_date = forms.DateField(label="New due date", widget=DueDateInput())
    note = forms.CharField(
        label="What was agreed", required=False, max_length=2000, widget=forms.TextInput
    )

    def clean_due_date(self):
        day = self.cleaned_data["due_date"]
        if day < timezone.localdate():
            raise forms.ValidationError("The new due date must be today or later.")
        return day

    @property
    def due_at(self) -> datetime:
        return end_of_day(self.cleaned_data["due_date"])


class NoteForm(forms.Form):
    """The note of a release (optional)."""

    note = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.TextInput)


class RequiredNoteForm(forms.Form):
    """A break or a resolution says what happened."""

    note = forms.CharField(label="Note", max_length=2000, widget=forms.TextInput)


class AlertFilterForm(forms.Form):
    """The alert inbox's filters; anything unexpected falls back to the defaults."""

    STATUS_CHOICES = [
        ("unresolved", "Unresolved"),
        ("open", "Open"),
        ("acknowledged", "Acknowledged"),
        ("resolved", "Resolved"),
        ("all", "All"),
    ]
    KIND_CHOICES = [
        ("", "All kinds"),
        ("promise_broken", "Promise broken"),
        ("health_drop", "Health dropped"),
    ]

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False)

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or "unresolved"
        lookups: dict[str, Any] = {}
        if status == "unresolved":
            lookups["status__in"] = ["open", "acknowledged"]
        elif status != "all":
            lookups["status"] = status
        if data.get("kind"):
            lookups["kind"] = data["kind"]
        return lookups
