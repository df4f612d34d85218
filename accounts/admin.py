"""Admin pages for teams, users, accounts, contacts and API tokens.

The admin is for the people who run relcrm, not the daily tool of reps and leads
(that is the web UI). Its pages must stay fast with 100,000 accounts and millions
of interactions: related columns are fetched with ``list_select_related``, big
foreign keys use autocomplete or raw-id widgets, and no filter lists a big table.
Every change of state goes through the apps' services, as it does from the API.

The helpers at the top are shared by the admin of every app (accounts is the
lowest app, so any admin may import from it).
"""

from typing import cast
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from accounts import services
from accounts.models import Account, ApiToken, AuditEvent, Contact, Team, User
from relcrm.api.throttling import client_address
from relcrm.errors import TransitionNotAllowed

admin.site.site_header = admin.site.site_title = "relcrm admin"
admin.site.index_title = "Tables"

# Below this many rows an exact COUNT(*) is cheap, and exact is better.
EXACT_COUNT_BELOW = 100_000


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered big table from the planner's statistics.

    The changelist counts its rows on every page; an exact ``COUNT(*)`` reads the
    whole table, which takes seconds over millions of interactions or snapshots.
    A filtered list (whose count the user reads as a result) is always exact.
    """

    @cached_property
    def count(self) -> int:
        # The admin's changelist always pages a QuerySet.
        queryset = cast(QuerySet, self.object_list)
        connection = connections[queryset.db]
        if not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            # reltuples is -1 before the table was first analysed.
            if row and row[0] >= EXACT_COUNT_BELOW:
                return row[0]
        return super().count


def run_transition(modeladmin, request, queryset, transition, *, done: str) -> None:
    """Apply one service call to each selected object and report what happened.

    ``transition(obj)`` is a service call (``keep_promise``, ``resolve_alert``,
    ...): each runs in its own transaction, so one refused object does not undo
    the others. Refusals are reported with the service's own words.
    """
    applied, refused = 0, []
    for obj in queryset:
        try:
            transition(obj)
        except TransitionNotAllowed as error:
            refused.append(f"{obj}: {error.detail}")
        except ValidationError as error:
            refused.append(f"{obj}: {' '.join(error.messages)}")
        except PermissionDenied as error:
            refused.append(f"{obj}: {error}")
        else:
            applied += 1
    if applied:
        modeladmin.message_user(request, f"{done}: {applied}.", messages.SUCCESS)
    for reason in refused:
        modeladmin.message_user(request, f"Not changed, {reason}", messages.WARNING)


class ReadOnlyAdminMixin:
    """For pages (and inlines) that show rows and never add, change or delete them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RelatedPathFilter(admin.RelatedFieldListFilter):
    """A related-field filter titled by its whole path: "owner team", not just "team"."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = field_path.replace("__", " ")


def service_action(name: str, description: str, transition, *, done: str, permission="change"):
    """An admin action that applies ``transition(obj, user)`` to each selected object.

    ``transition`` calls one service (``keep_promise``, ``revoke_token``, ...)
    on behalf of the admin who chose the action; see ``run_transition``.
    """

    @admin.action(description=description, permissions=[permission])
    def action(modeladmin, request, queryset):
        run_transition(
            modeladmin, request, queryset, lambda obj: transition(obj, request.user), done=done
        )

    action.__name__ = name
    return action


class TimeSetFilter(admin.SimpleListFilter):
    """Filters on whether a moment is recorded: "Archived" when ``archived_at`` is set."""

    field = ""
    unset_label = set_label = ""

    def lookups(self, request, model_admin):
        return [("no", self.unset_label), ("yes", self.set_label)]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


def changelist_link(model_label: str, text: str, **filters) -> str:
    """A link to an admin list filtered by ``filters`` (``account__id__exact=1``).

    ``model_label`` is ``"app_label.model_name"``, a string, so that a lower app's
    admin can link to a higher app's pages without importing it.
    """
    app_label, model_name = model_label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


# --- teams and users ----------------------------------------------------------------------


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at", "members", "accounts"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    @admin.display(description="members")
    def members(self, team):
        return changelist_link("accounts.user", "members", team__id__exact=team.pk)

    @admin.display(description="accounts")
    def accounts(self, team):
        return changelist_link("accounts.account", "accounts", team__id__exact=team.pk)


class TeamMembershipFormMixin:
    """A rep or lead belongs to exactly one team; an admin (superuser) to none."""

    def clean(self):
        cleaned = super().clean()
        is_superuser = cleaned.get("is_superuser", self.instance.is_superuser)
        team = cleaned.get("team")
        if is_superuser and team is not None:
            self.add_error("team", "An admin belongs to no team.")
        elif not is_superuser and team is None:
            self.add_error("team", "A rep or lead needs a team.")
        return cleaned


class UserChangeForm(TeamMembershipFormMixin, auth_forms.UserChangeForm):
    pass


class UserCreationForm(TeamMembershipFormMixin, auth_forms.AdminUserCreationForm):
    pass


DJANGO_USER_FIELDSETS = tuple(DjangoUserAdmin.fieldsets or ())


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        "team",
        "team_role",
        "is_superuser",
        "is_active",
        "last_login",
    ]
    list_filter = ["team", "team_role", "is_superuser", "is_active"]
    list_select_related = ["team"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = (
        *DJANGO_USER_FIELDSETS[:1],
        ("Team", {"fields": ("team", "team_role")}),
        *DJANGO_USER_FIELDSETS[1:],
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            "Team",
            {
                "classes": ("wide",),
                "fields": ("first_name", "last_name", "email", "team", "team_role"),
                "description": (
                    "Reps and leads belong to one team. An admin is created with "
                    "`manage.py createsuperuser` and belongs to no team."
                ),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        before = ""
        if change:
            before = User.objects.select_related("team").get(pk=obj.pk).role_description
        super().save_model(request, obj, form, change)
        services.record_role_change(
            obj, before=before, by=request.user, address=client_address(request)
        )


# --- accounts and contacts ----------------------------------------------------------------


class ArchivedFilter(TimeSetFilter):
    title = parameter_name = "archived"
    field = "archived_at"
    unset_label, set_label = "Active", "Archived"


CONTACT_FIELDS = ("first_name", "last_name", "title", "email", "phone")


class ContactInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The account's people, for reading; they are edited on their own page."""

    model = Contact
    fields = readonly_fields = CONTACT_FIELDS
    extra = 0
    show_change_link = True


class AccountAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        owner, team = cleaned.get("owner"), cleaned.get("team")
        if owner and team and owner.team_id != team.pk and not owner.is_superuser:
            self.add_error("owner", "The owner must be a member of the account's team.")
        return cleaned


class HealthBandFilter(admin.SimpleListFilter):
    """The bands as a fixed list: no DISTINCT over every account to build the filter."""

    title = "health"
    parameter_name = "band"

    def lookups(self, request, model_admin):
        return [*Account.Band.choices, ("none", "Not computed yet")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.in_band(self.value())
        return queryset


# The pages of an account's history, in the apps above this one.
ACCOUNT_HISTORY = [
    ("interactions.interaction", "interactions"),
    ("promises.promise", "promises"),
    ("promises.alert", "alerts"),
    ("trust.trustsnapshot", "health snapshots"),
]

ACCOUNT_HEALTH_FIELDS = (
    "health_band",
    "health_score",
    "health_confidence",
    "health_computed_at",
    "health_stale_at",
    "history",
)
# Archiving is the "Archive" action (through the service), not a field to edit.
ACCOUNT_TIME_FIELDS = ("created_at", "updated_at", "archived_at")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountAdminForm
    list_display = [
        "name",
        "domain",
        "team",
        "owner",
        "health_band",
        "health_score",
        "health_computed_at",
        "archived_at",
    ]
    list_filter = [ArchivedFilter, HealthBandFilter, "team"]
    list_select_related = ["team", "owner"]
    search_fields = ["name", "domain"]
    autocomplete_fields = ["owner"]
    fieldsets = [
        (None, {"fields": ["name", "domain", "team", "owner"]}),
        ("Trust health (computed by the trust jobs)", {"fields": ACCOUNT_HEALTH_FIELDS}),
        (None, {"fields": ACCOUNT_TIME_FIELDS}),
    ]
    readonly_fields = [*ACCOUNT_HEALTH_FIELDS, *ACCOUNT_TIME_FIELDS]
    inlines = [ContactInline]
    actions = [
        service_action(
            "archive",
            "Archive the selected accounts",
            lambda account, user: services.archive_account(account),
            done="Archived",
        )
    ]
    show_full_result_count = False

    @admin.display(description="history")
    def history(self, account):
        if account.pk is None:
            return "-"
        return format_html_join(
            " · ",
            "{}",
            (
                (changelist_link(model_label, text, account__id__exact=account.pk),)
                for model_label, text in ACCOUNT_HISTORY
            ),
        )

    def get_inlines(self, request, obj):
        # A new account has no contacts yet; they are added on the contact page.
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        # An account's history is evidence; archiving hides it and keeps it.
        return False

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("name", "domain", "owner", "team")}
        if change:
            services.update_account(obj, **fields)
        else:
            obj.pk = services.create_account(**fields).pk


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "account", "title", "email", "phone"]
    list_select_related = ["account"]
    search_fields = ["first_name", "last_name", "email", "phone", "account__name"]
    autocomplete_fields = ["account"]
    fields = ["account", *CONTACT_FIELDS]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # A contact never moves to another account (the API refuses it too).
        return ["account"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in CONTACT_FIELDS}
        if change:
            services.update_contact(obj, **fields)
        else:
            obj.pk = services.create_contact(account=form.cleaned_data["account"], **fields).pk

    def delete_model(self, request, obj):
        services.delete_contact(obj)


# --- API tokens ----------------------------------------------------------------------------


class RevokedFilter(TimeSetFilter):
    title = parameter_name = "revoked"
    field = "revoked_at"
    unset_label, set_label = "Active", "Revoked"


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Tokens are shown, never their hash. They are issued by the API or by
    ``manage.py createapitoken`` (the clear token is shown once), revoked here, and
    never deleted: a revoked row says who had access, and until when."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at", "active"]
    list_filter = [RevokedFilter]
    list_select_related = ["user"]
    search_fields = ["=prefix", "name", "user__username"]
    fields = readonly_fields = (
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        address = client_address(request)
        run_transition(
            self,
            request,
            queryset.select_related("user"),
            lambda token: services.revoke_token(token, by=request.user, address=address),
            done="Revoked",
        )

    @admin.display(description="active", boolean=True)
    def active(self, token):
        return token.is_active

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_apitoken")


# --- the audit log ------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every sign-in, failed sign-in, token created or revoked, and role change: read-only,
    for admins (or staff given "view audit event"). Nobody adds, changes or deletes one."""

    list_display = ["at", "kind", "username", "actor", "address", "detail"]
    list_filter = ["kind"]
    list_select_related = ["actor"]
    search_fields = ["username", "=address"]
    fields = readonly_fields = ("at", "kind", "user", "username", "actor", "address", "detail")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
