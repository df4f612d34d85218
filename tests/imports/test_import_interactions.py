"""Importing interactions: the API's rules on every row, all or nothing, idempotent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from imports import models as import_models
from interactions.models import Interaction
from promises import services as promise_services
from relcrm import queue, task_names
from tests.factories import AccountFactory, ContactFactory, InteractionFactory, PromiseFactory
from tests.imports.helpers import csv_text, imported, messages_by_row

HEADER = ["account", "contacts", "kind", "direction", "occurred_at", "summary", "sentiment"]


def at(days_ago: float) -> str:
    return (timezone.now() - timedelta(days=days_ago)).isoformat()


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep, domain="acme.test", external_id="hs-1")


def test_a_valid_file_writes_every_interaction_as_the_api_would(team_a, account):
    ada = ContactFactory(account=account, email="Ada@Acme.test")
    grace = ContactFactory(account=account)
    rows = [
        [account.pk, f"{grace.pk};ada@acme.test", "call", "outbound", at(2), 'Renewal, "v2"', "1"],
        [account.pk, "", "email", "inbound", at(3), "Asked for rates\nand terms", ""],
    ]
    job = imported(team_a.rep, "interactions", csv_text(HEADER, rows))

    assert (job.status, job.rows_total, job.rows_done, job.created, job.updated) == (
        "succeeded",
        2,
        2,
        2,
        0,
    )
    assert job.errors == []
    call = Interaction.objects.get(kind="call")
    assert call.summary == 'Renewal, "v2"'
    assert call.logged_by == team_a.rep
    assert set(call.contacts.all()) == {ada, grace}
    email = Interaction.objects.get(kind="email")
    assert (email.summary, email.sentiment) == ("Asked for rates\nand terms", None)
    # The outbound call answered the inbound e-mail before it, as when logged live.
    assert email.answered_at == call.occurred_at


def test_accounts_are_named_by_id_external_id_or_domain(team_a, account):
    header = [
        "account",
        "account_external_id",
        "account_domain",
        "kind",
        "direction",
        "occurred_at",
    ]
    rows = [
        [account.pk, "", "", "call", "outbound", at(1)],
        ["", "hs-1", "", "note", "outbound", at(1)],
        ["", "", "ACME.test", "meeting", "inbound", at(1)],
    ]
    job = imported(team_a.rep, "interactions", csv_text(header, rows))
    assert job.status == "succeeded", job.errors
    assert Interaction.objects.filter(account=account).count() == 3


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"occurred_at": at(-1)}, "occurred_at", "An interaction cannot happen in the future."),
        ({"sentiment": "3"}, "sentiment", "Ensure this value is less than or equal to 2."),
        ({"sentiment": "-3"}, "sentiment", "Ensure this value is greater than or equal to -2."),
        (
            {"occurred_at": "2026-01-05T10:00:00"},
            "occurred_at",
            "Give the time with its offset from UTC, such as 2026-03-01T09:30:00+01:00.",
        ),
        ({"kind": "fax"}, "kind", '"fax" is not a valid choice.'),
        ({"kind": ""}, "kind", "This field is required."),
        ({"account": "acme"}, "account", "Incorrect type. Expected pk value, received str."),
        ({"account": "999999999"}, "account", 'Invalid pk "999999999" - object does not exist.'),
    ],
)
def test_each_api_rule_refuses_the_row_with_the_apis_message(
    team_a, account, cells, column, message
):
    good = dict(zip(HEADER, [account.pk, "", "call", "outbound", at(1), "ok", "1"], strict=True))
    job = imported(
        team_a.rep, "interactions", csv_text(HEADER, [good.values(), {**good, **cells}.values()])
    )
    assert job.status == "failed"
    assert messages_by_row(job) == {2: [(column, message)]}
    assert not Interaction.objects.exists()


def test_the_api_refuses_the_same(rep_client, account):
    answer = rep_client.post(
        "/api/v1/interactions/",
        {"account": account.pk, "kind": "fax", "direction": "outbound", "occurred_at": at(1)},
        format="json",
    )
    assert answer.json() == {"kind": ['"fax" is not a valid choice.']}


def test_another_teams_rows_read_exactly_like_missing_ones(team_a, team_b, account):
    theirs = AccountFactory(owner=team_b.rep, external_id="hs-9", domain="theirs.test")
    their_contact = ContactFactory(account=theirs, email="bob@theirs.test")
    missing = theirs.pk + 1000
    header = [
        "account",
        "account_external_id",
        "account_domain",
        "contacts",
        "kind",
        "direction",
        "occurred_at",
    ]
    rows = [
        [theirs.pk, "", "", "", "call", "outbound", at(1)],
        [missing, "", "", "", "call", "outbound", at(1)],
        ["", "hs-9", "", "", "call", "outbound", at(1)],
        ["", "hs-404", "", "", "call", "outbound", at(1)],
        ["", "", "theirs.test", "", "call", "outbound", at(1)],
        [account.pk, "", "", their_contact.pk, "call", "outbound", at(1)],
        [account.pk, "", "", "bob@theirs.test", "call", "outbound", at(1)],
    ]
    job = imported(team_a.rep, "interactions", csv_text(header, rows))
    assert messages_by_row(job) == {
        1: [("account", f'Invalid pk "{theirs.pk}" - object does not exist.')],
        2: [("account", f'Invalid pk "{missing}" - object does not exist.')],
        3: [("account_external_id", 'No account has the external id "hs-9".')],
        4: [("account_external_id", 'No account has the external id "hs-404".')],
        5: [("account_domain", 'No account has the domain "theirs.test".')],
        6: [("contacts", f'Invalid pk "{their_contact.pk}" - object does not exist.')],
        7: [("contacts", 'No contact at this account has the e-mail "bob@theirs.test".')],
    }


def test_a_contact_of_another_account_of_the_team_is_refused_as_by_the_api(team_a, account):
    other = ContactFactory(account=AccountFactory(owner=team_a.rep))
    job = imported(
        team_a.rep,
        "interactions",
        csv_text(HEADER, [[account.pk, other.pk, "call", "outbound", at(1), "", ""]]),
    )
    assert messages_by_row(job) == {1: [("contacts", "This contact belongs to another account.")]}


def test_any_bad_row_writes_nothing_and_every_bad_row_is_listed(team_a, account):
    rows = [[account.pk, "", "call", "outbound", at(1), f"row {n}", "1"] for n in range(1, 8)]
    rows[1][2] = "fax"
    rows[5][6] = "5"
    rows[5][4] = at(-2)
    job = imported(team_a.rep, "interactions", csv_text(HEADER, rows))
    assert job.status == "failed"
    assert (job.created, job.updated, job.invalid_rows, job.rows_done) == (0, 0, 2, 7)
    assert messages_by_row(job) == {
        2: [("kind", '"fax" is not a valid choice.')],
        6: [
            ("occurred_at", "An interaction cannot happen in the future."),
            ("sentiment", "Ensure this value is less than or equal to 2."),
        ],
    }
    assert job.errors[-1] == {
        "row": None,
        "column": None,
        "message": "2 of 7 rows are invalid; nothing was written.",
    }
    assert not Interaction.objects.exists()
    account.refresh_from_db()
    assert account.health_stale_at is None


def test_at_most_the_first_bad_rows_are_listed_and_all_are_counted(team_a, account, monkeypatch):
    monkeypatch.setattr(import_models, "MAX_LISTED_ROWS", 3)
    monkeypatch.setattr("imports.services.MAX_LISTED_ROWS", 3)
    rows = [[account.pk, "", "fax", "outbound", at(1), "", ""] for _ in range(5)]
    job = imported(team_a.rep, "interactions", csv_text(HEADER, rows))
    assert sorted(messages_by_row(job)) == [1, 2, 3]
    assert job.invalid_rows == 5
    assert job.errors[-1]["message"] == (
        "5 of 5 rows are invalid; nothing was written. The first 3 are listed."
    )


def test_importing_the_same_file_again_creates_nothing(team_a, account):
    header = [*HEADER, "external_id"]
    rows = [[account.pk, "", "call", "outbound", at(n), "", "", f"tel-{n}"] for n in range(1, 4)]
    text = csv_text(header, rows)
    assert imported(team_a.rep, "interactions", text).created == 3
    again = imported(team_a.rep, "interactions", text)
    assert (again.status, again.created, again.updated) == ("succeeded", 0, 0)
    assert Interaction.objects.count() == 3


def test_an_external_id_twice_in_a_file_or_already_logged_is_imported_once(team_a, account):
    InteractionFactory(account=account, external_id="tel-1")
    header = [*HEADER, "external_id"]
    rows = [
        [account.pk, "", "call", "outbound", at(1), "", "", "tel-1"],
        [account.pk, "", "call", "outbound", at(1), "", "", "tel-2"],
        [account.pk, "", "call", "outbound", at(1), "", "", "tel-2"],
    ]
    job = imported(team_a.rep, "interactions", csv_text(header, rows))
    assert job.created == 1
    assert Interaction.objects.filter(external_id="tel-2").count() == 1


def test_each_touched_account_is_marked_stale_once_with_one_recompute(
    team_a, account, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RELCRM_RECOMPUTE_ON_WRITE = True
    sent = []
    monkeypatch.setattr(queue, "send", lambda name, *args, **kwargs: sent.append((name, args)))
    second = AccountFactory(owner=team_a.rep)
    untouched = AccountFactory(owner=team_a.rep)
    rows = [
        [pk, "", "call", "outbound", at(n), "", ""]
        for n in range(1, 4)
        for pk in (account.pk, second.pk)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = imported(team_a.rep, "interactions", csv_text(HEADER, rows))
    assert job.created == 6
    assert sent == [(task_names.COMPUTE_TRUST_HEALTH, ())]
    stale = dict(Account.objects.values_list("pk", "health_stale_at"))
    assert stale[account.pk] is not None and stale[second.pk] is not None
    assert stale[untouched.pk] is None


def test_a_positive_outbound_touch_repairs_the_breaks_before_it(team_a, account):
    promise = PromiseFactory(
        account=account,
        due_at=timezone.now() - timedelta(days=5),
        created_at=timezone.now() - timedelta(days=6),
    )
    promise_services.flag_overdue_promises(now=timezone.now() - timedelta(days=4))
    rows = [
        [account.pk, "", "call", "outbound", at(3), "", "2"],
        [account.pk, "", "call", "outbound", at(2), "", "1"],
        [account.pk, "", "call", "outbound", at(4.5), "", "-1"],
    ]
    assert imported(team_a.rep, "interactions", csv_text(HEADER, rows)).status == "succeeded"
    promise.refresh_from_db()
    first_positive = Interaction.objects.filter(sentiment=2).get().occurred_at
    assert promise.repaired_at == first_positive


def test_a_dry_run_counts_what_it_would_write_and_writes_nothing(team_a, account):
    rows = [[account.pk, "", "call", "outbound", at(1), "", ""]] * 3
    job = imported(team_a.rep, "interactions", csv_text(HEADER, rows), dry_run=True)
    assert (job.status, job.dry_run, job.created) == ("succeeded", True, 3)
    assert not Interaction.objects.exists()
    account.refresh_from_db()
    assert account.health_stale_at is None


def test_a_row_with_more_cells_than_the_header_is_refused(team_a, account):
    text = csv_text(HEADER, [[account.pk, "", "call", "outbound", at(1), "a", "1", "extra"]])
    assert messages_by_row(imported(team_a.rep, "interactions", text)) == {
        1: [(None, "This row has 8 cells; the header names 7.")]
    }
