"""GET /api/v1/{accounts,contacts,interactions,promises,alerts}/export/: the list as CSV."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from imports import export
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
)


def exported(response) -> list[dict]:
    """The rows of a streamed CSV answer, by header."""
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def header(response) -> list[str]:
    text = b"".join(response.streaming_content).decode()
    return next(csv.reader(io.StringIO(text)))


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep, name='Björk & Söner, "AB"')


def test_accounts_export_has_the_api_field_names_and_the_json_values(rep_client, account):
    answer = rep_client.get(f"/api/v1/accounts/{account.pk}/").json()
    response = rep_client.get("/api/v1/accounts/export/")
    assert header(rep_client.get("/api/v1/accounts/export/")) == [
        "id",
        "name",
        "domain",
        "owner",
        "team",
        "external_id",
        "health.score",
        "health.band",
        "health.confidence",
        "health.computed_at",
        "created_at",
    ]
    (row,) = exported(response)
    assert row["name"] == 'Björk & Söner, "AB"'
    assert row["id"] == str(answer["id"])
    assert row["owner"] == str(answer["owner"])
    assert row["created_at"] == answer["created_at"]
    assert row["health.score"] == row["health.band"] == ""


def test_a_nested_object_is_one_column_per_field(rep_client, account):
    account.health_score, account.health_band, account.health_confidence = 63.5, "watch", 0.4
    account.health_computed_at = timezone.now()
    account.save()
    answer = rep_client.get(f"/api/v1/accounts/{account.pk}/").json()
    (row,) = exported(rep_client.get("/api/v1/accounts/export/"))
    assert row["health.score"] == "63.5"
    assert row["health.band"] == "watch"
    assert row["health.computed_at"] == answer["health"]["computed_at"]


def test_times_are_iso_8601_with_their_offset(rep_client, account):
    InteractionFactory(account=account, occurred_at=timezone.now() - timedelta(days=2))
    (row,) = exported(rep_client.get("/api/v1/interactions/export/"))
    parsed = timezone.datetime.fromisoformat(row["occurred_at"])
    assert parsed.utcoffset() is not None


def test_list_fields_are_ids_joined_by_semicolons(rep_client, team_a, account):
    first, second = ContactFactory(account=account), ContactFactory(account=account)
    interaction = InteractionFactory(account=account)
    interaction.contacts.set([first, second])
    made = [PromiseFactory(account=account, interaction=interaction) for _ in range(2)]
    answer = rep_client.get(f"/api/v1/interactions/{interaction.pk}/").json()
    (row,) = exported(rep_client.get("/api/v1/interactions/export/"))
    assert row["contacts"] == ";".join(str(pk) for pk in answer["contacts"])
    assert sorted(row["contacts"].split(";")) == sorted(str(c.pk) for c in (first, second))
    assert row["promises"] == ";".join(str(p.pk) for p in made)


def test_promises_export_carries_booleans_and_empty_nulls(rep_client, account):
    PromiseFactory(account=account, due_at=timezone.now() - timedelta(hours=1))
    (row,) = exported(rep_client.get("/api/v1/promises/export/"))
    assert row["is_overdue"] == "true"
    assert row["kept_on_time"] == row["kept_at"] == row["contact"] == ""


def test_the_export_takes_the_lists_filters(rep_client, team_a, account):
    other = AccountFactory(owner=team_a.rep, name="Other")
    ContactFactory(account=account, first_name="Mine")
    ContactFactory(account=other, first_name="Theirs")
    rows = exported(rep_client.get(f"/api/v1/contacts/export/?account={account.pk}"))
    assert [row["first_name"] for row in rows] == ["Mine"]
    rows = exported(rep_client.get("/api/v1/accounts/export/?search=other"))
    assert [row["name"] for row in rows] == ["Other"]


def test_a_bad_filter_is_a_400_in_json(rep_client):
    response = rep_client.get("/api/v1/interactions/export/?occurred_after=yesterday")
    assert response.status_code == 400
    assert "occurred_after" in response.json()


def test_the_export_is_scoped_like_the_list(rep_client, team_a, team_b, account):
    AccountFactory(owner=team_b.rep, name="Theirs")
    InteractionFactory(account=AccountFactory(owner=team_b.rep))
    AlertFactory(account=AccountFactory(owner=team_b.rep))
    assert [row["name"] for row in exported(rep_client.get("/api/v1/accounts/export/"))] == [
        account.name
    ]
    assert exported(rep_client.get("/api/v1/interactions/export/")) == []
    assert exported(rep_client.get("/api/v1/alerts/export/")) == []


def test_export_needs_credentials(client):
    assert client.get("/api/v1/accounts/export/").status_code == 401


def test_an_empty_export_is_its_header(rep_client):
    response = rep_client.get("/api/v1/contacts/export/", HTTP_ACCEPT="text/csv")
    assert header(response) == [
        "id",
        "account",
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "external_id",
    ]


def test_the_export_streams_in_batches_with_a_constant_number_of_queries_each(
    rep_client, account, monkeypatch
):
    monkeypatch.setattr(export, "BATCH_SIZE", 3)
    for _ in range(7):
        interaction = InteractionFactory(account=account)
        PromiseFactory(account=account, interaction=interaction)
    response = rep_client.get("/api/v1/interactions/export/")
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    # The header, then one chunk per batch of 3 rows.
    assert len(chunks) == 1 + 3
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 1 + 7
    statements = [q["sql"].strip() for q in queries.captured_queries]
    # One server-side cursor, declared inside a transaction (not WITH HOLD, which would
    # make PostgreSQL compute every row first), fetched a batch at a time...
    (cursor,) = [sql for sql in statements if sql.startswith("DECLARE")]
    assert "WITH HOLD" not in cursor
    # ... and per batch the JSON function's two reads: the contacts present, the promises.
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(reads) == 2 * 3
