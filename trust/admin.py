"""Admin page for trust snapshots: computed by the trust jobs, only ever read here."""

import json

from django.contrib import admin
from django.utils.html import format_html

from accounts.admin import EstimatedCountPaginator, ReadOnlyAdminMixin
from trust.models import TrustSnapshot


@admin.register(TrustSnapshot)
class TrustSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["account", "computed_at", "as_of", "score", "band", "confidence"]
    list_filter = ["band"]
    list_select_related = ["account"]
    search_fields = ["account__name"]
    fields = readonly_fields = (
        "account",
        "computed_at",
        "as_of",
        "score",
        "band",
        "confidence",
        "explanation_text",
        "components_json",
    )
    # Newest first by the primary key: a nightly run adds a snapshot per account,
    # and sorting millions of them by time on every page load is not cheap.
    ordering = ["-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    @admin.display(description="explanation")
    def explanation_text(self, snapshot):
        return format_html("<pre>{}</pre>", json.dumps(snapshot.explanation, indent=2))

    @admin.display(description="components")
    def components_json(self, snapshot):
        return format_html("<pre>{}</pre>", json.dumps(snapshot.components, indent=2))
