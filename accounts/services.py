"""Writes to teams, users, accounts and contacts, and the stale-health mark."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import USERNAME_TAKEN, Account, Contact, Team, User, normalize_username
from relcrm import queue, task_names


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
    if settings.RELCRM_RECOMPUTE_ON_WRITE:
        # Sent by name: the trust app sits above this one and is never imported here.
        queue.send_on_commit(task_names.COMPUTE_ACCOUNT_HEALTH, account_id)


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
    """Create a rep, a lead (both need a team) or an admin (no team).

    The username is stored in its normal spelling (``normalize_username``) and must differ
    from every other one in more than case.
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
