"""Writes to teams, users, accounts and contacts, and the stale-health mark."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, Contact, Team, User
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


def revoke_token(token) -> None:
    """Revoke an API token; requests bearing it are refused from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
