"""Checking a file's cells with the API's own rules, and finding the rows they name.

A cell is checked by the field the resource's serializer declares for it (its
type, length, choices, range, and the serializer's ``validate_<field>``), so an
import refuses exactly what a POST refuses, with the same message. What a field
would look up one row at a time (an account by id, the contacts present) is
found here for a batch of rows at once, among the rows the importer may see:
a row of another team reads exactly like one that does not exist, with the
message of the serializer's field.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import QuerySet
from django.db.models.functions import Lower
from rest_framework import serializers
from rest_framework.fields import empty

LIST_SEPARATOR = ";"


@dataclass
class RowError:
    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class Invalid(Exception):
    """A cell (or a row) breaks a rule; ``column`` is the field it is reported on."""

    def __init__(self, column: str | None, messages: Iterable[str]) -> None:
        super().__init__(column)
        self.column = column
        self.messages = list(messages)


def messages_of(detail) -> list[str]:
    """The flat messages of a DRF or Django validation error's detail."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in messages_of(value)]
    if isinstance(detail, list | tuple):
        return [message for value in detail for message in messages_of(value)]
    return [str(detail)]


def field_errors(error) -> dict[str | None, list[str]]:
    """A Django ``ValidationError`` (raised by a service) as messages by field."""
    if hasattr(error, "message_dict"):
        return {name: list(messages) for name, messages in error.message_dict.items()}
    return {None: list(error.messages)}


@dataclass
class Cells:
    """One data row: its number, and its cells by the field their column gives."""

    number: int
    values: dict[str, str]
    # (field, message) for each rule the row breaks.
    errors: list[tuple[str | None, str]] = field(default_factory=list)

    def given(self, name: str) -> bool:
        return bool(self.values.get(name, "").strip())


class SerializerFields:
    """A resource's serializer, bound once for an importer, checking one cell at a time.

    The serializer is built with the importer as its request's user, so that
    fields and ``validate_<field>`` methods that read the request see who imports.
    """

    # Fields whose few values are worth remembering: a field's own check is a pure
    # function of the cell (a serializer's ``validate_<field>`` still runs every time).
    # A million interactions: the kind, direction and sentiment of each checked once
    # per distinct value instead of once per row.
    REMEMBERED = (serializers.ChoiceField, serializers.IntegerField, serializers.BooleanField)
    REMEMBER_AT_MOST = 1000

    def __init__(self, serializer_class: type[serializers.Serializer], user) -> None:
        self.serializer = serializer_class(context={"request": SimpleNamespace(user=user)})
        self.fields = self.serializer.fields
        self.remembered: dict[tuple[int, object], object] = {}

    def check(self, name: str, raw: str | None, *, field=None):
        """The internal value of ``raw`` for field ``name``; raises ``SkipField`` if not given.

        An empty cell is no value (the field's default applies, or it is
        required), except for text, where it is the empty text (blank, or "may not
        be blank", as the field says).
        """
        field = field or self.fields[name]
        data: object = raw
        if raw is None or (not raw.strip() and not isinstance(field, serializers.CharField)):
            data = empty
        try:
            value = self._run(field, data)
            method = getattr(self.serializer, f"validate_{name}", None)
            if method is not None:
                value = method(value)
        except serializers.ValidationError as error:
            raise Invalid(name, messages_of(error.detail)) from error
        return value

    def _run(self, field, data):
        """``field.run_validation(data)``, remembered for the fields of few values."""
        if not isinstance(field, self.REMEMBERED) or data is empty:
            return field.run_validation(data)
        key = (id(field), data)
        try:
            outcome = self.remembered[key]
        except KeyError:
            try:
                outcome = field.run_validation(data)
            except serializers.ValidationError as error:
                outcome = error
            if len(self.remembered) < self.REMEMBER_AT_MOST:
                self.remembered[key] = outcome
        if isinstance(outcome, serializers.ValidationError):
            raise outcome
        return outcome

    def does_not_exist(self, name: str, raw: str) -> Invalid:
        """The serializer's own words for an id that is not among what the importer may see."""
        relation = self.fields[name]
        relation = getattr(relation, "child_relation", relation)
        return Invalid(name, [relation.error_messages["does_not_exist"].format(pk_value=raw)])

    def incorrect_type(self, name: str, raw: str) -> Invalid:
        relation = self.fields[name]
        relation = getattr(relation, "child_relation", relation)
        message = relation.error_messages["incorrect_type"]
        return Invalid(name, [message.format(data_type=type(raw).__name__)])


def as_id(raw: str) -> int | None:
    """A cell naming a row by its id, or None if it is not a number."""
    raw = raw.strip()
    return int(raw) if raw.isdigit() else None


def split_list(raw: str) -> list[str]:
    """A list cell's items: ids or e-mails joined by ';' (as the export writes them)."""
    return [item.strip() for item in raw.split(LIST_SEPARATOR) if item.strip()]


class Lookup:
    """Rows of a scope found by one key, a batch of keys at a time, remembered for the import.

    ``values`` are the columns kept per row; a key may find several rows (a
    domain shared by two accounts), kept as a list. A key that finds nothing is
    remembered too, so it is asked once.
    """

    def __init__(
        self,
        scope: QuerySet,
        key: str,
        values: tuple[str, ...],
        *,
        lower: bool = False,
        normalise: Callable[[str], object] = str,
    ) -> None:
        self.scope = scope
        self.key = key
        self.values = values
        self.lower = lower
        self.normalise = normalise
        self.found: dict[object, list[tuple]] = {}

    def _key(self, raw) -> object:
        key = self.normalise(raw)
        return key.lower() if self.lower and isinstance(key, str) else key

    def prefetch(self, raws: Iterable) -> None:
        wanted = {self._key(raw) for raw in raws} - self.found.keys()
        wanted.discard(None)
        if not wanted:
            return
        rows = self.scope
        column = self.key
        if self.lower:
            rows = rows.annotate(lookup_key=Lower(self.key))
            column = "lookup_key"
        for key in wanted:
            self.found[key] = []
        for row in rows.filter(**{f"{column}__in": wanted}).values_list(column, *self.values):
            self.found[row[0]].append(row[1:])

    def get(self, raw) -> list[tuple]:
        """The rows ``raw`` finds (after ``prefetch``)."""
        key = self._key(raw)
        if key not in self.found:
            self.prefetch([raw])
        return self.found[key]
