"""Ids as a request names them: the API's fields and filters and the web UI read them here."""

from django import forms
from django.core.exceptions import ValidationError

# Ids are BigAutoFields: a larger number cannot be one, and the database would
# refuse to compare it (a 500 for the caller).
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """An integer in the range of ids: the database is never asked a number it cannot hold.

    An integer as ``int()`` reads one, so "²" (a digit to ``str.isdigit()``) is none.
    """

    def __init__(self, **kwargs):
        super().__init__(min_value=kwargs.pop("min_value", 1), max_value=MAX_ID, **kwargs)


def parse_id(text: str) -> int | None:
    """The id ``text`` names (a query's or a form's value), or None if it names none."""
    try:
        return IdField().clean(text)
    except ValidationError:
        return None
