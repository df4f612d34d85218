"""REST endpoints for CSV exports of every resource's list."""

from collections.abc import Sequence

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.pagination import BasePagination
from rest_framework.renderers import BaseRenderer, JSONRenderer

from accounts.api import AccountViewSet, ContactViewSet
from imports.export import csv_response
from interactions.api import InteractionViewSet
from promises.api import AlertViewSet, PromiseViewSet


class CsvExportMixin:
    """``GET .../export/``: the list's rows as CSV, through the list's own scope and filters.

    Put before a resource's viewset: the queryset, the filters and the JSON
    function are that viewset's, so an export holds exactly what the list pages
    through. Rows come in id order, as they were created.
    """

    # Every row at once: no page, and no page parameters in the schema.
    pagination_class: type[BasePagination] | None = None
    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]
    export_name = ""

    def perform_content_negotiation(self, request, force=False):
        # The CSV is streamed as it is, whatever the client accepts (text/csv, */*, a
        # browser's text/html); only an error is rendered, as JSON like every error.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="A header row of the API's field names, then one row per object; "
                "a list is its ids joined by ';', a time ISO 8601 with its offset.",
            )
        }
    )
    def list(self, request, *args, **kwargs):
        """The list's objects as CSV, streamed: the list's filters, all pages at once."""
        queryset = self.filter_queryset(self.get_queryset()).order_by("id")
        return csv_response(self.get_serializer_class(), queryset, name=self.export_name)


class AccountExportView(CsvExportMixin, AccountViewSet):
    export_name = "accounts"


class ContactExportView(CsvExportMixin, ContactViewSet):
    export_name = "contacts"


# The timeline's pagination class is replaced by none, as for every export.
class InteractionExportView(CsvExportMixin, InteractionViewSet):  # type: ignore[misc]
    export_name = "interactions"


class PromiseExportView(CsvExportMixin, PromiseViewSet):
    export_name = "promises"


class AlertExportView(CsvExportMixin, AlertViewSet):
    export_name = "alerts"


EXPORTS = {
    "accounts": AccountExportView,
    "contacts": ContactExportView,
    "interactions": InteractionExportView,
    "promises": PromiseExportView,
    "alerts": AlertExportView,
}
