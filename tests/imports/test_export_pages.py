"""Every list page of the web UI links to the CSV of what it shows."""

import csv
import io
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from promises import services
from promises.models import Alert
from tests.factories import AccountFactory, AlertFactory, PromiseFactory


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def export_link(html: str) -> str:
    """The href of the page's "Export CSV" link."""
    before = html.split(">Export CSV</a>")[0]
    return unescape(before.rsplit('href="', 1)[1].split('"')[0])


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_account_list_exports_what_its_filters_show(team_a, team_b):
    AccountFactory(owner=team_a.rep, name="Acme Watch", health_band="watch")
    AccountFactory(owner=team_a.rep, name="Acme Healthy", health_band="healthy")
    AccountFactory(owner=team_a.rep, name="Globex", health_band="watch")
    AccountFactory(owner=team_b.rep, name="Acme elsewhere", health_band="watch")
    client = signed_in(team_a.rep)
    page = client.get("/accounts/?q=acme&band=watch").content.decode()
    link = export_link(page)
    assert link == "/accounts/export/?q=acme&band=watch"
    assert [row["name"] for row in rows_of(client.get(link))] == ["Acme Watch"]
    # Unfiltered, the link exports every account the list shows.
    link = export_link(client.get("/accounts/").content.decode())
    assert sorted(row["name"] for row in rows_of(client.get(link))) == [
        "Acme Healthy",
        "Acme Watch",
        "Globex",
    ]


def test_my_promises_exports_the_list_shown(team_a):
    account = AccountFactory(owner=team_a.rep)
    now = timezone.now()
    due_soon = PromiseFactory(account=account, description="Send the quote")
    kept = PromiseFactory(account=account, description="Call back")
    services.keep_promise(kept, by=team_a.rep)
    PromiseFactory(account=account, owner=team_a.other_rep, description="Not mine")
    client = signed_in(team_a.rep)
    link = export_link(client.get("/promises/?show=kept").content.decode())
    assert link == "/promises/export/?show=kept"
    assert [row["description"] for row in rows_of(client.get(link))] == ["Call back"]
    link = export_link(client.get("/promises/").content.decode())
    (row,) = rows_of(client.get(link))
    assert (row["id"], row["status"]) == (str(due_soon.pk), "open")
    assert timezone.datetime.fromisoformat(row["due_at"]) > now


def test_the_alert_inbox_exports_its_filters_for_leads_only(team_a):
    account = AccountFactory(owner=team_a.rep)
    broken = PromiseFactory(account=account, due_at=timezone.now() - timedelta(days=1))
    services.break_promise(broken, by=team_a.rep)
    AlertFactory(account=account, status=Alert.Status.RESOLVED)
    client = signed_in(team_a.lead)
    link = export_link(client.get("/alerts/?kind=promise_broken&status=open").content.decode())
    (row,) = rows_of(client.get(link))
    assert (row["kind"], row["promise"]) == ("promise_broken", str(broken.pk))
    assert signed_in(team_a.rep).get(link).status_code == 403


@pytest.mark.parametrize("path", ["/accounts/export/", "/promises/export/", "/alerts/export/"])
def test_exports_need_a_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
