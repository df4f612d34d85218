"""Teams and their people, the customer accounts they own, and API tokens."""

import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class Team(models.Model):
    """A group of reps with one or more leads; the unit of visibility."""

    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def normalize_username(raw: str) -> str:
    """A username as stored: NFKC (full-width and compatibility letters become plain ones), trimmed.

    Sign-in, the sign-in throttle and the uniqueness of usernames all start from this, and
    compare it without regard to case (``username_key``), so that no other spelling of a
    name signs in as its owner or counts in a throttle bucket of its own.
    """
    return unicodedata.normalize("NFKC", raw).strip()


def username_key(raw: str) -> str:
    """What a username is compared by: its normal spelling, in lower case."""
    return normalize_username(raw).lower()


class UserManager(DjangoUserManager["User"]):
    def named(self, raw: str) -> "models.QuerySet[User]":
        """The user (at most one) whose username is ``raw`` in any spelling.

        The database's ``lower(username)``, which the case-insensitive unique index holds
        (a sign-in is one index probe), is compared with the key computed here: so every
        name that signs in as a user has one and the same key, the one the throttle counts.
        """
        return self.alias(username_lower=Lower("username")).filter(username_lower=username_key(raw))

    def get_by_natural_key(self, username):
        # Every sign-in (API token, sign-in form, admin) finds its user here.
        return self.named(str(username)).get()

    def leads(self) -> "models.QuerySet[User]":
        """Active leads of a team: who ``User.is_lead`` says of one, and who can act on it."""
        return self.filter(
            team_role=User.Role.LEAD, team__isnull=False, is_superuser=False, is_active=True
        )


USERNAME_TAKEN = "A user with that username already exists."


class User(AbstractUser):
    """A person who signs in: a rep or a lead of one team, or an admin (superuser)."""

    class Role(models.TextChoices):
        REP = "rep", "Rep"
        LEAD = "lead", "Lead"

    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    # Stored for reps and leads; an admin is recognised by is_superuser and
    # belongs to no team.
    team_role = models.CharField("role", max_length=8, choices=Role.choices, default=Role.REP)

    objects: ClassVar[UserManager] = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=Q(team_role__in=["rep", "lead"]), name="user_role_valid"
            ),
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_case_insensitive",
                violation_error_message=USERNAME_TAKEN,
            ),
        ]

    @classmethod
    def normalize_username(cls, username):
        # Django calls this when it creates a user (createsuperuser, the admin's forms).
        return normalize_username(username) if isinstance(username, str) else username

    @property
    def role(self) -> str:
        return "admin" if self.is_superuser else self.team_role

    @property
    def is_admin(self) -> bool:
        return self.is_superuser

    @property
    def is_lead(self) -> bool:
        return not self.is_superuser and self.team_role == self.Role.LEAD and bool(self.team_id)

    @property
    def is_reviewer(self) -> bool:
        """A lead or an admin: reviews alerts and sees the team's pages."""
        return self.is_lead or self.is_superuser

    @property
    def role_description(self) -> str:
        """The role and where it holds, as the audit log words it: "lead of Enterprise"."""
        if self.is_superuser:
            return "admin"
        return f"{self.team_role} of {self.team.name if self.team else 'no team'}"


class AccountQuerySet(models.QuerySet["Account"]):
    def active(self) -> "AccountQuerySet":
        return self.filter(archived_at__isnull=True)

    def in_band(self, band: str) -> "AccountQuerySet":
        """Those whose latest health is in ``band`` (an ``Account.Band``); "none": not computed."""
        if band == "none":
            return self.filter(health_score__isnull=True)
        return self.filter(band_condition(band))


def band_condition(band: str) -> Q:
    """The latest health is in ``band``, as a condition to filter or count by."""
    return Q(health_band=band)


class Account(models.Model):
    """The customer. The account *is* the relationship whose trust health is computed."""

    class Band(models.TextChoices):
        """The names of the health bands; their thresholds are ``trust.model.Params``'s."""

        HEALTHY = "healthy", "Healthy"
        WATCH = "watch", "Watch"
        AT_RISK = "at_risk", "At risk"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, default="")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_accounts")
    # Indexed by account_team_name / account_team_active (team first).
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="accounts", db_index=False
    )
    # The account's id in another system (a CRM it came from, an ERP), for
    # integrations and re-imports. NULL, not "", when absent: the per-team unique
    # constraint skips NULLs.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Archiving hides the relationship everywhere but keeps its history.
    archived_at = models.DateTimeField(null=True, blank=True)

    # Set (in the same transaction) by every write that should refresh health;
    # cleared by the recompute that saw it. The periodic job picks up every
    # stale account, so a lost recompute message costs only a delay. Deliberately
    # not indexed: that job walks the accounts by id anyway, and a mark that
    # touches no index can be a HOT update, cheap for every write and the sweep.
    health_stale_at = models.DateTimeField(null=True, blank=True)
    # The latest health, denormalised from the newest TrustSnapshot so that
    # account lists need no join.
    health_score = models.FloatField(null=True, blank=True)
    health_band = models.CharField(max_length=16, blank=True, default="")
    health_confidence = models.FloatField(null=True, blank=True)
    health_computed_at = models.DateTimeField(null=True, blank=True)
    # Fingerprint of the latest snapshot's content: an unchanged health stores no new row.
    health_digest = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = AccountQuerySet.as_manager()
    # Not a column: the latest (computed_at, score) pairs that list pages attach for a
    # sparkline (trust.selectors.attach_trends).
    trend: list[tuple[datetime, float]]

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["team", "name"], name="account_team_name"),
            # A team's active accounts, newest first: the API's list and every
            # team-scoped join (visible_to) probe this index.
            models.Index(
                fields=["team", "-id"],
                name="account_team_active",
                condition=Q(archived_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "external_id"],
                condition=Q(external_id__isnull=False),
                name="account_external_id_unique_per_team",
            ),
            models.CheckConstraint(
                condition=Q(health_score__isnull=True)
                | Q(health_score__gte=0, health_score__lte=100),
                name="account_health_score_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Contact(models.Model):
    """A person at an account."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )  # indexed by contact_account_name
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    title = models.CharField(max_length=120, blank=True, default="")
    # The person's id in another system; unique in the account (NULLs skipped).
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["account", "last_name"], name="contact_account_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=Q(external_id__isnull=False),
                name="contact_external_id_unique_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def full_name(self) -> str:
        return str(self)


LAST_USED_EVERY = timedelta(minutes=1)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def unrevoked(self) -> "ApiTokenQuerySet":
        """Not revoked (an expired token is listed too, so its owner sees that it expired)."""
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for the API, stored hashed.

    The clear token is ``<prefix>.<secret>``; only the prefix (to find the row)
    and a SHA-256 of the whole token are kept. The secret has 256 bits of
    entropy, so a fast hash is enough: there is nothing to brute-force.
    """

    PREFIX_LENGTH = 12
    #: The longest lifetime a token may be given, in days (ten years).
    MAX_DAYS = 3650

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ_WRITE)
    # None: the token lives until it is revoked.
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A user's own tokens, as their token page and GET /auth/tokens/ list them.
            models.Index(
                fields=["user", "-created_at"],
                name="apitoken_user_live",
                condition=Q(revoked_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["read", "read_write"]), name="apitoken_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(
        cls,
        user: User,
        *,
        name: str = "",
        scope: str = Scope.READ_WRITE,
        expires_at: datetime | None = None,
    ) -> tuple["ApiToken", str]:
        """Create a token for ``user``; returns the row and the clear token (shown once)."""
        prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
        clear = f"{prefix}.{secrets.token_urlsafe(32)}"
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=_hash_secret(clear),
            scope=scope,
            expires_at=expires_at,
        )
        return token, clear

    @classmethod
    def find(cls, clear: str) -> "ApiToken | None":
        """The live token matching ``clear``, or None."""
        prefix, sep, _ = clear.partition(".")
        if not sep or len(prefix) != cls.PREFIX_LENGTH:
            return None
        token = _live_token_with_user(prefix)
        if token is None or not hmac.compare_digest(token.key_hash, _hash_secret(clear)):
            return None
        return token

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @property
    def may_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE

    def needs_last_used(self, now: datetime) -> bool:
        """Whether a request at ``now`` should record itself as the token's last use.

        At most once a minute: a write on every request would cost the API's
        throughput, and "last used" to the minute is what its owner reads.
        """
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_EVERY


def _live_token_with_user(prefix: str) -> ApiToken | None:
    """The unrevoked token with this prefix, its user loaded with it; None if there is none.

    Every API request asks this. The statement is written once, below, and its
    row becomes the two instances as the ORM would build them (``from_db``;
    nothing there needs converting): building the same query through a
    queryset took 0.5 ms a request, seven round trips' worth.
    """
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_WITH_USER, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_TOKEN_FIELDS)
    token = ApiToken.from_db(connection.alias, _TOKEN_FIELDS, row[:split])
    user = User.from_db(connection.alias, _USER_FIELDS, row[split:])
    ApiToken.user.field.set_cached_value(token, user)
    return token


_TOKEN_FIELDS = [field.attname for field in ApiToken._meta.concrete_fields]
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
_TOKEN_WITH_USER = (
    "SELECT "
    + ", ".join(
        [f't."{field.column}"' for field in ApiToken._meta.concrete_fields]
        + [f'u."{field.column}"' for field in User._meta.concrete_fields]
    )
    + f' FROM "{ApiToken._meta.db_table}" t JOIN "{User._meta.db_table}" u ON u.id = t.user_id'
    + " WHERE t.prefix = %s AND t.revoked_at IS NULL"
)


class AuditEventKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    ROLE_CHANGED = "role_changed", "Role changed"


class AuditEvent(models.Model):
    """One entry of the audit log: a sign-in, a failed one, a token created or revoked, a role
    changed; who it concerns, who acted, when and from which address.

    Written by ``accounts.services`` (and for sign-ins by Django's sign-in signals), read by
    admins in the admin, and never changed: the admin shows it read-only. The username is
    kept as text beside the user, so an entry still says whom it was about once the user is
    gone, and a failed sign-in says which name was tried even when no such user exists.
    """

    Kind = AuditEventKind

    at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    username = models.CharField(max_length=150, blank=True, default="")
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who acted: the user signing in, the admin changing a role; none for a command.",
    )
    address = models.CharField(max_length=64, blank=True, default="")
    detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at", "-id"], name="auditevent_newest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AuditEventKind.values), name="auditevent_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or '?'} at {self.at:%Y-%m-%d %H:%M}"
