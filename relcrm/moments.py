"""The one rule for a time relcrm is given: the API's fields and filters and the web UI use it.

A time names one instant: it says its offset from UTC, that offset lies within what
PostgreSQL stores (it refuses an offset of 16 hours or more, "time zone displacement out
of range"; every real time zone lies between -12:00 and +14:00), and its instant lies
within the years Python represents.
"""

from datetime import UTC, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

MAX_OFFSET = timedelta(hours=16)  # excluded

INVALID = "Enter a time in ISO 8601, such as 2030-01-01T10:00:00+02:00."
OFFSET_OUT_OF_RANGE = "The UTC offset must lie between -15:59 and +15:59."
OUT_OF_RANGE = "This time is out of range."
# Read in the server's zone, a time without an offset is seldom the caller's: a call
# logged at "09:30" from Berlin would land an hour off, a commitment on the wrong day.
NO_OFFSET = "Give the time with its offset from UTC, such as 2026-03-01T09:30:00+01:00."

# The same rule as a pattern of the text, for the API schema to document (JSON Schema's
# date-time alone allows offsets to +-23:59). The first and the last year are left out:
# an offset can carry an instant there past the years Python represents.
PATTERN = (
    r"^(?!0001|9999)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?"
    r"(Z|[+-](0\d|1[0-5]):[0-5]\d)$"
)


def check_moment(moment: datetime) -> datetime:
    """``moment`` as the same instant in UTC; a ValidationError if it is not one relcrm keeps.

    In UTC, so that the database is never handed an offset it would refuse (a
    fraction of a second, say) however the caller wrote it.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValidationError(NO_OFFSET, code="offset")
    if abs(offset) >= MAX_OFFSET:
        raise ValidationError(OFFSET_OUT_OF_RANGE, code="offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValidationError(OUT_OF_RANGE, code="overflow") from None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time (``check_moment``); a ValidationError saying what is wrong otherwise."""
    try:
        moment = parse_datetime(text.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError(INVALID, code="invalid")
    return check_moment(moment)


class MomentField(forms.DateTimeField):
    """A form's or a query's time, by ``check_moment``, in UTC.

    ``in_current_zone``: a time without an offset (what a datetime-local input
    posts) is taken in the current time zone, the one the form shows its times in.
    """

    def __init__(self, *, in_current_zone: bool = False, **kwargs):
        self.in_current_zone = in_current_zone
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.in_current_zone:
            moment = super().to_python(value)
            return None if moment is None else check_moment(moment)
        if isinstance(value, datetime):
            return check_moment(value)
        return parse_moment(str(value))
