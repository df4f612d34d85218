"""manage.py import_csv: the import job's code in the terminal."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from imports.models import ImportJob
from tests.imports.helpers import csv_text


@pytest.fixture
def accounts_file(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(csv_text(["Company name", "Company Domain Name"], [["Acme", "acme.test"]]))
    return path


def test_the_command_imports_as_the_user_and_says_what_it_did(team_a, accounts_file, capsys):
    call_command("import_csv", "accounts", str(accounts_file), "--user", team_a.rep.username)
    out = capsys.readouterr().out
    job = ImportJob.objects.get()
    assert f"Import {job.pk} of 1 accounts row(s): succeeded; created 1, updated 0." in out
    assert Account.objects.get().owner == team_a.rep
    assert (job.created_by, job.file_name, job.status) == (team_a.rep, "companies.csv", "succeeded")


def test_a_dry_run_writes_nothing(team_a, accounts_file, capsys):
    call_command("import_csv", "accounts", str(accounts_file), "--user", "alice", "--dry-run")
    assert "would create 1" in capsys.readouterr().out
    assert not Account.objects.exists()


def test_a_bad_file_fails_listing_its_rows(team_a, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(["name", "domain"], [["Acme", ""], ["", "x.test"]]))
    with pytest.raises(CommandError, match="failed; nothing was written"):
        call_command("import_csv", "accounts", str(path), "--user", "alice")
    out = capsys.readouterr().out
    assert "row 2, name: This field may not be blank." in out
    assert "1 of 2 rows are invalid; nothing was written." in out
    assert not Account.objects.exists()


def test_the_progress_bar_shows_rows_done_in_a_terminal(team_a, accounts_file, capsys, monkeypatch):
    from imports.management.commands import import_csv

    monkeypatch.setattr(import_csv.Command, "_interactive", lambda self: True)
    call_command("import_csv", "accounts", str(accounts_file), "--user", "alice")
    assert "\r[" + "#" * 30 + "] 1/1 rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "No active user 'nobody'."),
    ],
)
def test_an_unknown_user_is_refused(team_a, accounts_file, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_csv", "accounts", str(accounts_file), *args)
