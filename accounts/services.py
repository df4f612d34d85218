"""Writes to teams, users, accounts, contacts and API tokens, the audit log, and the
stale-health mark."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import (
    USERNAME_TAKEN,
    Account,
    ApiToken,
    AuditEvent,
    Contact,
    Team,
    User,
    normalize_username,
)
from relcrm import queue, task_names

logger = logging.getLogger(__name__)

# Seconds a recompute asked for and not yet started stops further asks for its account.
RECOMPUTE_ASKED_FOR = 60


def stale_mark() -> dict:
    """The fields a write sets on its account to have its health recomputed.

    Always the latest write's time: a recompute clears the mark only if it
    started after it (``health_stale_at <= started``), so no write is lost. The
    overdue sweep sets the same on many accounts at once.
    """
    return {"health_stale_at": timezone.now()}


def mark_health_stale(account_id: int) -> None:
    """Mark an account's health stale and, after commit, ask for its recompute.

    Must run inside the transaction of the write it follows. If the broker is
    unreachable the write still commits: the periodic job recomputes every
    stale account, so the message being lost costs only a delay.
    """
    Account.objects.filter(pk=account_id).update(**stale_mark())
    ask_for_recompute(account_id)


def ask_for_recompute(account_id: int) -> None:
    """After commit, ask a worker to recompute the account's health, unless already asked.

    For a write that set the account's ``stale_mark()`` itself, inside its own
    statement; ``mark_health_stale`` does both.
    """
    if settings.RELCRM_RECOMPUTE_ON_WRITE:
        transaction.on_commit(lambda: _ask_once(account_id))


def _asked_key(account_id: int) -> str:
    """The cache key that says a recompute of the account was asked for and has not started."""
    return f"recompute-asked:{account_id}"


def recompute_started(account_id: int) -> None:
    """Called by the recompute before it reads: the next write to the account asks again."""
    if settings.RELCRM_RECOMPUTE_ASK_ONCE:
        try:
            cache.delete(_asked_key(account_id))
        except Exception:  # the key expires by itself; the recompute goes on
            logger.warning("could not clear the recompute asked for", exc_info=True)


def _ask_once(account_id: int) -> None:
    """Send the recompute, unless one was asked for and has not started yet.

    A burst of writes to one account (a call logged, then its promises kept, or an
    integration syncing a day of calls) then costs one recompute, not one per
    write, and each write after the first skips the broker's publish, which was
    0.6 of the 5.4 ms of CPU that ``POST /interactions/`` spent (docs/architecture.md,
    "Why each optimisation"). The recompute deletes the key before it reads, so a
    write that committed after that sends again, and none is missed. Only with
    a cache that the workers share (``RELCRM_RECOMPUTE_ASK_ONCE``, on with Redis);
    the key expires, so a lost message delays the next one by ``RECOMPUTE_ASKED_FOR``.
    """
    if settings.RELCRM_RECOMPUTE_ASK_ONCE:
        try:
            if not cache.add(_asked_key(account_id), 1, RECOMPUTE_ASKED_FOR):
                return
        except Exception:  # the cache being away must not cost the recompute
            logger.warning("could not note the recompute asked for; sending it", exc_info=True)
    # Sent by name: the trust app sits above this one and is never imported here.
    queue.send(task_names.COMPUTE_ACCOUNT_HEALTH, account_id)


def check_external_id(others: QuerySet, external_id: str | None, *, taken: str) -> str | None:
    """The external id to store (None for none), refused when one of ``others`` has it.

    ``others`` are the rows it must be unique among (the team's accounts, the
    account's contacts, ...; without the row being changed); ``taken`` is the
    message. The unique constraint is the last line, against a concurrent write.
    """
    external_id = external_id or None
    if external_id is not None and others.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": [taken]})
    return external_id


ACCOUNT_EXTERNAL_ID_TAKEN = "Another account of this team has this external id."
CONTACT_EXTERNAL_ID_TAKEN = "Another contact of this account has this external id."


def create_team(*, name: str) -> Team:
    """Create a team (admins only; the API checks the role)."""
    return Team.objects.create(name=name)


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    email: str = "",
    team: Team | None = None,
    role: str = User.Role.REP,
    first_name: str = "",
    last_name: str = "",
    by: User | None = None,
    address: str = "",
) -> User:
    """Create a rep, a lead (both need a team) or an admin (no team).

    The username is stored in its normal spelling (``normalize_username``) and must differ
    from every other one in more than case. The role given is recorded in the audit log, as
    given ``by`` whom from ``address``.
    """
    username = normalize_username(username)
    if User.objects.named(username).exists():
        raise ValidationError({"username": [USERNAME_TAKEN]})
    if role == "admin":
        if team is not None:
            raise ValidationError({"team": ["An admin belongs to no team."]})
        user = User(username=username, email=email, is_superuser=True, is_staff=True)
    else:
        if team is None:
            raise ValidationError({"team": ["A rep or lead needs a team."]})
        user = User(username=username, email=email, team=team, team_role=role)
    user.first_name, user.last_name = first_name, last_name
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": list(error.messages)}) from error
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        # Taken by a concurrent request since the check above.
        raise ValidationError({"username": [USERNAME_TAKEN]}) from error
    record_role_change(user, before="", by=by, address=address)
    return user


def create_account(
    *,
    name: str,
    owner: User,
    team: Team | None = None,
    domain: str = "",
    external_id: str | None = None,
) -> Account:
    """Create an account; the team defaults to the owner's."""
    team = team or owner.team
    if team is None:
        raise ValidationError({"team": ["This field is required when the owner has no team."]})
    if owner.team_id != team.pk and not owner.is_superuser:
        raise ValidationError({"owner": ["The owner must be a member of the account's team."]})
    external_id = check_external_id(
        Account.objects.filter(team=team), external_id, taken=ACCOUNT_EXTERNAL_ID_TAKEN
    )
    return Account.objects.create(
        name=name, domain=domain, owner=owner, team=team, external_id=external_id
    )


def update_account(account: Account, **fields) -> Account:
    """Change an account's name, domain, owner, team or external id (owner in the team)."""
    for name, value in fields.items():
        setattr(account, name, value)
    owner = account.owner
    if owner.team_id != account.team_id and not owner.is_superuser:
        raise ValidationError({"owner": ["The owner must be a member of the account's team."]})
    account.external_id = check_external_id(
        Account.objects.filter(team_id=account.team_id).exclude(pk=account.pk),
        account.external_id,
        taken=ACCOUNT_EXTERNAL_ID_TAKEN,
    )
    account.save()
    return account


def archive_account(account: Account) -> Account:
    """Hide an account and everything under it; its history is kept."""
    if account.archived_at is None:
        account.archived_at = timezone.now()
        account.save(update_fields=["archived_at", "updated_at"])
    return account


def create_contact(*, account: Account, external_id: str | None = None, **fields) -> Contact:
    """Add a person to an account (an external id is unique in the account)."""
    external_id = check_external_id(
        account.contacts.all(), external_id, taken=CONTACT_EXTERNAL_ID_TAKEN
    )
    return Contact.objects.create(account=account, external_id=external_id, **fields)


def update_contact(contact: Contact, **fields) -> Contact:
    """Correct a contact's names, e-mail, phone, title or external id."""
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.external_id = check_external_id(
        Contact.objects.filter(account_id=contact.account_id).exclude(pk=contact.pk),
        contact.external_id,
        taken=CONTACT_EXTERNAL_ID_TAKEN,
    )
    contact.save()
    return contact


def delete_contact(contact: Contact) -> None:
    """Delete a contact; interactions and promises keep their history without it."""
    contact.delete()


# --- API tokens ----------------------------------------------------------------------------


def _token_label(token: ApiToken) -> str:
    return f"{token.prefix}… ({token.name})" if token.name else f"{token.prefix}…"


TOKEN_DAYS_MESSAGE = f"A whole number of days from 1 to {ApiToken.MAX_DAYS}."


@transaction.atomic
def issue_token(
    user: User,
    *,
    name: str,
    by: User | None,
    address: str = "",
    via: str = "",
    scope: str = ApiToken.Scope.READ_WRITE,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for ``user`` and record it; returns the row and the clear token.

    ``by`` is who asked for it (None for a command run on the server), ``via`` how.
    ``scope`` is ``read`` or ``read_write``; ``expires_in_days`` (1 to
    ``ApiToken.MAX_DAYS``), when given, ends its life that many days from now.
    A value outside these is a ``ValidationError`` on its field.
    """
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": [f'"{scope}" is not a scope: read or read_write.']})
    expires_at = None
    if expires_in_days is not None:
        if (
            isinstance(expires_in_days, bool)
            or not isinstance(expires_in_days, int)
            or not 1 <= expires_in_days <= ApiToken.MAX_DAYS
        ):
            raise ValidationError({"expires_in_days": [TOKEN_DAYS_MESSAGE]})
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    token, clear = ApiToken.issue(user, name=name, scope=scope, expires_at=expires_at)
    detail = (
        _token_label(token)
        + f", {token.scope}"
        + (f", expires {token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "")
        + (f", by {via}" if via else "")
    )
    record_audit_event(
        AuditEvent.Kind.TOKEN_CREATED, user=user, actor=by, address=address, detail=detail
    )
    return token, clear


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User | None = None, address: str = "") -> None:
    """Revoke an API token; requests bearing it are refused from now on. Recorded once."""
    now = timezone.now()
    # A conditional update: of two revocations at once, one revokes and one records.
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        token.revoked_at = now
        record_audit_event(
            AuditEvent.Kind.TOKEN_REVOKED,
            user=token.user,
            actor=by,
            address=address,
            detail=_token_label(token),
        )


# --- the audit log --------------------------------------------------------------------------


def record_audit_event(
    kind: str,
    *,
    user: User | None = None,
    username: str = "",
    actor: User | None = None,
    address: str = "",
    detail: str = "",
) -> AuditEvent:
    """Append one entry to the audit log (``AuditEvent``); the username defaults to the user's."""
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        actor=actor,
        address=address[:64],
        detail=detail[:300],
    )


def record_sign_in(user: User, *, address: str, detail: str = "") -> AuditEvent:
    """Record that ``user`` signed in from ``address``."""
    return record_audit_event(
        AuditEvent.Kind.SIGNED_IN, user=user, actor=user, address=address, detail=detail
    )


def record_failed_sign_in(typed: str, *, address: str) -> AuditEvent:
    """Record a sign-in refused for the username ``typed``: the user's, if one has that name."""
    user = User.objects.named(typed).first()
    username = user.username if user else normalize_username(typed)
    return record_audit_event(
        AuditEvent.Kind.SIGN_IN_FAILED,
        user=user,
        username=username,
        address=address,
        detail="" if typed == username else f"typed as {typed!r}",
    )


def record_role_change(
    user: User, *, before: str, by: User | None, address: str = ""
) -> AuditEvent | None:
    """Record ``user``'s role (``User.role_description``) if it is not ``before`` any more.

    ``before`` is the role described the same way, or "" for a user just created.
    """
    after = user.role_description
    if after == before:
        return None
    return record_audit_event(
        AuditEvent.Kind.ROLE_CHANGED,
        user=user,
        actor=by,
        address=address,
        detail=f"{before or 'new user'} → {after}",
    )
