"""Admin pages for interactions: for reading and support, never for writing.

An interaction is evidence the trust model reads, logged together with the
commitments made in it (``promises.services.log_interaction``) and corrected
through the web UI or the API, which keep answer times and health in step.
The table is the biggest of all, so the list counts it by estimate and searches
only by account name or exact external id.
"""

from django.contrib import admin
from django.template.defaultfilters import truncatechars

from accounts.admin import (
    EstimatedCountPaginator,
    ReadOnlyAdminMixin,
    RelatedPathFilter,
    changelist_link,
)
from interactions.models import Interaction


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "account",
        "kind",
        "direction",
        "sentiment",
        "logged_by",
        "short_summary",
    ]
    list_filter = ["kind", "direction", "sentiment", ("account__team", RelatedPathFilter)]
    list_select_related = ["account", "logged_by"]
    search_fields = ["account__name", "=external_id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = readonly_fields = (
        "account",
        "kind",
        "direction",
        "occurred_at",
        "summary",
        "sentiment",
        "contacts",
        "logged_by",
        "external_id",
        "answered_at",
        "promises",
        "created_at",
        "updated_at",
    )

    @admin.display(description="summary")
    def short_summary(self, interaction):
        return truncatechars(interaction.summary, 80)

    @admin.display(description="promises made in it")
    def promises(self, interaction):
        return changelist_link(
            "promises.promise", "promises", interaction__id__exact=interaction.pk
        )
