"""The "log interaction" page: one form for the touch-point and the commitments made in it."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.forms import add_service_errors
from accounts.selectors import contacts_of
from accounts.views import visible_account
from interactions.forms import InteractionForm
from promises import services
from promises.forms import CommitmentFormSet
from promises.selectors import open_promises_of


def _with_one_more_commitment(data):
    """The posted data with one more (empty) commitment row: "add" without JavaScript.

    A count that is not one is left as posted: the formset then says it was tampered with.
    """
    data = data.copy()
    key = "commitments-TOTAL_FORMS"
    try:
        count = forms.IntegerField(min_value=0).clean(data.get(key) or 0)
    except ValidationError:
        return data
    data[key] = str(count + 1)
    return data


@login_required
def log_interaction(request, pk: int):
    """Log a call, e-mail, meeting... and its commitments, all or nothing."""
    account = visible_account(request.user, pk)
    contacts = list(contacts_of(request.user, account))
    data = request.POST if request.method == "POST" else None
    adding = data is not None and "add_commitment" in data
    if adding:
        data = _with_one_more_commitment(data)
    form = InteractionForm(data, contacts=contacts)
    commitments = CommitmentFormSet(data, prefix="commitments", form_kwargs={"contacts": contacts})
    status = 200
    if data is not None and not adding:
        if form.is_valid() and commitments.is_valid():
            try:
                interaction, _ = services.log_interaction(
                    account=account,
                    logged_by=request.user,
                    promises=[item.as_promise() for item in commitments if item.cleaned_data],
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                made = interaction.promises.count()
                messages.success(
                    request,
                    f"{interaction.get_kind_display()} logged"
                    + (f" with {made} commitment{'s' if made != 1 else ''}." if made else "."),
                )
                url = reverse("account-detail", args=[account.pk])
                return redirect(f"{url}#interaction-{interaction.pk}")
        status = 422
    return render(
        request,
        "interactions/log_form.html",
        {
            "account": account,
            "form": form,
            "commitments": commitments,
            "open_promises": open_promises_of(request.user, account),
            "now": timezone.now(),
        },
        status=status,
    )
