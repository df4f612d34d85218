"""Importing accounts and contacts: upserted by external id, from other CRMs' exports too."""

import codecs

import pytest

from accounts.models import Account, Contact
from accounts.services import archive_account
from tests.factories import AccountFactory, ContactFactory
from tests.imports.helpers import csv_text, imported, messages_by_row


def test_accounts_are_created_owned_by_the_importer_in_their_team(team_a):
    text = csv_text(
        ["name", "domain", "external_id"], [["Acme", "acme.test", "a-1"], ["Globex", "", ""]]
    )
    job = imported(team_a.rep, "accounts", text)
    assert (job.status, job.created, job.updated) == ("succeeded", 2, 0)
    acme = Account.objects.get(name="Acme")
    assert (acme.owner, acme.team, acme.domain, acme.external_id) == (
        team_a.rep,
        team_a.team,
        "acme.test",
        "a-1",
    )
    assert Account.objects.get(name="Globex").external_id is None


def test_accounts_upsert_by_external_id_and_a_second_import_changes_nothing(team_a, team_b):
    theirs = AccountFactory(owner=team_b.rep, name="Not ours", external_id="a-1")
    mine = AccountFactory(owner=team_a.rep, name="Old name", external_id="a-1")
    header = ["name", "domain", "owner", "external_id"]
    text = csv_text(
        header, [["New name", "new.test", team_a.other_rep.pk, "a-1"], ["Fresh", "", "", "a-2"]]
    )
    job = imported(team_a.rep, "accounts", text)
    assert (job.status, job.created, job.updated) == ("succeeded", 1, 1)
    mine.refresh_from_db()
    assert (mine.name, mine.domain, mine.owner) == ("New name", "new.test", team_a.other_rep)
    theirs.refresh_from_db()
    assert theirs.name == "Not ours"
    again = imported(team_a.rep, "accounts", text)
    assert (again.created, again.updated) == (0, 0)
    assert Account.objects.filter(team=team_a.team).count() == 2


def test_an_owner_outside_the_team_reads_like_one_that_does_not_exist(team_a, team_b):
    text = csv_text(["name", "owner"], [["Acme", team_b.rep.pk]])
    assert messages_by_row(imported(team_a.rep, "accounts", text)) == {
        1: [("owner", f'Invalid pk "{team_b.rep.pk}" - object does not exist.')]
    }
    assert not Account.objects.exists()


def test_the_services_rules_apply_to_every_row(admin_user, team_a):
    # An admin belongs to no team: an account they import needs an owner in one.
    text = csv_text(["name"], [["Acme"]])
    assert messages_by_row(imported(admin_user, "accounts", text)) == {
        1: [("team", "This field is required when the owner has no team.")]
    }


@pytest.mark.parametrize(
    ("header", "row"),
    [
        # HubSpot's companies export
        (
            ["Record ID", "Company name", "Company Domain Name", "Phone Number"],
            ["88", "Acme", "acme.test", "1"],
        ),
        # Salesforce's accounts export
        (
            ["Account ID", "Account Name", "Website", "Billing City"],
            ["88", "Acme", "acme.test", "Oslo"],
        ),
    ],
)
def test_other_crms_account_exports_are_read_by_their_column_names(team_a, header, row):
    job = imported(team_a.rep, "accounts", csv_text(header, [row]))
    assert job.status == "succeeded", job.errors
    account = Account.objects.get()
    assert (account.name, account.domain, account.external_id) == ("Acme", "acme.test", "88")


def test_hubspot_contacts_are_read_by_their_column_names(team_a):
    account = AccountFactory(owner=team_a.rep, external_id="88")
    header = [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Job Title",
        "Associated Company ID",
    ]
    row = ["501", "Åsa", "Lindqvist", "asa@acme.test", "+46 8 123", "CTO", "88"]
    job = imported(team_a.rep, "contacts", csv_text(header, [row]))
    assert job.status == "succeeded", job.errors
    contact = Contact.objects.get()
    assert (contact.account, contact.first_name, contact.last_name, contact.email) == (
        account,
        "Åsa",
        "Lindqvist",
        "asa@acme.test",
    )
    assert (contact.phone, contact.title, contact.external_id) == ("+46 8 123", "CTO", "501")


def test_salesforce_contacts_name_their_account_by_its_id(team_a):
    account = AccountFactory(owner=team_a.rep, external_id="001A")
    header = ["Contact ID", "Account ID", "First Name", "Last Name", "Title", "Email"]
    job = imported(
        team_a.rep, "contacts", csv_text(header, [["003B", "001A", "Ada", "L", "CEO", "a@x.test"]])
    )
    assert job.status == "succeeded", job.errors
    assert Contact.objects.get().account == account


def test_contacts_upsert_by_external_id_within_their_account(team_a):
    account = AccountFactory(owner=team_a.rep)
    elsewhere = AccountFactory(owner=team_a.rep)
    ContactFactory(account=elsewhere, external_id="c-1", first_name="Other")
    known = ContactFactory(account=account, external_id="c-1", first_name="Old")
    header = ["account", "first_name", "email", "external_id"]
    text = csv_text(
        header, [[account.pk, "New", "new@acme.test", "c-1"], [account.pk, "Bo", "", ""]]
    )
    job = imported(team_a.rep, "contacts", text)
    assert (job.created, job.updated) == (1, 1)
    known.refresh_from_db()
    assert (known.first_name, known.email) == ("New", "new@acme.test")
    assert Contact.objects.get(account=elsewhere).first_name == "Other"


def test_a_contact_row_is_checked_by_the_api_fields(team_a):
    account = AccountFactory(owner=team_a.rep)
    text = csv_text(["account", "first_name", "email"], [[account.pk, "", "not-an-email"]])
    assert messages_by_row(imported(team_a.rep, "contacts", text)) == {
        1: [
            ("first_name", "This field may not be blank."),
            ("email", "Enter a valid email address."),
        ]
    }


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8 with BOM", "windows-1252"],
)
@pytest.mark.parametrize("separator", [",", ";"])
def test_utf8_with_or_without_bom_and_windows_1252_with_either_separator(team_a, encode, separator):
    text = csv_text(
        ["name", "domain"], [['Müller; Söhne, "AG"', "müller.test"]], separator=separator
    )
    job = imported(team_a.rep, "accounts", encode(text))
    assert job.status == "succeeded", job.errors
    assert Account.objects.get().name == 'Müller; Söhne, "AG"'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty: its first line should name the columns."),
        (b"\x81\x8d\x8f", "The file is not text in UTF-8 or Windows-1252: save it as CSV UTF-8."),
        (
            b"Name,Company name\nA,B\n",
            "The columns 'Name' and 'Company name' both give name: keep one.",
        ),
    ],
)
def test_a_file_that_cannot_be_read_fails_saying_why(team_a, data, message):
    job = imported(team_a.rep, "accounts", data)
    assert job.status == "failed"
    assert [error["message"] for error in job.errors] == [message]


def test_blank_rows_are_skipped_and_numbers_stay_those_of_the_file(team_a):
    text = "name,domain\r\nAcme,a.test\r\n,\r\n,,\r\nGlobex,\r\n"
    job = imported(team_a.rep, "accounts", text)
    assert (job.rows_total, job.created) == (2, 2)
    bad = "name,domain\r\nAcme,a.test\r\n,\r\n,x.test\r\n"
    assert messages_by_row(imported(team_a.rep, "accounts", bad)) == {
        3: [("name", "This field may not be blank.")]
    }


def test_a_mapping_chooses_the_columns(team_a):
    text = csv_text(["Firma", "Netz", "name"], [["Acme", "acme.test", "ignored"]])
    job = imported(
        team_a.rep, "accounts", text, mapping={"Firma": "name", "Netz": "domain", "name": ""}
    )
    assert job.status == "succeeded", job.errors
    assert Account.objects.get().name == "Acme"


def test_an_archived_accounts_external_id_is_not_reused_or_updated(team_a):
    archived = AccountFactory(owner=team_a.rep, name="Gone", external_id="a-1")
    archive_account(archived)
    job = imported(team_a.rep, "accounts", csv_text(["name", "external_id"], [["Back", "a-1"]]))
    assert messages_by_row(job) == {
        1: [("external_id", "Another account of this team has this external id.")]
    }
    archived.refresh_from_db()
    assert archived.name == "Gone"
