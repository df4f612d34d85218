"""Web pages for CSV: each list page's "Export CSV", and the import page.

Each export starts from the same query as its page (the account list's filters, one
of "my promises" lists, the alert inbox's filters) and writes it through the API's
JSON function for the resource, so the file has the API's columns and values.

An import is an upload, then a page mapping each of the file's columns to a field
(as recognised by name, changeable) above its first rows, then a job: a dry run,
or the import itself, whose page shows its progress (htmx polls it) and its errors.
"""

from itertools import islice

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.api import AccountSerializer
from accounts.views import bad_request, listed_accounts
from imports import services
from imports.columns import FIELDS, field_of, map_columns
from imports.export import csv_response
from imports.models import ImportJob
from imports.reading import FileError, inspect, records
from imports.selectors import import_jobs_visible_to
from promises.api import AlertSerializer, PromiseSerializer
from promises.forms import AlertFilterForm
from promises.selectors import PROMISE_LISTS, alerts_visible_to, my_promises
from promises.views import require_reviewer


@login_required
def export_accounts(request):
    """The account list as CSV, with the list's name-or-domain and band filters."""
    try:
        accounts, _, _ = listed_accounts(request)
    except ValidationError as error:
        return bad_request(request, error.messages[0])
    return csv_response(AccountSerializer, accounts, name="accounts")


@login_required
def export_my_promises(request):
    """One of "my promises" lists (``show``) as CSV, in the list's order."""
    show = request.GET.get("show", "")
    if show not in PROMISE_LISTS:
        show = "open"
    promises = my_promises(request.user, show, now=timezone.now())
    return csv_response(PromiseSerializer, promises, name=f"promises-{show}")


@login_required
def export_alerts(request):
    """The alert inbox as CSV, with its kind and status filters (leads and admins)."""
    require_reviewer(request.user)
    alerts = alerts_visible_to(request.user).filter(**AlertFilterForm(request.GET).filters())
    return csv_response(AlertSerializer, alerts, name="alerts")


# --- the import page ---------------------------------------------------------------------

# The rows shown under the column mapping, as a preview of the file.
PREVIEW_ROWS = 5
JOBS_SHOWN = 20
# The session key of the file uploaded and waiting for its mapping.
UPLOAD_KEY = "csv_import_upload"


class UploadForm(forms.Form):
    resource = forms.ChoiceField(choices=ImportJob.Resource.choices, label="What the file holds")
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 or Windows-1252, separated by commas or semicolons; "
        "the first row names the columns.",
    )


def _visible_job(user, pk: int) -> ImportJob:
    return get_object_or_404(import_jobs_visible_to(user), pk=pk)


@login_required
def import_page(request):
    """Upload a CSV file; the team's recent imports below."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        stored = default_storage.save(f"imports/uploads/{upload.name}", upload)
        request.session[UPLOAD_KEY] = {
            "name": stored,
            "file_name": upload.name,
            "resource": form.cleaned_data["resource"],
        }
        return redirect("import-map")
    jobs = import_jobs_visible_to(request.user).select_related("created_by")[:JOBS_SHOWN]
    return render(request, "imports/import_page.html", {"form": form, "jobs": jobs})


def _mapping_choices(resource: str) -> list[tuple[str, str]]:
    return [("", "(ignore)")] + [(name, name) for name in FIELDS[resource]]


@login_required
def import_map(request):
    """The uploaded file's columns, each mapped to a field, with its first rows; then start."""
    upload = request.session.get(UPLOAD_KEY)
    if not upload or not default_storage.exists(upload["name"]):
        messages.info(request, "Upload a CSV file first.")
        return redirect("import-page")
    resource = upload["resource"]
    with default_storage.open(upload["name"], "rb") as binary:
        try:
            form = inspect(binary)
        except FileError as error:
            default_storage.delete(upload["name"])
            del request.session[UPLOAD_KEY]
            messages.error(request, error.message)
            return redirect("import-page")
        preview = list(islice(records(binary, form), PREVIEW_ROWS))
    columns = [
        {
            "index": index,
            "header": header,
            "chosen": request.POST.get(f"column-{index}", field_of(resource, header) or ""),
            "samples": [cells[index] if index < len(cells) else "" for _, cells in preview],
        }
        for index, header in enumerate(form.headers)
    ]
    problem = ""
    if request.method == "POST":
        mapping = {column["header"]: column["chosen"] for column in columns}
        try:
            map_columns(resource, form.headers, mapping)
        except FileError as error:
            problem = error.message
        else:
            job = services.create_import_job(
                user=request.user,
                resource=resource,
                dry_run=request.POST.get("action") != "import",
                file_name=upload["file_name"],
                mapping=mapping,
            )
            job.file.name = upload["name"]
            job.save(update_fields=["file"])
            services.send_import_job(job)
            del request.session[UPLOAD_KEY]
            return redirect("import-job", pk=job.pk)
    context = {
        "upload": upload,
        "resource": resource,
        "rows": form.rows,
        "columns": columns,
        "choices": _mapping_choices(resource),
        "problem": problem,
    }
    return render(request, "imports/import_map.html", context)


@login_required
def import_job(request, pk: int):
    """One import: its progress while it runs (polled by htmx), then what it did or why not."""
    job = _visible_job(request.user, pk)
    template = "imports/_job_status.html" if request.htmx else "imports/import_job.html"
    return render(request, template, {"job": job, "row_errors": _row_errors(job)})


def _row_errors(job: ImportJob) -> list[dict]:
    return [error for error in job.errors if error["row"] is not None]


@login_required
@require_POST
def import_for_real(request, pk: int):
    """After a dry run that found nothing wrong: the same file imported, as a new job."""
    job = _visible_job(request.user, pk)
    if not (job.dry_run and job.status == ImportJob.Status.SUCCEEDED):
        messages.error(request, "Only a dry run that succeeded can be imported.")
        return redirect("import-job", pk=job.pk)
    if not job.file:
        messages.error(
            request,
            f"This dry run's file is kept {settings.RELCRM_IMPORT_KEEP_DRY_RUN_HOURS} hours "
            "and is gone now: upload it again.",
        )
        return redirect("import-job", pk=job.pk)
    real = services.start_from_dry_run(job, user=request.user)
    return redirect("import-job", pk=real.pk)
