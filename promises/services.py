"""Every write to promises and alerts, and logging an interaction with its commitments.

Each state transition is one function here: it checks the transition, writes the
row and its event (and, for a break, its alert) in one transaction, marks the
account's health stale, and is the only place that status changes. The API, the
web UI, the admin and the jobs all call these.
"""

import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Model, Q, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from accounts.models import Account, Contact, User
from accounts.services import (
    ask_for_recompute,
    check_external_id,
    mark_health_stale,
    stale_mark,
)
from interactions import services as interaction_services
from interactions.models import Interaction
from promises.models import Alert, Promise, PromiseEvent
from relcrm import queue, task_names
from relcrm.errors import TransitionNotAllowed

logger = logging.getLogger(__name__)

Status = Promise.Status

PROMISE_EXTERNAL_ID_TAKEN = "Another promise of this account has this external id."


def check_contact(contact: Contact | None, account: Account, field: str = "contact") -> None:
    """A contact named on a promise or an interaction must be a person at its account."""
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({field: ["This contact belongs to another account."]})


def _check_owner(owner: User, account: Account) -> None:
    if owner.team_id != account.team_id and not owner.is_superuser:
        raise ValidationError({"owner": ["The owner must be a member of the account's team."]})


def _lock(promise: Promise) -> Promise:
    """Re-read the promise under a row lock: the check and the change see one state."""
    return Promise.objects.select_for_update().get(pk=promise.pk)


def _when(moment: datetime) -> str:
    """A time as an error message names it: to the second, with its UTC offset."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _refresh_from(target: Promise, source: Promise) -> Promise:
    for field in Promise._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


# --- creating -------------------------------------------------------------------------


def _new_promise(
    *, account: Account, description: str, due_at: datetime, owner: User, contact, now
) -> Promise:
    """An unsaved promise, checked: what create_promise and log_interaction both insert."""
    check_contact(contact, account)
    if not description.strip():
        raise ValidationError({"description": ["This field may not be blank."]})
    return Promise(
        account=account,
        contact=contact,
        owner=owner,
        description=description,
        due_at=due_at,
        created_at=now,
    )


def _created_event(promise: Promise, *, by: User, now) -> PromiseEvent:
    return PromiseEvent(
        promise=promise, kind=PromiseEvent.Kind.CREATED, at=now, by=by, new_due_at=promise.due_at
    )


@transaction.atomic
def create_promise(
    *,
    account: Account,
    description: str,
    due_at: datetime,
    by: User,
    owner: User | None = None,
    contact: Contact | None = None,
    interaction: Interaction | None = None,
    external_id: str | None = None,
) -> Promise:
    """Record a commitment. A due time already past is accepted; the next sweep breaks it.

    An ``external_id`` (its id in another system) is unique in the account.
    """
    owner = owner or by
    _check_owner(owner, account)
    if interaction is not None and interaction.account_id != account.pk:
        raise ValidationError({"interaction": ["This interaction belongs to another account."]})
    now = timezone.now()
    promise = _new_promise(
        account=account,
        description=description,
        due_at=due_at,
        owner=owner,
        contact=contact,
        now=now,
    )
    promise.interaction = interaction
    promise.external_id = check_external_id(
        account.promises.all(), external_id, taken=PROMISE_EXTERNAL_ID_TAKEN
    )
    promise.save(force_insert=True)
    _created_event(promise, by=by, now=now).save(force_insert=True)
    mark_health_stale(account.pk)
    return promise


@transaction.atomic
def update_promise(promise: Promise, *, description: str | None = None, contact=...) -> Promise:
    """Edit what was promised or to whom; the due time changes only by renegotiation."""
    if description is not None:
        if not description.strip():
            raise ValidationError({"description": ["This field may not be blank."]})
        promise.description = description
    if contact is not ...:
        check_contact(contact, promise.account)
        promise.contact = contact
    promise.save(update_fields=["description", "contact", "updated_at"])
    return promise


@transaction.atomic
def log_interaction(
    *,
    account: Account,
    logged_by: User,
    kind: str,
    direction: str,
    occurred_at: datetime,
    summary: str = "",
    sentiment: int | None = None,
    contacts: Iterable[Contact] = (),
    external_id: str | None = None,
    promises: Iterable[dict] = (),
) -> tuple[Interaction, bool]:
    """Log a touch-point and the commitments made in it, all or nothing.

    ``promises`` are dicts with ``description``, ``due_at`` and optionally
    ``contact``; their owner is the person logging. Replaying an ``external_id``
    already logged for the account returns that interaction and writes nothing.
    Returns ``(interaction, created)``; a created one carries the promises made
    in it, in order, as ``interaction.promises_made``.
    """
    if external_id:
        existing = Interaction.objects.filter(account=account, external_id=external_id).first()
        if existing is not None:
            return existing, False
    interaction_services.check_occurred_at(occurred_at)
    contacts = list(contacts)
    for contact in contacts:
        check_contact(contact, account, field="contacts")
    promises = list(promises)
    for number, item in enumerate(promises, start=1):
        try:
            check_contact(item.get("contact"), account)
        except ValidationError as error:
            # Django's errors do not nest: name the promise in the message. The API
            # checks this first, per promise (InteractionSerializer.validate).
            messages = [f"Promise {number}: {message}" for message in error.messages]
            raise ValidationError({"promises": messages}) from error
    if promises:
        _check_owner(logged_by, account)
    now = timezone.now()
    made = [
        _new_promise(
            account=account,
            description=item["description"],
            due_at=item["due_at"],
            owner=logged_by,
            contact=item.get("contact"),
            now=now,
        )
        for item in promises
    ]
    interaction = Interaction(
        account=account,
        logged_by=logged_by,
        kind=kind,
        direction=direction,
        occurred_at=occurred_at,
        summary=summary,
        sentiment=sentiment,
        external_id=external_id or None,
    )
    events = [_created_event(promise, by=logged_by, now=now) for promise in made]
    # The account's stale mark, and the answer times of the inbound touches an outbound
    # one answers, are written by the same statement.
    also = [_update_sql(Account.objects.filter(pk=account.pk), **stale_mark())]
    outbound = direction == Interaction.Direction.OUTBOUND
    if outbound:
        answered = interaction_services.answered_by(account.pk, occurred_at)
        also.append(_update_sql(answered, answered_at=occurred_at))
    if not _insert_logged(interaction, contacts, made, events, also):
        # Another request logged the same external_id between our check and insert.
        return Interaction.objects.get(account=account, external_id=external_id), False
    _note_direction(interaction, answered=outbound)
    ask_for_recompute(account.pk)
    # The caller may show them next: in hand, they need not be read back.
    interaction.promises_made = made
    return interaction, True


def _update_sql(queryset, **values) -> tuple[str, list]:
    """The UPDATE that ``queryset.update(**values)`` runs, to run inside another statement."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(queryset.db)
    compiler.pre_sql_setup()
    text, params = compiler.as_sql()
    return text, list(params)


def _insert_columns(model, *filled: str) -> list:
    """The fields an INSERT of ``model`` writes, after the ``filled`` ones the statement sets."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in filled
    ]


def _unnest(model, filled: str, source: str, join: str) -> tuple[str, list]:
    """``INSERT INTO model (filled, ...) SELECT source.id, ... FROM unnest(...)`` for a CTE.

    One row per item of the arrays (in their order), with ``filled`` set to the
    id of the ``source`` row that ``join`` pairs it with; the fields, in the
    order of the arrays, are returned with the text.
    """
    fields = _insert_columns(model, filled)
    names = ", ".join(field.column for field in fields)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    text = (
        f"INSERT INTO {model._meta.db_table} ({filled}, {names}) "
        f"SELECT {source}.id, {', '.join(f'item.{field.column}' for field in fields)} "
        f"FROM {source} JOIN unnest({arrays}) WITH ORDINALITY AS item({names}, n) "
        f"ON {join} ORDER BY item.n"
    )
    return text, fields


@functools.cache
def _logged_statement() -> tuple[str, list, list, list]:
    """The one statement that writes an interaction, its contacts, promises and their events.

    Logging a call with two promises took six statements (one INSERT each, the
    contacts' read and write); as one it is one round trip and one plan, and
    ``ON CONFLICT DO NOTHING`` answers a concurrent replay of the external id
    without a savepoint. Built once from the models, so it follows their fields.
    """
    interaction_fields = _insert_columns(Interaction)
    # Ids are drawn in the order of the rows inserted, as bulk_create relies on
    # too: the n-th promise's id is the n-th smallest, and its event pairs by rank.
    promises, promise_fields = _unnest(Promise, "interaction_id", "interaction", "true")
    events, event_fields = _unnest(PromiseEvent, "promise_id", "promise", "item.n = promise.n")
    present = Interaction.contacts.through._meta.db_table
    text = f"""
        WITH interaction AS (
            INSERT INTO {Interaction._meta.db_table}
                ({", ".join(field.column for field in interaction_fields)})
            VALUES ({", ".join(["%s"] * len(interaction_fields))})
            ON CONFLICT DO NOTHING RETURNING id
        ), made AS ({promises} RETURNING id
        ), promise AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM made
        ), event AS ({events}
        ), present AS (
            INSERT INTO {present} (interaction_id, contact_id)
            SELECT interaction.id, contact FROM interaction, unnest(%s::bigint[]) AS contact
        ){{also}}
        SELECT id, ARRAY(SELECT id FROM promise ORDER BY n) FROM interaction
    """
    return text, interaction_fields, promise_fields, event_fields


def _insert_logged(
    interaction: Interaction,
    contacts: list[Contact],
    made: list[Promise],
    events: list,
    also: Sequence[tuple[str, list]] = (),
) -> bool:
    """Insert the interaction with its contacts, promises and events; False if its id was taken.

    ``also``: more statements (text, params), UPDATEs ending in their WHERE clause,
    run as part of it, only if the interaction is inserted.
    """
    text, interaction_fields, promise_fields, event_fields = _logged_statement()

    def values(obj, fields):
        return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]

    def arrays(objs, fields):
        rows = [values(obj, fields) for obj in objs]
        return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in fields]

    params = [
        *values(interaction, interaction_fields),
        *arrays(made, promise_fields),
        *arrays(events, event_fields),
        list(dict.fromkeys(contact.pk for contact in contacts)),  # each person once
    ]
    text = text.format(
        also="".join(
            f", also_{number} AS ({sql} AND EXISTS (SELECT FROM interaction))"
            for number, (sql, _) in enumerate(also)
        )
    )
    for _, also_params in also:
        params += also_params
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        written = cursor.fetchone()
    if written is None:
        return False
    interaction.pk, promise_ids = written
    interaction._state.adding = False
    for promise, pk in zip(made, promise_ids, strict=True):
        promise.pk, promise.interaction = pk, interaction
        promise._state.adding = False
    return True


def _note_direction(interaction: Interaction, *, answered: bool = False) -> None:
    """What an interaction's direction changes; ``answered``: the inbound ones it answers are."""
    if interaction.direction == Interaction.Direction.OUTBOUND:
        if not answered:
            interaction_services.note_outbound(interaction.account_id, interaction.occurred_at)
        if interaction.sentiment is not None and interaction.sentiment > 0:
            _repair_breaks_before(interaction.account_id, interaction.occurred_at)
    else:
        interaction_services.note_inbound(interaction)


@transaction.atomic
def update_interaction(interaction: Interaction, *, contacts=None, **fields) -> Interaction:
    """Correct a logged interaction (its account and promises stay as they are)."""
    occurred_at = fields.get("occurred_at")
    if occurred_at is not None:
        interaction_services.check_occurred_at(occurred_at)
    if contacts is not None:
        for contact in contacts:
            check_contact(contact, interaction.account, field="contacts")
    for name, value in fields.items():
        setattr(interaction, name, value)
    # Only what was corrected: answered_at is kept by queryset updates, and a full
    # save of a copy read before them would undo them.
    interaction.save(update_fields=[*fields, "updated_at"])
    if contacts is not None:
        interaction.contacts.set(contacts)
    if {"occurred_at", "direction"} & fields.keys():
        interaction_services.refresh_answers(interaction.account_id)
        interaction.refresh_from_db(fields=["answered_at"])
    if "sentiment" in fields or "occurred_at" in fields:
        _note_direction(interaction)
    mark_health_stale(interaction.account_id)
    return interaction


def _repair_breaks_before(
    account_id: int, moment: datetime, *, broken_before: datetime | None = None
) -> None:
    """Record ``moment`` as the first repair of the account's breaks before it.

    A repair is a kept promise made after the break, or a positive outbound touch;
    the earliest one counts. Whether it came soon enough to soften the break is the
    trust model's call (its repair window), so every repair is recorded.
    """
    Promise.objects.filter(
        Q(repaired_at__isnull=True) | Q(repaired_at__gt=moment),
        account_id=account_id,
        broken_at__isnull=False,
        broken_at__lte=moment,
        broken_at__lt=broken_before or moment,
    ).update(repaired_at=moment)


# --- transitions ----------------------------------------------------------------------


@transaction.atomic
def keep_promise(promise: Promise, *, by: User | None, at: datetime | None = None) -> Promise:
    """Mark a promise delivered: open -> kept, or broken -> kept (kept late).

    ``at`` (when it was delivered; now by default) lies between the time the promise
    was made and now, and for a broken promise at or after its break: a keep cannot
    be back-dated over a break to turn it into an on-time keep. The database checks
    both bounds too (``promise_kept_after_made``, ``promise_kept_after_broken``).
    """
    now = timezone.now()
    if at is not None and at > now:
        raise ValidationError({"kept_at": ["A promise cannot be kept in the future."]})
    locked = _lock(promise)
    if locked.status not in (Status.OPEN, Status.BROKEN):
        raise TransitionNotAllowed(f"A {locked.status} promise cannot be kept.")
    now = timezone.now()  # after the lock, so that its event follows the one before
    at = at or now
    if at < locked.created_at:
        raise ValidationError(
            {"kept_at": [f"This is before the promise was made ({_when(locked.created_at)})."]}
        )
    if locked.broken_at is not None and at < locked.broken_at:
        raise ValidationError(
            {
                "kept_at": [
                    f"This promise broke at {_when(locked.broken_at)}: "
                    "it can only be kept at or after that, late."
                ]
            }
        )
    locked.status = Status.KEPT
    locked.kept_at = at
    locked.save(update_fields=["status", "kept_at", "updated_at"])
    PromiseEvent.objects.create(promise=locked, kind=PromiseEvent.Kind.KEPT, at=now, by=by)
    # A kept promise repairs the breaks that came before it was made.
    _repair_breaks_before(locked.account_id, at, broken_before=locked.created_at)
    mark_health_stale(locked.account_id)
    return _refresh_from(promise, locked)


@transaction.atomic
def renegotiate_promise(
    promise: Promise, *, by: User | None, due_at: datetime, note: str = ""
) -> Promise:
    """Agree a new due time with the customer; only for open promises not yet due."""
    locked = _lock(promise)
    now = timezone.now()  # after the lock, so that its event follows the one before
    if locked.status != Status.OPEN:
        raise TransitionNotAllowed(f"A {locked.status} promise cannot be renegotiated.")
    if locked.due_at <= now:
        raise TransitionNotAllowed(
            "This promise is already due; keep it, break it or ask to be released."
        )
    if due_at <= now:
        raise ValidationError({"due_at": ["The new due time must be in the future."]})
    old_due_at = locked.due_at
    locked.due_at = due_at
    locked.renegotiated_count += 1
    locked.save(update_fields=["due_at", "renegotiated_count", "updated_at"])
    PromiseEvent.objects.create(
        promise=locked,
        kind=PromiseEvent.Kind.RENEGOTIATED,
        at=now,
        by=by,
        note=note,
        old_due_at=old_due_at,
        new_due_at=due_at,
    )
    mark_health_stale(locked.account_id)
    return _refresh_from(promise, locked)


@transaction.atomic
def break_promise(promise: Promise, *, by: User | None, note: str = "") -> Promise:
    """We tell the customer it will not happen: open -> broken, with its alert.

    Before the due time it is a *disclosed* break, after it a silent one.
    """
    locked = _lock(promise)
    now = timezone.now()  # after the lock, so that its event follows the one before
    if locked.status != Status.OPEN:
        raise TransitionNotAllowed(f"A {locked.status} promise cannot be broken.")
    changes = _broken_status(at=now, disclosed=now < locked.due_at)
    Promise.objects.filter(pk=locked.pk).update(**changes)
    for name, value in changes.items():
        setattr(locked, name, value)
    _broken_event(locked.pk, at=now, by=by, note=note).save(force_insert=True)
    raise_promise_broken_alert(locked, at=now)
    mark_health_stale(locked.account_id)
    return _refresh_from(promise, locked)


# The rows of a break, built here once for break_promise and for the overdue sweep,
# which writes them many at a time: the two cannot drift. The sweep passes
# F("<promise column>") where a value is the swept promise's own.


def _broken_status(*, at: datetime, disclosed: bool) -> dict:
    """The fields a break changes on its promise (``updated_at`` too: both write it so)."""
    return {
        "status": Status.BROKEN,
        "broken_at": at,
        "broken_disclosed": disclosed,
        "updated_at": at,
    }


def _broken_event(promise_id, *, at: datetime, by: User | None, note: str) -> PromiseEvent:
    return PromiseEvent(
        promise_id=promise_id, kind=PromiseEvent.Kind.BROKEN, at=at, by=by, note=note
    )


def _broken_alert(promise_id, account_id, *, at: datetime) -> Alert:
    return Alert(
        kind=Alert.Kind.PROMISE_BROKEN, promise_id=promise_id, account_id=account_id, created_at=at
    )


@transaction.atomic
def release_promise(promise: Promise, *, by: User | None, note: str = "") -> Promise:
    """The customer released us from it: open -> released, neutral for trust."""
    locked = _lock(promise)
    now = timezone.now()  # after the lock, so that its event follows the one before
    if locked.status != Status.OPEN:
        raise TransitionNotAllowed(f"A {locked.status} promise cannot be released.")
    locked.status = Status.RELEASED
    locked.released_at = now
    locked.save(update_fields=["status", "released_at", "updated_at"])
    PromiseEvent.objects.create(
        promise=locked, kind=PromiseEvent.Kind.RELEASED, at=now, by=by, note=note
    )
    mark_health_stale(locked.account_id)
    return _refresh_from(promise, locked)


# --- alerts ---------------------------------------------------------------------------


def raise_promise_broken_alert(promise: Promise, *, at: datetime) -> Alert | None:
    """The one alert of a broken promise; None if it already has one."""
    alert = _broken_alert(promise.pk, promise.account_id, at=at)
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            alert.save(force_insert=True)
    except IntegrityError:
        # alert_one_per_broken_promise: the promise has its alert already.
        if not Alert.objects.filter(promise_id=promise.pk).exists():
            raise
        return None
    return alert


def raise_health_drop_alert(account: Account, *, detail: str = "", at=None) -> Alert:
    """An account's trust health fell to at risk (the trust app decides when)."""
    return Alert.objects.create(
        kind=Alert.Kind.HEALTH_DROP, account=account, detail=detail, created_at=at or timezone.now()
    )


def can_review_alerts(user: User, account: Account) -> bool:
    """Leads of the account's team and admins acknowledge and resolve its alerts."""
    return user.is_superuser or (user.is_lead and user.team_id == account.team_id)


def _lock_alerts(alerts: Sequence[Alert], by: User) -> list[Alert]:
    """Re-read the alerts under row locks, once ``by`` may review every one of them.

    The rows are locked in id order, so that two leads acknowledging overlapping
    selections queue behind each other instead of deadlocking; only the alerts' rows
    are locked, not their accounts'.
    """
    ids = sorted({alert.pk for alert in alerts})
    locked = list(
        Alert.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise Alert.DoesNotExist("Alert matching query does not exist.")
    if not all(can_review_alerts(by, alert.account) for alert in locked):
        raise PermissionDenied("Only the team's leads and admins review alerts.")
    return locked


def _lock_alert(alert: Alert, by: User) -> Alert:
    return _lock_alerts([alert], by)[0]


def _copy_alert(target: Alert, source: Alert) -> Alert:
    for field in Alert._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


def acknowledge_alert(alert: Alert, *, by: User, note: str = "") -> Alert:
    """open -> acknowledged: a lead has seen it and owns the follow-up."""
    return acknowledge_alerts([alert], by=by, note=note)[0]


@transaction.atomic
def acknowledge_alerts(alerts: Iterable[Alert], *, by: User, note: str = "") -> list[Alert]:
    """Acknowledge several open alerts at once (the inbox's bulk action), all or none.

    Each alert is checked as ``acknowledge_alert`` checks one: ``by`` must be a lead
    of its team or an admin (``PermissionDenied``) and the alert still open
    (``TransitionNotAllowed``, naming it). One failing check changes none of them.
    Two queries (a locking read, one UPDATE) whatever their number. Returns the
    given alerts, updated.
    """
    alerts = list(alerts)
    if not alerts:
        return []
    locked = _lock_alerts(alerts, by)
    for row in locked:
        if row.status != Alert.Status.OPEN:
            subject = "This alert" if len(locked) == 1 else f"The alert on {row.account}"
            raise TransitionNotAllowed(f"{subject} is already {row.status}.")
    changes = {
        "status": Alert.Status.ACKNOWLEDGED,
        "acknowledged_by": by,
        "acknowledged_at": timezone.now(),
    }
    if note:
        changes["note"] = note
    Alert.objects.filter(pk__in=[row.pk for row in locked]).update(**changes)
    by_pk = {row.pk: row for row in locked}
    for row in locked:
        for name, value in changes.items():
            setattr(row, name, value)
    return [_copy_alert(alert, by_pk[alert.pk]) for alert in alerts]


@transaction.atomic
def resolve_alert(alert: Alert, *, by: User, note: str = "") -> Alert:
    """open or acknowledged -> resolved, with a note on what was done."""
    locked = _lock_alert(alert, by)
    if locked.status == Alert.Status.RESOLVED:
        raise TransitionNotAllowed("This alert is already resolved.")
    now = timezone.now()
    if locked.acknowledged_at is None:
        locked.acknowledged_by, locked.acknowledged_at = by, now
    locked.status = Alert.Status.RESOLVED
    locked.resolved_by = by
    locked.resolved_at = now
    locked.note = note
    locked.save()
    return _copy_alert(alert, locked)


# --- the overdue sweep ------------------------------------------------------------------

# The note of a swept break's event: nobody broke it, its due time passed.
SWEPT_NOTE = "Overdue"


def claim_promises(
    promises: QuerySet[Promise], *, assign: dict, limit: int, returning: Sequence[str]
) -> list[tuple]:
    """Change up to ``limit`` of ``promises`` as ``assign`` says; return the rows this call changed.

    ``assign`` maps field names to values, or to ``F("<field>")`` for a value read
    from the row. The claim healthchecks' ``sendalerts`` makes one check at a time,
    made for a batch: a single UPDATE, whose rows are picked with ``FOR UPDATE SKIP
    LOCKED`` and whose condition is checked again on every row it writes, so that
    concurrent callers share the work instead of queueing behind each other's locks,
    and of any number of them exactly one changes a given row and only that one gets
    it back (``RETURNING``). Oldest due first, through the partial index on open
    promises.
    """
    sql, params = _claim_sql(promises, assign, limit, returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _claim_sql(
    promises: QuerySet[Promise], assign: dict, limit: int, returning: Sequence[str]
) -> tuple[str, list]:
    """The statement of ``claim_promises`` and its parameters."""
    quote = connection.ops.quote_name
    table = quote(Promise._meta.db_table)
    pick, pick_params = (
        promises.order_by("due_at").values_list("pk")[:limit].query.sql_with_params()
    )
    query = promises.query
    where, where_params = query.get_compiler(connection=connection).compile(query.where)
    set_sql, set_params = _set_clause(Promise, assign)
    columns = ", ".join(quote(_column(Promise, name)) for name in returning)
    # ARRAY() runs the pick once and the UPDATE then reaches its rows by primary key;
    # with IN (...) the planner rescans every matching row for each batch.
    sql = (
        f"UPDATE {table} SET {set_sql} "
        f"WHERE id = ANY(ARRAY({pick} FOR UPDATE SKIP LOCKED)) AND {where} "
        f"RETURNING {columns}"
    )
    return sql, [*set_params, *pick_params, *where_params]


def _set_clause(model, values: dict) -> tuple[str, list]:
    """``column = value, ...`` for an UPDATE of ``model``; ``F("<field>")`` names a column."""
    quote = connection.ops.quote_name
    assignments: list[str] = []
    params: list[Any] = []
    for name, value in values.items():
        field = model._meta.get_field(name)
        assignments.append(f"{quote(field.column)} = {_value_sql(value, field, params)}")
    return ", ".join(assignments), params


def _column(model: type[Model], name: str) -> str:
    """The column of ``model``'s field ``name`` (a concrete field, never a reverse relation)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column is not None, name
    return field.column


def _value_sql(value, field, params: list, *, source=None, prefix: str = "") -> str:
    """SQL for ``value`` of ``field``: a placeholder (its parameter appended to ``params``),
    or, for ``F("<field>")``, that column of ``source`` (``field``'s model by default)."""
    if isinstance(value, F):
        source = source or field.model
        # F keeps the name of the field it refers to in .name.
        return prefix + connection.ops.quote_name(_column(source, value.name))  # type: ignore[attr-defined]
    params.append(field.get_db_prep_save(value, connection))
    return "%s"


def flag_overdue_promises(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Break every open promise past its due time, with its event and its alert.

    Runs every minute, so the case to make cheap is "nothing is due": one
    indexed EXISTS, outside any transaction. Each batch is then claimed
    atomically (``claim_promises``) and committed with its events, alerts and
    stale marks, all in one statement, so any number of sweeps may run at once
    and a promise is broken by exactly one of them; the unique constraint on
    ``promise_broken`` alerts is the last line against a double alert. Batches
    are bounded so a backlog never holds row locks for long. Returns how many
    promises this call broke.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.RELCRM_SWEEP_BATCH_SIZE
    total = 0
    while _sweepable(now).exists():
        broken = _flag_overdue_batch(now, batch_size)
        total += broken
        # A short batch means the rest is claimed by a concurrent sweep, or gone.
        if broken < batch_size:
            break
    if total and settings.RELCRM_RECOMPUTE_ON_WRITE:
        # One message for the whole sweep: the stale-accounts job recomputes them all.
        queue.send_on_commit(task_names.COMPUTE_TRUST_HEALTH)
    return total


def _sweepable(now: datetime) -> QuerySet[Promise]:
    """What a sweep at ``now`` breaks: the promises overdue at ``now`` and made by then.

    A sweep reads the time before it claims, so a promise recorded in between,
    already past due, is left to the next sweep: broken at ``now``, its break
    would come before its making.
    """
    return Promise.objects.overdue(now).filter(created_at__lte=now)


@transaction.atomic
def _flag_overdue_batch(now: datetime, batch_size: int) -> int:
    """One batch as one statement: the claimed rows feed the rest without being read again.

    The rows are break_promise's, from its builders: the promise's fields, its
    event and its alert, and the account's stale mark. The statement is built
    from them (an INSERT ... SELECT per model, not ``bulk_create``): for 10,000
    promises, ``bulk_create`` spent more time preparing its instances' values in
    Python than the database spent writing them.

    Accounts are locked in id order before they are marked: concurrent sweeps
    share accounts, and the trust recompute locks them in id order too; locking
    them in whatever order a scan meets them deadlocks.
    """
    quote = connection.ops.quote_name
    claim, claim_params = _claim_sql(
        _sweepable(now),
        _broken_status(at=now, disclosed=False),
        batch_size,
        ["id", "account_id"],
    )
    event, event_params = _insert_per_promise(
        _broken_event(F("id"), at=now, by=None, note=SWEPT_NOTE), "claimed"
    )
    alert, alert_params = _insert_per_promise(
        _broken_alert(F("id"), F("account_id"), at=now), "claimed", ignore_conflicts=True
    )
    accounts = quote(Account._meta.db_table)
    stale, stale_params = _set_clause(Account, stale_mark())
    sql = (
        f"WITH claimed AS ({claim}), events AS ({event}), alerts AS ({alert}), "
        f"stale AS (UPDATE {accounts} SET {stale} WHERE id = ANY(ARRAY("
        f"SELECT id FROM {accounts} WHERE id IN (SELECT account_id FROM claimed) "
        "ORDER BY id FOR UPDATE))) "
        "SELECT count(*) FROM claimed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*claim_params, *event_params, *alert_params, *stale_params])
        return cursor.fetchone()[0]


def _insert_per_promise(row, source: str, *, ignore_conflicts=False) -> tuple[str, list]:
    """An INSERT ... SELECT of a copy of the unsaved ``row`` per promise of ``source``.

    ``source`` names rows with the promise table's columns; a field of ``row``
    holding ``F("<promise field>")`` takes that column's value, every other field
    the value ``row`` holds (its default when its builder set none), so the
    statement stays right when the model grows a field.
    """
    model = type(row)
    quote = connection.ops.quote_name
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        value = getattr(row, field.attname)
        values.append(_value_sql(value, field, params, source=Promise, prefix="p."))
    # As Django's own INSERT compiler says "ignore conflicts".
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = (
        f"{connection.ops.insert_statement(on_conflict=on_conflict)} "
        f"{quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source} p "
        f"{connection.ops.on_conflict_suffix_sql([], on_conflict, [], [])}"
    )
    return sql, params
