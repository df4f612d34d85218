"""Idempotency-Key on every POST: a retry answers the first answer and writes nothing twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account
from interactions.models import Interaction
from promises.models import Promise, PromiseEvent
from relcrm.models import IdempotentRequest
from tests.conftest import client_for
from tests.factories import AccountFactory, PromiseFactory

ACCOUNTS = "/api/v1/accounts/"


def post(client, url, body, key):
    return client.post(url, body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_create_answers_the_first_answer_and_creates_nothing(rep_client):
    first = post(rep_client, ACCOUNTS, {"name": "Acme"}, "create-acme-1")
    again = post(rep_client, ACCOUNTS, {"name": "Acme"}, "create-acme-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Account.objects.filter(name="Acme").count() == 1


def test_the_same_body_in_other_whitespace_or_key_order_is_the_same_request(rep_client):
    first = rep_client.post(
        ACCOUNTS, '{"name": "Acme", "domain": "acme.test"}',
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k",
    )  # fmt: skip
    again = rep_client.post(
        ACCOUNTS, '{"domain":"acme.test","name":"Acme"}',
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k",
    )  # fmt: skip

    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()


def test_a_retried_action_is_not_done_twice(rep_client, team_a):
    promise = PromiseFactory(account=AccountFactory(owner=team_a.rep))
    url = f"/api/v1/promises/{promise.pk}/keep/"

    first = post(rep_client, url, {}, "keep-1")
    again = post(rep_client, url, {}, "keep-1")

    assert first.status_code == again.status_code == 200  # not the 409 of a second keep
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert PromiseEvent.objects.filter(promise=promise, kind="kept").count() == 1


def test_a_retried_interaction_with_promises_logs_them_once(rep_client, team_a):
    account = AccountFactory(owner=team_a.rep)
    body = {
        "account": account.pk,
        "kind": "call",
        "direction": "outbound",
        "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "promises": [
            {
                "description": "Send the quote",
                "due_at": (timezone.now() + timedelta(days=2)).isoformat(),
            }
        ],
    }

    first = post(rep_client, "/api/v1/interactions/", body, "call-1")
    again = post(rep_client, "/api/v1/interactions/", body, "call-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Interaction.objects.count() == 1 and Promise.objects.count() == 1


def test_the_same_key_with_another_request_is_a_422_and_writes_nothing(rep_client):
    post(rep_client, ACCOUNTS, {"name": "Acme"}, "k")

    other_body = post(rep_client, ACCOUNTS, {"name": "Globex"}, "k")
    other_path = post(rep_client, "/api/v1/contacts/", {"name": "Acme"}, "k")

    assert other_body.status_code == other_path.status_code == 422
    assert "different request" in other_body.json()["detail"]
    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]


def test_keys_belong_to_their_caller(rep_client, team_a):
    other = client_for(team_a.other_rep)

    mine = post(rep_client, ACCOUNTS, {"name": "Acme"}, "k")
    theirs = post(other, ACCOUNTS, {"name": "Acme"}, "k")

    assert mine.status_code == theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert theirs.json()["id"] != mine.json()["id"]


def test_an_error_is_not_kept_so_a_corrected_retry_runs(rep_client):
    refused = post(rep_client, ACCOUNTS, {"name": ""}, "k")
    corrected = post(rep_client, ACCOUNTS, {"name": "Acme"}, "k")

    assert refused.status_code == 400
    assert corrected.status_code == 201 and not corrected.has_header("Idempotent-Replayed")
    assert IdempotentRequest.objects.get().status == 201


def test_a_key_is_kept_for_24_hours(rep_client):
    post(rep_client, ACCOUNTS, {"name": "Acme"}, "k")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=23))
    assert post(rep_client, ACCOUNTS, {"name": "Acme"}, "k").has_header("Idempotent-Replayed")

    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = post(rep_client, ACCOUNTS, {"name": "Acme"}, "k")

    assert later.status_code == 201 and not later.has_header("Idempotent-Replayed")
    assert Account.objects.filter(name="Acme").count() == 2
    assert IdempotentRequest.objects.count() == 1


def test_a_key_too_long_is_a_400(rep_client):
    answer = post(rep_client, ACCOUNTS, {"name": "Acme"}, "k" * 256)

    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()
    assert not Account.objects.exists()


def test_without_a_key_a_post_is_done_each_time(rep_client):
    rep_client.post(ACCOUNTS, {"name": "Acme"})
    rep_client.post(ACCOUNTS, {"name": "Acme"})

    assert Account.objects.filter(name="Acme").count() == 2
    assert not IdempotentRequest.objects.exists()


def test_a_retry_sent_while_the_first_runs_waits_and_replays_it(
    transactional_db, team_a, monkeypatch
):
    create_account = account_services.create_account

    def slow_create_account(**kwargs):
        time.sleep(0.5)  # the retry arrives while the first request is still writing
        return create_account(**kwargs)

    monkeypatch.setattr(account_services, "create_account", slow_create_account)
    answers = []

    def send():
        try:
            answers.append(post(client_for(team_a.rep), ACCOUNTS, {"name": "Acme"}, "k"))
        finally:
            connection.close()

    first = threading.Thread(target=send)
    first.start()
    time.sleep(0.2)
    send()
    first.join()

    assert [a.status_code for a in answers] == [201, 201]
    assert sorted(a.has_header("Idempotent-Replayed") for a in answers) == [False, True]
    assert answers[0].json() == answers[1].json()
    assert Account.objects.filter(name="Acme").count() == 1


@pytest.mark.parametrize("url", ["/api/v1/teams/", "/api/v1/users/"])
def test_admin_creates_take_a_key_too(admin_client_api, team_a, url):
    body = (
        {"name": "North"}
        if url.endswith("teams/")
        else {"username": "nina", "password": "s3cret-enough-pw", "team": team_a.team.pk}
    )

    first = post(admin_client_api, url, body, "k")
    again = post(admin_client_api, url, body, "k")

    assert first.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
