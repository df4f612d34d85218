"""Due-soon reminders to owners and the leads' daily digest: each e-mail at most once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from accounts.services import archive_account
from promises import reminders, services
from promises.models import Alert, AlertDigest, Promise
from tests.factories import AccountFactory, AlertFactory, PromiseFactory
from tests.promises.test_sweep import in_parallel

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class FailingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


def due_in(hours: float, **fields) -> Promise:
    return PromiseFactory(due_at=timezone.now() + timedelta(hours=hours), **fields)


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep, name="Northwind Traders")


# --- due-soon reminders -----------------------------------------------------------------


def test_the_owner_is_reminded_once_of_a_promise_due_within_a_day(account, mailoutbox):
    promise = due_in(5, account=account, description="Send the revised quote")

    first = reminders.send_due_soon_reminders()
    second = reminders.send_due_soon_reminders()

    assert (first.emails, first.promises, second.emails) == (1, 1, 0)
    (message,) = mailoutbox
    assert message.to == [account.owner.email]
    assert "Send the revised quote" in message.subject
    assert "Northwind Traders" in message.body
    promise.refresh_from_db()
    assert promise.reminded_for_due_at == promise.due_at


def test_promises_due_later_already_due_or_closed_get_no_reminder(account, mailoutbox):
    due_in(30, account=account)
    due_in(-1, account=account)
    due_in(3, account=account, status=Promise.Status.KEPT, kept_at=timezone.now())
    due_in(3, account=account, status=Promise.Status.RELEASED, released_at=timezone.now())

    run = reminders.send_due_soon_reminders()

    assert run.emails == 0
    assert mailoutbox == []


def test_one_email_tells_an_owner_of_all_their_promises_due_soon(account, team_a, mailoutbox):
    due_in(2, account=account, description="Call back about the invoice")
    due_in(20, account=account, description="Ship the replacement part")
    due_in(4, account=AccountFactory(owner=team_a.other_rep))

    run = reminders.send_due_soon_reminders()

    assert (run.emails, run.promises) == (2, 3)
    (alice,) = [message for message in mailoutbox if message.to == [team_a.rep.email]]
    assert "2 promises due soon" in alice.subject
    assert alice.body.index("Call back about the invoice") < alice.body.index(
        "Ship the replacement"
    )


def test_a_renegotiated_promise_is_reminded_again_of_its_new_due_time(account, mailoutbox):
    promise = due_in(5, account=account)
    reminders.send_due_soon_reminders()

    services.renegotiate_promise(
        promise, by=account.owner, due_at=timezone.now() + timedelta(hours=20), note="Next week"
    )
    run = reminders.send_due_soon_reminders()

    assert run.emails == 1
    assert len(mailoutbox) == 2
    assert reminders.send_due_soon_reminders().emails == 0


def test_the_reminder_window_is_a_setting(account, settings, mailoutbox):
    settings.RELCRM_REMINDER_WINDOW_HOURS = 72
    due_in(60, account=account)

    assert reminders.send_due_soon_reminders().emails == 1


def test_a_reminder_that_could_not_be_sent_is_sent_by_the_next_run(account, settings, mailoutbox):
    promise = due_in(5, account=account)
    settings.EMAIL_BACKEND = "tests.promises.test_reminders.FailingBackend"

    failed = reminders.send_due_soon_reminders()

    promise.refresh_from_db()
    assert (failed.emails, failed.failed, promise.reminded_for_due_at) == (0, 1, None)
    settings.EMAIL_BACKEND = LOCMEM
    assert reminders.send_due_soon_reminders().emails == 1
    assert len(mail.outbox) == 1


def test_no_reminder_goes_to_an_owner_without_address_or_for_an_archived_account(
    team_a, mailoutbox
):
    team_a.other_rep.email = ""
    team_a.other_rep.save()
    due_in(5, account=AccountFactory(owner=team_a.other_rep))
    archived = archive_account(AccountFactory(owner=team_a.rep))
    due_in(5, account=archived)

    run = reminders.send_due_soon_reminders()

    assert (run.emails, run.skipped) == (0, 2)
    assert mailoutbox == []


def test_a_backlog_larger_than_a_batch_is_reminded_in_one_run(account, mailoutbox):
    for hours in range(1, 8):
        due_in(hours, account=account)

    run = reminders.send_due_soon_reminders(batch_size=3)

    assert run.promises == 7
    assert reminders.send_due_soon_reminders(batch_size=3).promises == 0


def test_parallel_runs_send_each_reminder_once(transactional_db, team_a, mailoutbox):
    owners = [team_a.rep, team_a.other_rep, team_a.lead]
    for number in range(60):
        due_in(number % 23 + 1, account=AccountFactory(owner=owners[number % 3]))

    runs = in_parallel(lambda: reminders.send_due_soon_reminders(batch_size=7), copies=5)

    assert sum(run.promises for run in runs) == 60
    reminded = [line for message in mail.outbox for line in message.body.splitlines()]
    assert sum(line.startswith("- ") for line in reminded) == 60


# --- daily alert digests ----------------------------------------------------------------


def broken_promise_alert(account, description="Send the revised quote") -> Alert:
    promise = due_in(-2, account=account, description=description)
    services.break_promise(promise, by=account.owner)
    return Alert.objects.get(promise=promise)


def test_each_lead_gets_one_digest_a_day_of_their_teams_open_alerts(
    account, team_a, team_b, mailoutbox
):
    broken_promise_alert(account, description="Send the revised quote")
    AlertFactory(account=account, detail="Health fell to at risk")
    acknowledged = broken_promise_alert(account, description="Already being handled")
    services.acknowledge_alert(acknowledged, by=team_a.lead)
    broken_promise_alert(AccountFactory(owner=team_b.rep), description="Southwind's own")

    first = reminders.send_alert_digests()
    second = reminders.send_alert_digests()

    assert (first.emails, first.alerts, second.emails) == (2, 3, 0)
    laura = next(message for message in mailoutbox if message.to == [team_a.lead.email])
    assert laura.subject == "2 open alerts for Northwind sales"
    assert "Send the revised quote" in laura.body and "Health fell to at risk" in laura.body
    assert "Already being handled" not in laura.body and "Southwind's own" not in laura.body
    assert AlertDigest.objects.filter(lead=team_a.lead).count() == 1


def test_reps_and_leads_of_a_team_without_open_alerts_get_no_digest(
    account, team_a, team_b, mailoutbox
):
    broken_promise_alert(account)

    reminders.send_alert_digests()

    assert [message.to for message in mailoutbox] == [[team_a.lead.email]]


def test_the_digest_comes_again_the_next_day(account, mailoutbox):
    broken_promise_alert(account)
    reminders.send_alert_digests()

    tomorrow = reminders.send_alert_digests(now=timezone.now() + timedelta(days=1))

    assert tomorrow.emails == 1
    assert len(mailoutbox) == 2


def test_a_digest_that_could_not_be_sent_is_sent_by_the_next_run(account, settings, mailoutbox):
    broken_promise_alert(account)
    settings.EMAIL_BACKEND = "tests.promises.test_reminders.FailingBackend"

    assert reminders.send_alert_digests().failed == 1

    assert not AlertDigest.objects.exists()
    settings.EMAIL_BACKEND = LOCMEM
    assert reminders.send_alert_digests().emails == 1


def test_a_long_digest_lists_the_newest_alerts_and_counts_the_rest(account, team_a, mailoutbox):
    extra = 4
    for _ in range(reminders.DIGEST_MAX_LISTED + extra):
        AlertFactory(account=account)

    reminders.send_alert_digests()

    (message,) = mailoutbox
    total = reminders.DIGEST_MAX_LISTED + extra
    assert message.subject == f"{total} open alerts for Northwind sales"
    assert message.body.count("Health dropped to at risk") == reminders.DIGEST_MAX_LISTED
    assert f"and {extra} more" in message.body


def test_parallel_runs_send_each_lead_one_digest(transactional_db, team_a, mailoutbox):
    broken_promise_alert(AccountFactory(owner=team_a.rep))

    runs = in_parallel(reminders.send_alert_digests, copies=4)

    assert sum(run.emails for run in runs) == 1
    assert len(mail.outbox) == 1
