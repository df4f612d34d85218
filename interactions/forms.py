"""The "log interaction" form: what happened, with whom, and how it went."""

from django import forms
from django.utils import timezone

from accounts.forms import ContactsChoiceField
from interactions import services as interaction_services
from interactions.models import Interaction
from relcrm.moments import MomentField

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def now_for_input():
    """The current minute in the user's time zone, as a datetime-local input shows it."""
    return timezone.localtime().replace(second=0, microsecond=0)


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Interaction.Kind.choices, initial=Interaction.Kind.CALL, widget=forms.RadioSelect
    )
    direction = forms.ChoiceField(
        choices=Interaction.Direction.choices,
        initial=Interaction.Direction.OUTBOUND,
        widget=forms.RadioSelect,
    )
    occurred_at = MomentField(
        in_current_zone=True,
        label="When",
        initial=now_for_input,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    contacts = ContactsChoiceField(label="Who was there", required=False)
    summary = forms.CharField(
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What was said, what comes next"}),
    )
    sentiment = forms.TypedChoiceField(
        label="How did it go?",
        choices=Interaction.Sentiment.choices,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].set_contacts(contacts)

    def clean_occurred_at(self):
        occurred_at = self.cleaned_data["occurred_at"]
        if interaction_services.is_in_future(occurred_at):
            raise forms.ValidationError(interaction_services.FUTURE_MESSAGE)
        return occurred_at
