"""REST endpoints for CSV: every resource's list exported, and import jobs."""

import shutil
import tempfile
from collections.abc import Sequence

from django.core.files import File
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import BasePagination
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from accounts.api import AccountViewSet, ContactViewSet
from imports import services
from imports.export import csv_response
from imports.models import ImportJob
from imports.selectors import import_jobs_visible_to
from interactions.api import InteractionViewSet
from promises.api import AlertViewSet, PromiseViewSet
from relcrm.api.conditional import ConditionalMixin
from relcrm.api.rows import RowListMixin, RowSerializer, iso


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


# --- import jobs ---------------------------------------------------------------------------


IMPORT_JOB_COLUMNS = (
    "id", "resource", "status", "dry_run", "rows_total", "rows_done", "created", "updated",
    "errors", "created_at", "finished_at",
)  # fmt: skip


def import_jobs_json(rows: list[dict], tz=None) -> list[dict]:
    """An import job's JSON, for rows of ``IMPORT_JOB_COLUMNS``: every answer about jobs."""
    tz = tz or timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "resource": row["resource"],
            "status": row["status"],
            "dry_run": row["dry_run"],
            "rows_total": row["rows_total"],
            "rows_done": row["rows_done"],
            "created": row["created"],
            "updated": row["updated"],
            "errors": row["errors"],
            "created_at": iso(row["created_at"], tz),
            "finished_at": iso(row["finished_at"], tz),
        }
        for row in rows
    ]


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="The data row, from 1 (the header not counted); null: the file."
    )
    column = serializers.CharField(allow_null=True, help_text="The column as the file names it.")
    message = serializers.CharField()


class ImportJobSerializer(RowSerializer):
    """A CSV import: what it was asked to do, how far it got and the rows it refused."""

    columns = IMPORT_JOB_COLUMNS
    represent = staticmethod(import_jobs_json)

    # A field, not DRF's ``errors`` property: the serializer's metaclass takes it out.
    errors = ImportErrorSerializer(  # type: ignore[assignment]
        many=True,
        read_only=True,
        help_text="The bad rows' errors (of the first 1,000), then one saying how many there are.",
    )

    class Meta(RowSerializer.Meta):
        model = ImportJob
        fields = list(IMPORT_JOB_COLUMNS)
        read_only_fields = fields


class ImportQuerySerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=ImportJob.Resource.choices)
    dry_run = serializers.BooleanField(
        default=False, help_text="Check and count everything, write nothing."
    )


class CsvUploadParser(BaseParser):
    """A ``text/csv`` request body, copied to a temporary file as it arrives (any size)."""

    media_type = "text/csv"
    CHUNK = 1 << 20

    def parse(self, stream, media_type=None, parser_context=None):
        spooled = tempfile.TemporaryFile()  # noqa: SIM115 (the job reads it, then it goes)
        shutil.copyfileobj(stream, spooled, self.CHUNK)
        spooled.seek(0)
        return File(spooled, name="upload.csv")


class OctetStreamCsvUploadParser(CsvUploadParser):
    """The same body sent as raw bytes, as generated clients send a file."""

    media_type = "application/octet-stream"


class ImportJobViewSet(
    ConditionalMixin,
    RowListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """CSV imports of the caller's team: start one, poll it, list them."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()
    parser_classes = [CsvUploadParser, OctetStreamCsvUploadParser]

    def get_queryset(self):
        return import_jobs_visible_to(self.request.user)

    @extend_schema(
        parameters=[ImportQuerySerializer],
        # Documented as raw bytes, which generated clients can send; text/csv is taken too.
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={202: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Import the CSV of the request body into `resource`, as a job (202: it is pending).

        The columns are the API's field names (and the names HubSpot and
        Salesforce export accounts and contacts with); UTF-8 or Windows-1252,
        separated by commas or semicolons. Every row is written or none.
        """
        params = ImportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        upload = request.data
        if not isinstance(upload, File) or not upload.size:
            raise serializers.ValidationError(
                {"body": ["Send the CSV as the request body, with Content-Type: text/csv."]}
            )
        job = services.create_import_job(
            user=request.user,
            resource=params.validated_data["resource"],
            dry_run=params.validated_data["dry_run"],
            upload=upload,
            file_name=f"{params.validated_data['resource']}.csv",
        )
        services.send_import_job(job)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
