"""Reads shared by the API and the web UI, scoped to what a user may see.

The team scope is applied here, once: every endpoint and page starts from one
of these querysets, so a forgotten filter shows nothing rather than everything.
"""

from typing import cast

from django.db.models import Q, QuerySet

from accounts.models import Account, AccountQuerySet, ApiToken, Contact, Team, User


def visible_to(queryset: QuerySet, user, *, via: str = "account") -> QuerySet:
    """Restrict ``queryset`` to rows whose account ``user`` may see.

    ``via`` is the lookup path from the queryset's model to its Account ("" for
    Account itself). Reps and leads see their own team's active accounts; admins
    see every active account; anybody else sees nothing.
    """
    prefix = f"{via}__" if via else ""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    queryset = queryset.filter(**{f"{prefix}archived_at__isnull": True})
    if user.is_superuser:
        return queryset
    if user.team_id is None:
        return queryset.none()
    return queryset.filter(**{f"{prefix}team_id": user.team_id})


def accounts_visible_to(user) -> QuerySet[Account]:
    return visible_to(Account.objects.all(), user, via="")


def contacts_visible_to(user) -> QuerySet[Contact]:
    return visible_to(Contact.objects.all(), user)


def contacts_of(user, account: Account) -> QuerySet[Contact]:
    """The people at ``account`` that ``user`` may see, by name."""
    return contacts_visible_to(user).filter(account=account)


def accounts_matching(accounts: QuerySet[Account], text: str) -> QuerySet[Account]:
    """Those of ``accounts`` whose name or domain contains ``text`` (any case)."""
    return accounts.filter(Q(name__icontains=text) | Q(domain__icontains=text))


def accounts_in_band(accounts: QuerySet[Account], band: str) -> AccountQuerySet:
    """Those of ``accounts`` whose latest health is in ``band``; "none": not computed yet."""
    # Every queryset of accounts is an AccountQuerySet (the model's manager makes them).
    return cast(AccountQuerySet, accounts).in_band(band)


def contacts_matching(contacts: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Those of ``contacts`` whose first or last name, e-mail or phone contains ``text``."""
    return contacts.filter(
        Q(first_name__icontains=text)
        | Q(last_name__icontains=text)
        | Q(email__icontains=text)
        | Q(phone__icontains=text)
    )


def teams_visible_to(user) -> QuerySet[Team]:
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(pk=user.team_id) if user.team_id else Team.objects.none()


def users_visible_to(user) -> QuerySet[User]:
    """Active users of the caller's team (all of them for admins)."""
    if not getattr(user, "is_authenticated", False):
        return User.objects.none()
    users = User.objects.filter(is_active=True).select_related("team")
    if user.is_superuser:
        return users
    return users.filter(team_id=user.team_id) if user.team_id else users.filter(pk=user.pk)


def account_owner_choices(user, *, team_id: int | None = None) -> QuerySet[User]:
    """Whom ``user`` may make an account's owner: active members of a team they see.

    With ``team_id``, members of that team only (an account's owner is in its team).
    """
    owners = users_visible_to(user).filter(team__isnull=False)
    if team_id is not None:
        owners = owners.filter(team_id=team_id)
    return owners.order_by("team__name", "first_name", "last_name", "username")


def team_leads(team_id: int) -> QuerySet[User]:
    return User.objects.leads().filter(team_id=team_id)


def tokens_of(user) -> QuerySet[ApiToken]:
    """``user``'s own API tokens that are not revoked, newest first: only ever their own."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.unrevoked().filter(user=user)
