"""Admin pages for promises, their events and alerts.

A promise's status, its times and its events change only through
``promises.services``: here through the actions "Mark kept" and "Release"
(renegotiating and breaking take a date or a note for the customer, so they
live in the web UI and the API). Events are never edited or deleted. Alerts are
acknowledged and resolved through the same services a lead uses.
"""

from datetime import timedelta

from django.contrib import admin
from django.template.defaultfilters import truncatechars
from django.utils import timezone

from accounts.admin import (
    EstimatedCountPaginator,
    ReadOnlyAdminMixin,
    RelatedPathFilter,
    service_action,
)
from promises import services
from promises.models import Alert, Promise, PromiseEvent

EVENT_FIELDS = ("kind", "at", "by", "note", "old_due_at", "new_due_at")


# --- promises ---------------------------------------------------------------------------


class PromiseEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The promise's history, oldest first, as the API's ``/events/`` shows it."""

    model = PromiseEvent
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
    ordering = ["at", "id"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue (open, past due)"), ("soon", "Open, due within 24 hours")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "soon":
            return queryset.due_between(now, now + timedelta(days=1))
        return queryset


class KeptFilter(admin.SimpleListFilter):
    title = "kept"
    parameter_name = "kept"

    def lookups(self, request, model_admin):
        return [("on_time", "On time"), ("late", "Late")]

    def queryset(self, request, queryset):
        if self.value() == "on_time":
            return queryset.kept_on_time()
        if self.value() == "late":
            return queryset.kept_late()
        return queryset


PROMISE_ORIGIN_FIELDS = ("account", "contact", "interaction", "owner")
PROMISE_STATUS_FIELDS = (
    "status",
    "due_at",
    "kept_at",
    "kept_on_time",
    "broken_at",
    "broken_disclosed",
    "released_at",
    "renegotiated_count",
    "repaired_at",
    "reminded_for_due_at",
    "created_at",
    "updated_at",
)


@admin.register(Promise)
class PromiseAdmin(admin.ModelAdmin):
    list_display = [
        "short_description",
        "account",
        "owner",
        "due_at",
        "status",
        "kept_on_time",
    ]
    list_filter = [
        "status",
        DueFilter,
        KeptFilter,
        "broken_disclosed",
        ("owner__team", RelatedPathFilter),
    ]
    list_select_related = ["account", "owner"]
    search_fields = ["description", "account__name"]
    # Newest first: an index scan, where sorting half a million rows by due time is not.
    ordering = ["-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["description", *PROMISE_ORIGIN_FIELDS]}),
        (
            "Status (changed only by the actions, so that every change is an event)",
            {"fields": PROMISE_STATUS_FIELDS},
        ),
    ]
    # Only the wording of what was promised is edited here (through the service).
    readonly_fields = [*PROMISE_ORIGIN_FIELDS, *PROMISE_STATUS_FIELDS]
    inlines = [PromiseEventInline]
    actions = [
        service_action(
            "keep",
            "Mark the selected promises kept (now)",
            lambda promise, user: services.keep_promise(promise, by=user),
            done="Kept",
        ),
        service_action(
            "release",
            "Release the selected promises",
            lambda promise, user: services.release_promise(
                promise, by=user, note="Released in the admin."
            ),
            done="Released",
        ),
    ]

    @admin.display(description="description", ordering="description")
    def short_description(self, promise):
        return truncatechars(promise.description, 80)

    @admin.display(description="kept on time", boolean=True)
    def kept_on_time(self, promise):
        return promise.kept_on_time

    def has_add_permission(self, request):
        # Promises are made in interactions, by the people who made them (UI, API).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.update_promise(obj, description=form.cleaned_data["description"])


@admin.register(PromiseEvent)
class PromiseEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["promise", "kind", "at", "by", "note"]
    list_filter = ["kind"]
    list_select_related = ["promise", "by"]
    search_fields = ["promise__description", "=promise__id"]
    ordering = ["-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False


# --- alerts -----------------------------------------------------------------------------


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "kind",
        "status",
        "account",
        "promise",
        "created_at",
        "acknowledged_by",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = ["status", "kind", ("account__team", RelatedPathFilter)]
    list_select_related = ["account", "promise", "acknowledged_by", "resolved_by"]
    search_fields = ["account__name", "promise__description"]
    show_full_result_count = False
    actions = [
        service_action(
            "acknowledge",
            "Acknowledge the selected alerts",
            lambda alert, user: services.acknowledge_alert(alert, by=user),
            done="Acknowledged",
            permission="review",
        ),
        service_action(
            "resolve",
            "Resolve the selected alerts",
            lambda alert, user: services.resolve_alert(
                alert, by=user, note="Resolved in the admin."
            ),
            done="Resolved",
            permission="review",
        ),
    ]

    def has_review_permission(self, request):
        # The services check the rest: only the team's leads and admins review.
        return request.user.has_perm("promises.change_alert")
