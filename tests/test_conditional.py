"""ETag on every answer that is one object; If-Match on PATCH and DELETE: 412 once it changed."""

import pytest

from accounts.models import Account, Contact
from promises.models import Promise
from tests.factories import AccountFactory, ContactFactory, PromiseFactory


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep, name="Acme")


def url(account):
    return f"/api/v1/accounts/{account.pk}/"


def test_a_detail_carries_an_etag_that_changes_when_the_object_does(rep_client, account):
    first = rep_client.get(url(account))
    unchanged = rep_client.get(url(account))
    Account.objects.filter(pk=account.pk).update(name="Acme Ltd")
    changed = rep_client.get(url(account))

    assert first["ETag"].startswith('"') and first["ETag"] == unchanged["ETag"]
    assert changed["ETag"] != first["ETag"]


def test_a_patch_or_create_answers_the_etag_a_read_then_gives(rep_client, account):
    patched = rep_client.patch(url(account), {"name": "Acme Ltd"})
    created = rep_client.post("/api/v1/accounts/", {"name": "Globex"})

    assert patched["ETag"] == rep_client.get(url(account))["ETag"]
    assert created["ETag"] == rep_client.get(f"/api/v1/accounts/{created.json()['id']}/")["ETag"]


def test_a_list_carries_no_etag(rep_client, account):
    assert not rep_client.get("/api/v1/accounts/").has_header("ETag")


def test_a_patch_with_the_current_etag_is_done(rep_client, account):
    etag = rep_client.get(url(account))["ETag"]

    answer = rep_client.patch(url(account), {"name": "Acme Ltd"}, HTTP_IF_MATCH=etag)

    assert answer.status_code == 200, answer.content
    assert Account.objects.get(pk=account.pk).name == "Acme Ltd"


def test_a_patch_with_a_stale_etag_is_a_412_and_changes_nothing(rep_client, account):
    etag = rep_client.get(url(account))["ETag"]
    rep_client.patch(url(account), {"domain": "acme.test"})  # someone else's edit

    answer = rep_client.patch(url(account), {"name": "Acme Ltd"}, HTTP_IF_MATCH=etag)

    assert answer.status_code == 412
    assert "changed" in answer.json()["detail"]
    assert Account.objects.get(pk=account.pk).name == "Acme"


def test_if_match_takes_a_list_or_any(rep_client, account):
    etag = rep_client.get(url(account))["ETag"]

    listed = rep_client.patch(url(account), {"name": "A"}, HTTP_IF_MATCH=f'"stale", {etag}')
    anything = rep_client.patch(url(account), {"name": "B"}, HTTP_IF_MATCH="*")
    weak = rep_client.patch(url(account), {"name": "C"}, HTTP_IF_MATCH=f"W/{anything['ETag']}")

    assert listed.status_code == anything.status_code == 200
    assert weak.status_code == 412  # a strong comparison: a weak tag never matches
    assert Account.objects.get(pk=account.pk).name == "B"


def test_a_delete_with_a_stale_etag_is_a_412_and_with_the_current_one_is_done(rep_client, team_a):
    contact = ContactFactory(account=AccountFactory(owner=team_a.rep))
    contact_url = f"/api/v1/contacts/{contact.pk}/"
    etag = rep_client.get(contact_url)["ETag"]
    Contact.objects.filter(pk=contact.pk).update(title="CFO")

    stale = rep_client.delete(contact_url, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and Contact.objects.filter(pk=contact.pk).exists()

    current = rep_client.delete(contact_url, HTTP_IF_MATCH=rep_client.get(contact_url)["ETag"])
    assert current.status_code == 204 and not Contact.objects.filter(pk=contact.pk).exists()


def test_another_teams_object_is_a_404_whatever_the_etag(other_team_client, account):
    answer = other_team_client.patch(url(account), {"name": "X"}, HTTP_IF_MATCH='"stale"')

    assert answer.status_code == 404


def test_an_action_answers_the_etag_of_the_promise_it_changed(rep_client, team_a):
    promise = PromiseFactory(account=AccountFactory(owner=team_a.rep))
    promise_url = f"/api/v1/promises/{promise.pk}/"
    before = rep_client.get(promise_url)["ETag"]

    kept = rep_client.post(f"{promise_url}keep/", {})

    assert kept["ETag"] != before and kept["ETag"] == rep_client.get(promise_url)["ETag"]
    stale = rep_client.patch(promise_url, {"description": "Other"}, HTTP_IF_MATCH=before)
    assert stale.status_code == 412
    assert Promise.objects.get(pk=promise.pk).description == promise.description


def test_a_streamed_export_carries_no_etag(rep_client, account):
    export = rep_client.get("/api/v1/accounts/export/")

    assert export.status_code == 200 and export.streaming
    assert not export.has_header("ETag")
