"""The Import page: upload, map the columns over a preview, run, watch it, read its errors."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from imports import services
from imports.models import ImportJob
from relcrm import queue, task_names
from tests.factories import AccountFactory
from tests.imports.helpers import csv_text

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(queue, "send_on_commit", lambda name, *args: messages.append((name, args)))
    return messages


@pytest.fixture
def browser(team_a):
    client = Client()
    client.force_login(team_a.rep)
    return client


def upload(browser, text: str, resource: str = "accounts", name: str = "companies.csv"):
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return browser.post("/imports/", {"resource": resource, "file": file})


HUBSPOT = csv_text(
    ["Record ID", "Company name", "Company Domain Name", "Lifecycle Stage"],
    [["1", "Acme", "acme.test", "lead"], ["2", "Globex", "globex.test", "customer"]],
)


def test_an_upload_shows_each_column_mapped_by_its_name_over_the_first_rows(browser):
    answer = upload(browser, HUBSPOT)
    assert answer.status_code == 302
    assert answer["Location"] == "/imports/map/"
    html = browser.get("/imports/map/").content.decode()
    assert "2 rows of accounts" in html
    assert '<option value="name" selected>' in html.split('id="column-1"')[1].split("</select>")[0]
    assert (
        '<option value="domain" selected>' in html.split('id="column-2"')[1].split("</select>")[0]
    )
    # A column no field is known by is ignored unless chosen.
    assert '<option value="" selected>' in html.split('id="column-3"')[1].split("</select>")[0]
    assert "Globex" in html and "customer" in html


def test_the_mapping_starts_a_dry_run_whose_page_polls_until_it_is_done(browser, team_a, sent):
    upload(browser, HUBSPOT)
    answer = browser.post(
        "/imports/map/",
        {
            "column-0": "external_id",
            "column-1": "name",
            "column-2": "",
            "column-3": "",
            "action": "dry-run",
        },
    )
    job = ImportJob.objects.get()
    assert answer["Location"] == f"/imports/{job.pk}/"
    assert (job.dry_run, job.status, job.file_name) == (True, "pending", "companies.csv")
    assert job.mapping == {
        "Record ID": "external_id",
        "Company name": "name",
        "Company Domain Name": "",
        "Lifecycle Stage": "",
    }
    assert sent == [(task_names.RUN_IMPORT_JOB, (job.pk,))]
    page = browser.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page

    services.run_import(job.pk)  # the worker
    fragment = browser.get(f"/imports/{job.pk}/", **HTMX).content.decode()
    assert "hx-trigger" not in fragment
    assert "would create 2 and update 0; nothing was written" in fragment
    assert not Account.objects.exists()

    # Then the import itself, from the same file and mapping.
    answer = browser.post(f"/imports/{job.pk}/import/")
    real = ImportJob.objects.exclude(pk=job.pk).get()
    assert answer["Location"] == f"/imports/{real.pk}/"
    services.run_import(real.pk)
    assert sorted(Account.objects.values_list("name", "domain", "external_id")) == [
        ("Acme", "", "1"),
        ("Globex", "", "2"),
    ]


def test_a_failed_import_shows_its_bad_rows_in_a_table(browser, team_a, sent):
    account = AccountFactory(owner=team_a.rep)
    future = (timezone.now() + timedelta(days=1)).isoformat()
    text = csv_text(
        ["account", "kind", "direction", "occurred_at"], [[account.pk, "call", "outbound", future]]
    )
    upload(browser, text, resource="interactions")
    browser.post(
        "/imports/map/",
        {
            "column-0": "account",
            "column-1": "kind",
            "column-2": "direction",
            "column-3": "occurred_at",
            "action": "import",
        },
    )
    job = ImportJob.objects.get()
    assert job.dry_run is False
    services.run_import(job.pk)
    html = browser.get(f"/imports/{job.pk}/").content.decode()
    table = html.split('class="record-table import-errors"')[1]
    assert (
        '<td class="num">1</td><td>occurred_at</td>'
        "<td>An interaction cannot happen in the future.</td>" in table
    )
    assert "1 of 1 rows are invalid; nothing was written." in html


def test_two_columns_mapped_to_one_field_are_refused_on_the_page(browser, sent):
    upload(browser, HUBSPOT)
    answer = browser.post(
        "/imports/map/",
        {
            "column-0": "name",
            "column-1": "name",
            "column-2": "",
            "column-3": "",
            "action": "import",
        },
    )
    assert answer.status_code == 200
    assert (
        "The columns &#x27;Record ID&#x27; and &#x27;Company name&#x27; both give name"
        in answer.content.decode()
    )
    assert not ImportJob.objects.exists()


def test_an_unreadable_file_is_refused_with_why(browser, sent):
    answer = upload(browser, "")
    assert answer.status_code == 200  # an empty upload is a form error
    file = SimpleUploadedFile("x.csv", b"\x81\x8d", content_type="text/csv")
    browser.post("/imports/", {"resource": "accounts", "file": file})
    answer = browser.get("/imports/map/", follow=True)
    assert "The file is not text in UTF-8 or Windows-1252" in answer.content.decode()


def test_the_page_lists_the_teams_imports_and_hides_other_teams(browser, team_a, team_b, sent):
    mine = services.create_import_job(
        user=team_a.other_rep, resource="accounts", file_name="ours.csv"
    )
    theirs = services.create_import_job(
        user=team_b.rep, resource="accounts", file_name="theirs.csv"
    )
    html = browser.get("/imports/").content.decode()
    assert "ours.csv" in html and "theirs.csv" not in html
    assert browser.get(f"/imports/{theirs.pk}/").status_code == 404
    assert browser.get(f"/imports/{mine.pk}/").status_code == 200
