"""The jobs as management commands: the same code as the tasks, run here and now."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from promises.models import Alert, Promise, PromiseEvent
from tests.factories import AccountFactory, PromiseFactory
from tests.processes import database_url
from tests.promises.test_sweep import many_promises

ROOT = Path(__file__).resolve().parents[2]


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue().strip()


def test_flag_overdue_prints_what_it_broke_and_is_safe_to_run_again(db):
    promise = PromiseFactory(due_at=timezone.now() - timedelta(minutes=1))
    PromiseFactory(due_at=timezone.now() + timedelta(days=1))

    first, second = run("flag_overdue"), run("flag_overdue")

    assert first == ("Broke 1 overdue promise(s), each with its event and promise_broken alert.")
    assert second.startswith("Broke 0 ")
    assert Alert.objects.filter(promise=promise).count() == 1


def test_send_reminders_prints_what_it_sent_and_sends_nothing_twice(db, mailoutbox):
    PromiseFactory(due_at=timezone.now() + timedelta(hours=3))

    first, second = run("send_reminders"), run("send_reminders")

    assert first.startswith("Sent 1 reminder e-mail(s) for 1 promise(s) due within 24 hours")
    assert second.startswith("Sent 0 reminder e-mail(s)")
    assert len(mailoutbox) == 1


def test_send_alert_digests_prints_what_it_sent_and_sends_nothing_twice(db, team_a, mailoutbox):
    Alert.objects.create(kind=Alert.Kind.HEALTH_DROP, account=AccountFactory(owner=team_a.rep))

    first, second = run("send_alert_digests"), run("send_alert_digests")

    assert first.startswith("Sent 1 alert digest(s) listing 1 open alert(s)")
    assert second.startswith("Sent 0 alert digest(s)")
    assert mailoutbox[0].to == [team_a.lead.email]


def test_two_flag_overdue_processes_at_once_break_each_promise_once(transactional_db):
    many_promises(400, accounts=[AccountFactory()], due_in=lambda n: -timedelta(minutes=n + 1))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "RELCRM_RECOMPUTE_ON_WRITE": "0",
        "RELCRM_SWEEP_BATCH_SIZE": "25",
    }
    command = [sys.executable, "manage.py", "flag_overdue"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]

    # One may step aside while the other holds the job's lock; either way, nothing twice.
    assert [process.returncode for process in processes] == [0, 0]
    assert all(
        output.startswith(("Broke ", "Another run of the overdue sweep")) for output in outputs
    )
    broken = sum(int(output.split()[1]) for output in outputs if output.startswith("Broke "))
    assert broken == 400, outputs
    assert not Promise.objects.filter(status=Promise.Status.OPEN).exists()
    assert PromiseEvent.objects.filter(kind=PromiseEvent.Kind.BROKEN).count() == 400
    assert Alert.objects.count() == 400
