"""Creating, editing and archiving an account, and adding, editing and deleting its contacts."""

import pytest
from pytest_django.asserts import assertInHTML

from accounts.models import Account, Contact
from accounts.services import archive_account
from promises.models import Promise
from tests.factories import AccountFactory, ContactFactory
from tests.ui.conftest import main_of


def account_data(**overrides) -> dict:
    return {"name": "Initech", "domain": "initech.test", **overrides}


def contact_data(**overrides) -> dict:
    return {
        "first_name": "Peter",
        "last_name": "Gibbons",
        "title": "Programmer",
        "email": "peter@initech.test",
        "phone": "+1 512 555 0199",
        **overrides,
    }


# --- creating an account -----------------------------------------------------------------


def test_a_rep_creates_an_account_they_own_in_their_team(team_a, signed_in):
    client = signed_in(team_a.rep)
    form = client.get("/accounts/new/").content.decode()
    assert 'name="owner"' not in form

    response = client.post(
        "/accounts/new/", account_data(domain=" https://www.Initech.test/about ")
    )

    account = Account.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert (account.owner, account.team, account.domain) == (
        team_a.rep,
        team_a.team,
        "www.initech.test",
    )
    assert "Initech created." in client.get(response["Location"]).content.decode()


def test_a_rep_cannot_make_someone_else_the_owner(team_a, signed_in):
    signed_in(team_a.rep).post("/accounts/new/", account_data(owner=team_a.other_rep.pk))
    assert Account.objects.get(name="Initech").owner == team_a.rep


def test_a_lead_picks_the_owner_among_the_team(team_a, team_b, signed_in):
    client = signed_in(team_a.lead)
    form = client.get("/accounts/new/").content.decode()
    assertInHTML(
        f'<option value="{team_a.lead.pk}" selected>{team_a.lead.get_full_name()} (lead)</option>',
        form,
    )
    assert team_a.other_rep.get_full_name() in form
    assert team_b.rep.get_full_name() not in form

    client.post("/accounts/new/", account_data(owner=team_a.other_rep.pk))

    assert Account.objects.get(name="Initech").owner == team_a.other_rep


def test_a_lead_cannot_give_an_account_to_another_teams_rep(team_a, team_b, signed_in):
    response = signed_in(team_a.lead).post("/accounts/new/", account_data(owner=team_b.rep.pk))
    assert response.status_code == 422
    assert 'id="id_owner_error">Select a valid choice.' in response.content.decode()
    assert not Account.objects.filter(name="Initech").exists()


def test_invalid_input_saves_nothing_and_shows_each_error_next_to_its_field(team_a, signed_in):
    response = signed_in(team_a.rep).post(
        "/accounts/new/", account_data(name="   ", domain="not a domain")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved. Please correct the fields marked below." in html
    assert 'id="id_name_error">This field is required.' in html
    assert 'id="id_domain_error">Enter a domain such as acme.com.' in html
    assert 'value="not a domain"' in html
    assert not Account.objects.exists()


def test_an_admin_must_pick_the_owner_whose_team_the_account_joins(team_b, admin_user, signed_in):
    client = signed_in(admin_user)
    missing = client.post("/accounts/new/", account_data())
    assert missing.status_code == 422
    assert 'id="id_owner_error">This field is required.' in missing.content.decode()

    client.post("/accounts/new/", account_data(owner=team_b.rep.pk))

    account = Account.objects.get(name="Initech")
    assert (account.owner, account.team) == (team_b.rep, team_b.team)


# --- editing and archiving ---------------------------------------------------------------


def test_a_rep_renames_an_account_of_the_team_and_its_owner_stays(story, team_a, signed_in):
    client = signed_in(team_a.other_rep)
    form = client.get(f"/accounts/{story.account.pk}/edit/").content.decode()
    assert 'value="Acme Corp"' in form and 'name="owner"' not in form

    response = client.post(
        f"/accounts/{story.account.pk}/edit/", account_data(name="Acme Inc", domain="acme.test")
    )

    assert response["Location"] == f"/accounts/{story.account.pk}/"
    story.account.refresh_from_db()
    assert (story.account.name, story.account.owner) == ("Acme Inc", team_a.rep)


def test_a_lead_hands_an_account_to_a_colleague(story, team_a, signed_in):
    signed_in(team_a.lead).post(
        f"/accounts/{story.account.pk}/edit/",
        account_data(name="Acme Corp", owner=team_a.other_rep.pk),
    )
    story.account.refresh_from_db()
    assert story.account.owner == team_a.other_rep


def test_an_invalid_edit_changes_nothing_and_the_page_keeps_the_saved_name(
    story, team_a, signed_in
):
    response = signed_in(team_a.rep).post(
        f"/accounts/{story.account.pk}/edit/", account_data(name="", domain="acme")
    )
    assert response.status_code == 422
    assert f'<a href="/accounts/{story.account.pk}/">Acme Corp</a>' in main_of(response)
    story.account.refresh_from_db()
    assert (story.account.name, story.account.domain) == ("Acme Corp", "acme.test")


def test_archiving_asks_first_then_hides_the_account(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    confirm = client.get(f"/accounts/{story.account.pk}/archive/")
    assert "<h1>Archive Acme Corp?</h1>" in confirm.content.decode()
    assert "Book the demo" in confirm.content.decode()
    story.account.refresh_from_db()
    assert not story.account.is_archived

    response = client.post(f"/accounts/{story.account.pk}/archive/")

    assert response["Location"] == "/accounts/"
    listing = client.get("/accounts/").content.decode()
    assert "Acme Corp archived." in listing
    assert f'href="/accounts/{story.account.pk}/"' not in listing
    assert client.get(f"/accounts/{story.account.pk}/").status_code == 404
    story.account.refresh_from_db()
    assert story.account.is_archived


# --- contacts ----------------------------------------------------------------------------


def test_a_contact_is_added_from_the_account_page(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    page = client.get(f"/accounts/{story.account.pk}/").content.decode()
    assert f'action="/accounts/{story.account.pk}/contacts/new/"' in page

    response = client.post(f"/accounts/{story.account.pk}/contacts/new/", contact_data())

    peter = Contact.objects.get(first_name="Peter")
    assert peter.account == story.account and peter.phone == "+1 512 555 0199"
    assert response["Location"] == f"/accounts/{story.account.pk}/#contact-{peter.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "Peter Gibbons added." in page
    assert f'href="/contacts/{peter.pk}/edit/"' in page


def test_an_invalid_contact_is_not_saved_and_its_errors_sit_by_their_fields(
    story, team_a, signed_in
):
    response = signed_in(team_a.rep).post(
        f"/accounts/{story.account.pk}/contacts/new/",
        contact_data(first_name="", email="peter@"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_first_name_error">This field is required.' in html
    assert 'id="id_email_error">Enter a valid email address.' in html
    assert 'value="Gibbons"' in html
    assert not Contact.objects.filter(last_name="Gibbons").exists()


def test_a_contact_is_corrected(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    assert 'value="Lovelace"' in client.get(f"/contacts/{story.ada.pk}/edit/").content.decode()

    response = client.post(
        f"/contacts/{story.ada.pk}/edit/",
        contact_data(first_name="Ada", last_name="King", email="ada@acme.test"),
    )

    assert response["Location"] == f"/accounts/{story.account.pk}/#contact-{story.ada.pk}"
    story.ada.refresh_from_db()
    assert (story.ada.last_name, story.ada.title) == ("King", "Programmer")


def test_an_invalid_correction_changes_nothing(story, team_a, signed_in):
    response = signed_in(team_a.rep).post(
        f"/contacts/{story.ada.pk}/edit/", contact_data(first_name="Ada", email="nope")
    )
    assert response.status_code == 422
    story.ada.refresh_from_db()
    assert (story.ada.last_name, story.ada.email) == ("Lovelace", "ada@acme.test")


def test_deleting_a_contact_asks_first_and_keeps_the_promises_made_to_them(
    story, team_a, signed_in
):
    client = signed_in(team_a.rep)
    assert (
        "<h1>Delete Grace Hopper?</h1>"
        in client.get(f"/contacts/{story.grace.pk}/delete/").content.decode()
    )
    assert Contact.objects.filter(pk=story.grace.pk).exists()

    response = client.post(f"/contacts/{story.grace.pk}/delete/")

    assert response["Location"] == f"/accounts/{story.account.pk}/"
    assert not Contact.objects.filter(pk=story.grace.pk).exists()
    story.demo.refresh_from_db()
    assert story.demo.contact is None
    assert "Grace Hopper deleted." in client.get(response["Location"]).content.decode()


# --- what another team may not reach -----------------------------------------------------


@pytest.fixture
def theirs(story):
    """Another team's account and contact, and an archived account of the team's own."""
    archived = archive_account(AccountFactory(owner=story.account.owner))
    return {
        "account": story.other_team_account,
        "contact": ContactFactory(account=story.other_team_account, first_name="Zed"),
        "archived": archived,
    }


ACCOUNT_PAGES = ["/accounts/{}/edit/", "/accounts/{}/archive/", "/accounts/{}/contacts/new/"]
CONTACT_PAGES = ["/contacts/{}/edit/", "/contacts/{}/delete/"]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", ACCOUNT_PAGES + CONTACT_PAGES)
def test_another_teams_account_and_contacts_are_not_found(theirs, team_a, signed_in, method, path):
    client = signed_in(team_a.rep)
    target = theirs["contact"] if path in CONTACT_PAGES else theirs["account"]
    data = {**account_data(name="Taken"), **contact_data(first_name="Taken")}

    response = getattr(client, method)(path.format(target.pk), data)
    missing = getattr(client, method)(path.format(999_999), data)

    assert response.status_code == missing.status_code == 404
    assert main_of(response) == main_of(missing)
    target.refresh_from_db()
    assert "Taken" not in (getattr(target, "name", ""), getattr(target, "first_name", ""))
    assert Account.objects.get(pk=theirs["account"].pk).archived_at is None
    assert Contact.objects.filter(pk=theirs["contact"].pk).exists()
    assert not Contact.objects.filter(first_name="Taken").exists()


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_an_archived_accounts_forms_are_not_found(theirs, team_a, signed_in, path):
    assert signed_in(team_a.rep).get(path.format(theirs["archived"].pk)).status_code == 404


def test_the_forms_ask_a_visitor_to_sign_in(client, story):
    response = client.get("/accounts/new/")
    assert response["Location"] == "/login/?next=/accounts/new/"
    assert client.post(f"/contacts/{story.ada.pk}/delete/").status_code == 302
    assert Contact.objects.filter(pk=story.ada.pk).exists()


def test_an_archived_account_keeps_its_history(story, team_a, signed_in):
    signed_in(team_a.rep).post(f"/accounts/{story.account.pk}/archive/")
    assert story.account.promises.filter(status=Promise.Status.OPEN).count() == 2
    assert story.account.contacts.count() == 2
