"""Writes to teams, users, accounts and contacts, and the stale-health mark."""

import logging

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact, Team, User
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
) -> User:
    """Create a rep, a lead (both need a team) or an admin (no team)."""
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
    user.save()
    return user


def create_account(
    *, name: str, owner: User, team: Team | None = None, domain: str = ""
) -> Account:
    """Create an account; the team defaults to the owner's."""
    team = team or owner.team
    if team is None:
        raise ValidationError({"team": ["This field is required when the owner has no team."]})
    if owner.team_id != team.pk and not owner.is_superuser:
        raise ValidationError({"owner": ["The owner must be a member of the account's team."]})
    return Account.objects.create(name=name, domain=domain, owner=owner, team=team)


def update_account(account: Account, **fields) -> Account:
    """Change an account's name, domain, owner or team (the owner must be in the team)."""
    for name, value in fields.items():
        setattr(account, name, value)
    owner = account.owner
    if owner.team_id != account.team_id and not owner.is_superuser:
        raise ValidationError({"owner": ["The owner must be a member of the account's team."]})
    account.save()
    return account


def archive_account(account: Account) -> Account:
    """Hide an account and everything under it; its history is kept."""
    if account.archived_at is None:
        account.archived_at = timezone.now()
        account.save(update_fields=["archived_at", "updated_at"])
    return account


def create_contact(*, account: Account, **fields) -> Contact:
    return Contact.objects.create(account=account, **fields)


def update_contact(contact: Contact, **fields) -> Contact:
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save()
    return contact


def delete_contact(contact: Contact) -> None:
    """Delete a contact; interactions and promises keep their history without it."""
    contact.delete()


def revoke_token(token) -> None:
    """Revoke an API token; requests bearing it are refused from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
