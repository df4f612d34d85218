"""One importer per resource: how its rows are checked and written.

Each importer checks a batch of rows with the resource's serializer fields
(``imports.checks``) and the services' rules, then writes the rows that are new
or changed. Accounts and contacts, which a team has thousands of, are written
through their services one row at a time (``create_account``,
``update_contact``, ...), so every rule of theirs applies as it does to a POST.
Interactions and promises, which it may have millions of, are written a batch
at a time by COPY, their rows built from the same rules and builders as one
logged through the API; what one logged interaction or kept promise changes
elsewhere (answer times, repairs) is brought up to date once per account at
the end. Every importer runs inside the import's one transaction.
"""

import abc
import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import SkipField

from accounts import services as account_services
from accounts.api import AccountSerializer, ContactSerializer
from accounts.models import Account, Contact
from accounts.selectors import (
    accounts_visible_to,
    contacts_visible_to,
    teams_visible_to,
    users_visible_to,
)
from imports.checks import (
    Cells,
    Invalid,
    Lookup,
    SerializerFields,
    as_id,
    field_errors,
    split_list,
)
from imports.writing import copy_instances, copy_rows, model_defaults, next_ids
from interactions import services as interaction_services
from interactions.api import InteractionSerializer
from interactions.models import Interaction
from interactions.selectors import interactions_visible_to
from promises import services as promise_services
from promises.api import PromiseSerializer
from promises.models import Promise, PromiseEvent
from relcrm.api.fields import MomentField
from relcrm.ids import MAX_ID

Status = Promise.Status


class Importer(abc.ABC):
    """What every importer shares: the serializer's fields, the columns, the counts.

    ``check(batch)`` returns, for each row, what to write (or None when the row
    is invalid: its errors are on its ``Cells``); ``write(rows)`` writes them and
    may still find a row invalid (a service's rule), reported the same way;
    ``finish()`` runs once after the last batch.
    """

    serializer_class: type[serializers.Serializer]

    def __init__(self, user) -> None:
        self.user = user
        self.fields = SerializerFields(self.serializer_class, user)
        self.created = 0
        self.updated = 0
        # Accounts whose trust health the import changes.
        self.touched: set[int] = set()

    @abc.abstractmethod
    def check(self, batch: list[Cells]) -> list:
        """The batch's rows as the resource's writes need them; errors recorded for bad ones."""

    @abc.abstractmethod
    def write(self, rows: list) -> None:
        """Write rows that ``check`` accepted."""

    def finish(self) -> None:  # noqa: B027 (an optional hook, empty by default)
        """After the last batch is written: what depends on all of them."""

    def value(self, cells: Cells, name: str, default=None, *, field=None):
        """The checked value of the cell for field ``name``; ``default`` when not given."""
        try:
            return self.fields.check(name, cells.values.get(name), field=field)
        except SkipField:
            return default


def _checked(cells: Cells, check) -> object | None:
    """``check()``'s result, or None with its errors recorded on the row."""
    try:
        return check()
    except Invalid as error:
        cells.errors += [(error.column, message) for message in error.messages]
    except ValidationError as error:  # a service's rule, by field
        for column, messages in field_errors(error).items():
            cells.errors += [(column, message) for message in messages]
    return None


def check_rows(batch: list[Cells], check_one) -> list:
    """``check_one(cells)`` for each row, collecting every error of every cell.

    ``check_one`` reports each invalid cell with ``Invalid``; the errors of a
    row's other cells are found too, by checking them all before raising.
    """
    return [_checked(cells, lambda cells=cells: check_one(cells)) for cells in batch]


class Cellwise:
    """Checks several cells of one row, then raises every error at once."""

    def __init__(self, cells: Cells) -> None:
        self.cells = cells
        self.errors: list[tuple[str | None, str]] = []

    def __call__(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except Invalid as error:
            self.errors += [(error.column, message) for message in error.messages]
        except ValidationError as error:
            for column, messages in field_errors(error).items():
                self.errors += [(column, message) for message in messages]
        return None

    def done(self) -> None:
        if self.errors:
            self.cells.errors += self.errors
            raise Invalid(None, [])


# --- references ----------------------------------------------------------------------------


def _id_or_none(raw: str) -> int | None:
    number = as_id(raw)
    return number if number is not None and 0 < number <= MAX_ID else None


class Related:
    """Rows a column names by id, among those the importer may see, with the field's words."""

    def __init__(self, fields: SerializerFields, name: str, scope, values: tuple[str, ...]):
        self.fields = fields
        self.name = name
        self.lookup = Lookup(scope, "pk", values, normalise=_id_or_none)

    def prefetch(self, raws: Iterable[str]) -> None:
        self.lookup.prefetch(raws)

    def get(self, raw: str) -> tuple:
        if as_id(raw) is None:
            raise self.fields.incorrect_type(self.name, raw)
        found = self.lookup.get(raw) if _id_or_none(raw) is not None else []
        if not found:
            raise self.fields.does_not_exist(self.name, raw)
        return found[0]


@dataclass(frozen=True)
class AccountRef:
    pk: int
    team_id: int


class AccountReference:
    """A row's account: by ``account`` (id), ``account_external_id`` or ``account_domain``."""

    NAMES = ("account", "account_external_id", "account_domain")

    def __init__(self, fields: SerializerFields, user) -> None:
        scope = accounts_visible_to(user)
        self.by_id = Related(fields, "account", scope, ("pk", "team_id"))
        self.by_external_id = Lookup(scope, "external_id", ("pk", "team_id"))
        self.by_domain = Lookup(scope, "domain", ("pk", "team_id"), lower=True)

    def prefetch(self, batch: list[Cells]) -> None:
        self.by_id.prefetch(cells.values["account"] for cells in batch if cells.given("account"))
        self.by_external_id.prefetch(
            cells.values["account_external_id"].strip()
            for cells in batch
            if cells.given("account_external_id")
        )
        self.by_domain.prefetch(
            cells.values["account_domain"].strip()
            for cells in batch
            if cells.given("account_domain")
        )

    def of(self, cells: Cells) -> AccountRef:
        if cells.given("account"):
            return AccountRef(*self.by_id.get(cells.values["account"].strip()))
        for name, lookup, what in (
            ("account_external_id", self.by_external_id, "external id"),
            ("account_domain", self.by_domain, "domain"),
        ):
            if cells.given(name):
                raw = cells.values[name].strip()
                found = lookup.get(raw)
                if not found:
                    raise Invalid(name, [f'No account has the {what} "{raw}".'])
                if len(found) > 1:
                    raise Invalid(
                        name, [f'More than one account has the {what} "{raw}": name it by its id.']
                    )
                return AccountRef(*found[0])
        raise Invalid(
            "account", ["Name the account: give account, account_external_id or account_domain."]
        )


class ContactReference:
    """Contacts named by id or e-mail; each must be a person at the row's account."""

    def __init__(self, fields: SerializerFields, name: str, user) -> None:
        scope = contacts_visible_to(user)
        self.name = name
        self.by_id = Related(fields, name, scope, ("pk", "account_id"))
        self.by_email = Lookup(scope, "email", ("pk", "account_id"), lower=True)

    def prefetch(self, raws: Iterable[str]) -> None:
        items = [item for raw in raws for item in split_list(raw)]
        self.by_id.prefetch(item for item in items if as_id(item) is not None)
        self.by_email.prefetch(item for item in items if as_id(item) is None)

    def one(self, raw: str, account: AccountRef) -> int:
        """The contact ``raw`` names (an id or an e-mail) at ``account``."""
        if as_id(raw) is not None:
            pk, account_id = self.by_id.get(raw)
        else:
            at_account = [row for row in self.by_email.get(raw) if row[1] == account.pk]
            if not at_account:
                raise Invalid(self.name, [f'No contact at this account has the e-mail "{raw}".'])
            if len(at_account) > 1:
                raise Invalid(
                    self.name, [f'More than one contact has the e-mail "{raw}": give its id.']
                )
            pk, account_id = at_account[0]
        promise_services.check_contact(
            Contact(pk=pk, account_id=account_id), Account(pk=account.pk), field=self.name
        )
        return pk


# --- accounts and contacts: through their services ----------------------------------------


def _changes(instance, values: dict) -> dict:
    """The values that differ from what ``instance`` holds (by attname)."""
    return {name: value for name, value in values.items() if getattr(instance, name) != value}


class AccountImporter(Importer):
    """Accounts, upserted by ``external_id`` in the team (through the account services)."""

    serializer_class = AccountSerializer

    def __init__(self, user) -> None:
        super().__init__(user)
        self.owners = Related(self.fields, "owner", users_visible_to(user), ("pk",))
        self.teams = Related(self.fields, "team", teams_visible_to(user), ("pk",))
        self.users = {user.pk: user}

    def check(self, batch: list[Cells]) -> list:
        self.owners.prefetch(cells.values["owner"] for cells in batch if cells.given("owner"))
        self.teams.prefetch(cells.values["team"] for cells in batch if cells.given("team"))
        return check_rows(batch, self._check_one)

    def _check_one(self, cells: Cells) -> tuple[Cells, dict]:
        each = Cellwise(cells)
        values = {
            "name": each(self.value, cells, "name"),
            "domain": each(self.value, cells, "domain", ""),
            "external_id": each(self.value, cells, "external_id"),
        }
        owner_id = self.user.pk
        if cells.given("owner"):
            owner_id = (each(self.owners.get, cells.values["owner"].strip()) or (None,))[0]
        team_id = None
        if cells.given("team"):
            team_id = (each(self.teams.get, cells.values["team"].strip()) or (None,))[0]
        each.done()
        return cells, {**values, "owner_id": owner_id, "team_id": team_id}

    def _owner(self, pk: int):
        if pk not in self.users:
            self.users[pk] = users_visible_to(self.user).get(pk=pk)
        return self.users[pk]

    def write(self, rows: list) -> None:
        keys = [values["external_id"] for _, values in rows if values["external_id"]]
        existing = {
            (account.team_id, account.external_id): account
            # Among those the importer sees: an archived account keeps its external id,
            # and a row naming it is refused by create_account rather than updating it.
            for account in accounts_visible_to(self.user).filter(external_id__in=keys)
        }
        for cells, values in rows:
            owner = self._owner(values.pop("owner_id"))
            team_id = values.pop("team_id") or owner.team_id
            account = (
                existing.get((team_id, values["external_id"])) if values["external_id"] else None
            )
            try:
                if account is None:
                    team = teams_visible_to(self.user).filter(pk=team_id).first()
                    account = account_services.create_account(owner=owner, team=team, **values)
                    existing[(account.team_id, account.external_id)] = account
                    self.created += 1
                else:
                    changes = _changes(account, {**values, "owner_id": owner.pk})
                    if changes:
                        changes.pop("owner_id", None)
                        account_services.update_account(account, owner=owner, **changes)
                        self.updated += 1
            except ValidationError as error:
                for column, messages in field_errors(error).items():
                    cells.errors += [(column, message) for message in messages]


class ContactImporter(Importer):
    """Contacts, upserted by ``external_id`` within their account (``create_contact``, ...)."""

    serializer_class = ContactSerializer
    TEXT = ("first_name", "last_name", "email", "phone", "title")

    def __init__(self, user) -> None:
        super().__init__(user)
        self.accounts = AccountReference(self.fields, user)

    def check(self, batch: list[Cells]) -> list:
        self.accounts.prefetch(batch)
        return check_rows(batch, self._check_one)

    def _check_one(self, cells: Cells) -> tuple[Cells, AccountRef, dict]:
        each = Cellwise(cells)
        account = each(self.accounts.of, cells)
        values = {name: each(self.value, cells, name, "") for name in self.TEXT}
        values["external_id"] = each(self.value, cells, "external_id")
        each.done()
        return cells, account, values

    def write(self, rows: list) -> None:
        keys = [values["external_id"] for _, _, values in rows if values["external_id"]]
        existing = {
            (contact.account_id, contact.external_id): contact
            for contact in contacts_visible_to(self.user).filter(external_id__in=keys)
        }
        for cells, account, values in rows:
            contact = existing.get((account.pk, values["external_id"]))
            try:
                if contact is None or not values["external_id"]:
                    contact = account_services.create_contact(
                        account=Account(pk=account.pk, team_id=account.team_id), **values
                    )
                    existing[(account.pk, contact.external_id)] = contact
                    self.created += 1
                else:
                    changes = _changes(contact, values)
                    if changes:
                        account_services.update_contact(contact, **changes)
                        self.updated += 1
            except ValidationError as error:
                for column, messages in field_errors(error).items():
                    cells.errors += [(column, message) for message in messages]


# --- interactions and promises: a batch at a time ------------------------------------------


def _new_by_external_id(model, rows: list, key) -> list:
    """The rows whose external id their account has not seen yet (replays are skipped).

    ``key(row) -> (account_id, external_id)``; a row without an external id is
    always new. An id twice in the file is imported once, as the API answers a
    replayed one.
    """
    keyed = [key(row) for row in rows if key(row)[1]]
    known = set()
    if keyed:
        # The pairs as two arrays: an ORM filter of 2,000 values took longer to build
        # than the lookup took to run.
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.account_id, t.external_id FROM {table} t "
                "JOIN unnest(%s::bigint[], %s::text[]) AS k(account_id, external_id) "
                "ON t.account_id = k.account_id AND t.external_id = k.external_id",
                [[account for account, _ in keyed], [external for _, external in keyed]],
            )
            known = set(cursor.fetchall())
    fresh = []
    for row in rows:
        account_id, external_id = key(row)
        if external_id:
            if (account_id, external_id) in known:
                continue
            known.add((account_id, external_id))
        fresh.append(row)
    return fresh


class InteractionImporter(Importer):
    """Interactions, each skipped if its account has its ``external_id`` already."""

    serializer_class = InteractionSerializer
    PLAIN = ("kind", "direction", "occurred_at", "summary", "sentiment", "external_id")

    def __init__(self, user) -> None:
        super().__init__(user)
        self.accounts = AccountReference(self.fields, user)
        self.contacts = ContactReference(self.fields, "contacts", user)
        self.now = timezone.now()
        defaults = model_defaults(Interaction, self.now)
        self.columns = ["id", *defaults]
        self.defaults = {**defaults, "logged_by_id": user.pk}
        # Positive outbound touches imported, by account: each repairs the breaks before it.
        self.repairs: dict[int, list[datetime]] = defaultdict(list)

    def check(self, batch: list[Cells]) -> list:
        self.accounts.prefetch(batch)
        self.contacts.prefetch(
            cells.values["contacts"] for cells in batch if cells.given("contacts")
        )
        return check_rows(batch, self._check_one)

    def _check_one(self, cells: Cells) -> dict:
        each = Cellwise(cells)
        row = {name: each(self.value, cells, name) for name in self.PLAIN}
        row["summary"] = row["summary"] or ""
        account = each(self.accounts.of, cells)
        contacts: list[int] = []
        if account is not None and cells.given("contacts"):
            contacts = [
                pk
                for raw in split_list(cells.values["contacts"])
                if (pk := each(self.contacts.one, raw, account)) is not None
            ]
        each.done()
        row["account_id"] = account.pk
        row["external_id"] = row["external_id"] or None
        row["contacts"] = list(dict.fromkeys(contacts))  # each person once
        return row

    def write(self, rows: list) -> None:
        rows = _new_by_external_id(
            Interaction, rows, lambda row: (row["account_id"], row["external_id"])
        )
        ids = next_ids(Interaction, len(rows))
        present = []
        for pk, row in zip(ids, rows, strict=True):
            row["id"] = pk
            present += [(pk, contact) for contact in row["contacts"]]
            self.touched.add(row["account_id"])
            if _repairs(row):
                self.repairs[row["account_id"]].append(row["occurred_at"])
        defaults = self.defaults
        copy_rows(
            Interaction,
            self.columns,
            ([row.get(name, defaults.get(name)) for name in self.columns] for row in rows),
        )
        copy_rows(Interaction.contacts.through, ["interaction_id", "contact_id"], present)
        self.created += len(rows)

    def finish(self) -> None:
        """Every touched account's answer times, and the breaks the positive touches repair."""
        for account_id in sorted(self.touched):
            interaction_services.refresh_answers(account_id)
        repair_breaks(self.repairs)


def _repairs(row: dict) -> bool:
    """A positive outbound touch repairs earlier breaks, as when it is logged."""
    return (
        row["direction"] == Interaction.Direction.OUTBOUND
        and row["sentiment"] is not None
        and row["sentiment"] > 0
    )


def repair_breaks(moments: dict[int, list[datetime]]) -> None:
    """Record each imported repair on the breaks before it, as its write would have.

    ``moments``: by account, the times of the imported repairs. Only the first
    repair after each break counts, so for each break of these accounts the
    first of the moments at or after it is applied
    (``promises.services._repair_breaks_before``), once per distinct moment.
    """
    if not moments:
        return
    breaks = Promise.objects.filter(
        account_id__in=list(moments), broken_at__isnull=False
    ).values_list("account_id", "broken_at")
    firsts: set[tuple[int, datetime]] = set()
    ordered = {account: sorted(times) for account, times in moments.items()}
    for account_id, broken_at in breaks:
        assert broken_at is not None  # filtered above
        times = ordered[account_id]
        # The first strictly after the break, as _repair_breaks_before counts it.
        index = bisect.bisect_right(times, broken_at)
        if index < len(times):
            firsts.add((account_id, times[index]))
    for account_id, moment in sorted(firsts):
        promise_services._repair_breaks_before(account_id, moment)


class PromiseImporter(Importer):
    """Promises with their past (status and its times), and the events it implies.

    Each is skipped if its account has its ``external_id`` already. The events
    are stamped at their own times: ``created`` when it was made, then
    ``broken``, ``kept`` or ``released``. A break before the due time was
    disclosed by the owner; one at or after it was the sweep's. No alert is
    raised: these are history, not news for a lead.
    """

    serializer_class = PromiseSerializer
    TIMES = ("created_at", "broken_at", "kept_at", "released_at")

    def __init__(self, user) -> None:
        super().__init__(user)
        self.accounts = AccountReference(self.fields, user)
        self.contacts = ContactReference(self.fields, "contact", user)
        self.interactions = Related(
            self.fields, "interaction", interactions_visible_to(user), ("pk", "account_id")
        )
        self.interactions_by_external_id = Lookup(
            interactions_visible_to(user), "external_id", ("pk", "account_id")
        )
        self.owners = {owner.pk: owner for owner in users_visible_to(user)}
        self.owner_ids = Related(self.fields, "owner", users_visible_to(user), ("pk",))
        # The past a promise may carry, checked as the API checks its other fields.
        self.history: dict[str, serializers.Field] = {
            "status": serializers.ChoiceField(choices=Status.choices, required=False),
            **{name: MomentField(required=False) for name in self.TIMES},
        }
        for name, field in self.history.items():
            field.bind(name, self.fields.serializer)
        self.now = timezone.now()
        # Imported kept promises (account, kept_at, created_at): each repairs earlier breaks.
        self.kept: list[tuple[int, datetime, datetime]] = []

    def check(self, batch: list[Cells]) -> list:
        self.accounts.prefetch(batch)
        self.contacts.prefetch(cells.values["contact"] for cells in batch if cells.given("contact"))
        self.interactions.prefetch(
            cells.values["interaction"] for cells in batch if cells.given("interaction")
        )
        self.interactions_by_external_id.prefetch(
            cells.values["interaction_external_id"].strip()
            for cells in batch
            if cells.given("interaction_external_id")
        )
        return check_rows(batch, self._check_one)

    def _check_one(self, cells: Cells) -> Promise:
        each = Cellwise(cells)
        description = each(self.value, cells, "description")
        due_at = each(self.value, cells, "due_at")
        external_id = each(self.value, cells, "external_id")
        times = {
            name: each(self.value, cells, name, field=self.history[name]) for name in self.TIMES
        }
        status = each(self.value, cells, "status", field=self.history["status"])
        account = each(self.accounts.of, cells)
        owner = self.user
        if cells.given("owner"):
            found = each(self.owner_ids.get, cells.values["owner"].strip())
            owner = self.owners[found[0]] if found else None
        contact_id = interaction_id = None
        if account is not None:
            if cells.given("contact"):
                contact_id = each(self.contacts.one, cells.values["contact"].strip(), account)
            interaction_id = each(self._interaction, cells, account)
        each.done()
        target = Account(pk=account.pk, team_id=account.team_id)
        promise_services._check_owner(owner, target)
        contact = None if contact_id is None else Contact(pk=contact_id, account_id=account.pk)
        promise = promise_services._new_promise(
            account=target,
            description=description,
            due_at=due_at,
            owner=owner,
            contact=contact,
            now=self.now,
        )
        promise.interaction_id = interaction_id
        promise.external_id = external_id or None
        _set_history(promise, status, times, now=self.now)
        return promise

    def _interaction(self, cells: Cells, account: AccountRef) -> int | None:
        if cells.given("interaction"):
            pk, account_id = self.interactions.get(cells.values["interaction"].strip())
        elif cells.given("interaction_external_id"):
            raw = cells.values["interaction_external_id"].strip()
            at_account = [
                row for row in self.interactions_by_external_id.get(raw) if row[1] == account.pk
            ]
            if not at_account:
                raise Invalid(
                    "interaction_external_id",
                    [f'No interaction of this account has the external id "{raw}".'],
                )
            pk, account_id = at_account[0]
        else:
            return None
        if account_id != account.pk:
            raise Invalid("interaction", ["This interaction belongs to another account."])
        return pk

    def write(self, rows: list) -> None:
        promises: list[Promise] = _new_by_external_id(
            Promise, rows, lambda promise: (promise.account_id, promise.external_id)
        )
        for promise, pk in zip(promises, next_ids(Promise, len(promises)), strict=True):
            promise.pk = promise.id = pk
        events = [event for promise in promises for event in _history_events(promise, self.user)]
        copy_instances(Promise, promises, with_pk=True)
        copy_instances(PromiseEvent, events, with_pk=False)
        for promise in promises:
            self.touched.add(promise.account_id)
            if promise.kept_at is not None:
                self.kept.append((promise.account_id, promise.kept_at, promise.created_at))
        self.created += len(promises)

    def finish(self) -> None:
        """A kept promise repairs the breaks that came before it was made, as when kept."""
        broken = set(
            Promise.objects.filter(
                account_id__in={account_id for account_id, _, _ in self.kept},
                broken_at__isnull=False,
            ).values_list("account_id", flat=True)
        )
        for account_id, kept_at, created_at in self.kept:
            if account_id in broken:
                promise_services._repair_breaks_before(
                    account_id, kept_at, broken_before=created_at
                )


def _set_history(promise: Promise, status: str | None, times: dict, *, now: datetime) -> None:
    """Give an imported promise its status and times, as the transitions leave them.

    The status defaults to what the times say (kept with a ``kept_at``, ...), and
    a promise broken without a ``broken_at`` was broken by the sweep at its due
    time. Every time lies between when it was made and now, in their order.
    """
    created_at, broken_at, kept_at, released_at = (times[name] for name in _TIME_NAMES)
    if status is None:
        status = (
            Status.KEPT
            if kept_at
            else Status.RELEASED
            if released_at
            else Status.BROKEN
            if broken_at
            else Status.OPEN
        )
    errors: dict[str, list[str]] = defaultdict(list)
    allowed = {
        Status.OPEN: set(),
        Status.KEPT: {"kept_at", "broken_at"},
        Status.BROKEN: {"broken_at"},
        Status.RELEASED: {"released_at"},
    }[Status(status)]
    for name in ("broken_at", "kept_at", "released_at"):
        if times[name] is not None and name not in allowed:
            article = "An" if status[0] in "aeiou" else "A"
            errors[name].append(f"{article} {status} promise has no {name}.")
    if status == Status.KEPT and kept_at is None:
        errors["kept_at"].append("A kept promise needs its kept_at.")
    if status == Status.RELEASED and released_at is None:
        errors["released_at"].append("A released promise needs its released_at.")
    if status == Status.BROKEN and broken_at is None:
        if promise.due_at > now:
            errors["broken_at"].append("A promise broken before its due time needs its broken_at.")
        else:
            broken_at = promise.due_at  # the sweep broke it
    for name, moment in (
        ("broken_at", broken_at),
        ("kept_at", kept_at),
        ("released_at", released_at),
    ):
        if moment is not None and moment > now:
            errors[name].append("This cannot be in the future.")
    events = [moment for moment in (broken_at, kept_at, released_at) if moment is not None]
    created_at = created_at or min([now, *events])
    if created_at > now:
        errors["created_at"].append("This cannot be in the future.")
    for name, moment in (
        ("broken_at", broken_at),
        ("kept_at", kept_at),
        ("released_at", released_at),
    ):
        if moment is not None and moment < created_at:
            errors[name].append("This is before the promise was made (created_at).")
    if broken_at is not None and kept_at is not None and kept_at < broken_at:
        errors["kept_at"].append("A promise is kept after it broke, not before (broken_at).")
    if errors:
        raise ValidationError(dict(errors))
    promise.created_at = created_at
    promise.status = status
    if broken_at is not None:
        for name, value in promise_services._broken_status(
            at=broken_at, disclosed=broken_at < promise.due_at
        ).items():
            setattr(promise, name, value)
        promise.status = status  # a kept-late promise stays kept
    promise.kept_at = kept_at
    promise.released_at = released_at
    promise.updated_at = now


_TIME_NAMES = ("created_at", "broken_at", "kept_at", "released_at")


def _history_events(promise: Promise, by) -> list[PromiseEvent]:
    """The events an imported promise's past implies, each at its own time."""
    events = [promise_services._created_event(promise, by=by, now=promise.created_at)]
    if promise.broken_at is not None:
        disclosed = promise.broken_disclosed
        events.append(
            promise_services._broken_event(
                promise.pk,
                at=promise.broken_at,
                by=promise.owner if disclosed else None,
                note="" if disclosed else promise_services.SWEPT_NOTE,
            )
        )
    for kind, moment in (
        (PromiseEvent.Kind.KEPT, promise.kept_at),
        (PromiseEvent.Kind.RELEASED, promise.released_at),
    ):
        if moment is not None:
            events.append(
                PromiseEvent(promise_id=promise.pk, kind=kind, at=moment, by=promise.owner)
            )
    return events


IMPORTERS: dict[str, type[Importer]] = {
    "accounts": AccountImporter,
    "contacts": ContactImporter,
    "interactions": InteractionImporter,
    "promises": PromiseImporter,
}
