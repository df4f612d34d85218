"""/api/v1/accounts/: the customers a team owns."""

import pytest
from django.utils import timezone

from accounts.models import Account
from interactions.models import Interaction
from promises.models import Promise
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    PromiseFactory,
    UserFactory,
)

URL = "/api/v1/accounts/"


def ids(answer):
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def test_a_rep_creates_an_account_that_they_own_in_their_team(team_a, rep_client):
    answer = rep_client.post(URL, {"name": "Acme", "domain": "acme.test"}, format="json")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert {key: body[key] for key in ("name", "domain", "owner", "team", "health")} == {
        "name": "Acme",
        "domain": "acme.test",
        "owner": team_a.rep.pk,
        "team": team_a.team.pk,
        "health": None,
    }
    assert Account.objects.get(pk=body["id"]).owner == team_a.rep


def test_the_team_defaults_to_the_owners_team(team_a, lead_client):
    answer = lead_client.post(URL, {"name": "Acme", "owner": team_a.rep.pk}, format="json")
    assert answer.status_code == 201, answer.content
    assert (answer.json()["owner"], answer.json()["team"]) == (team_a.rep.pk, team_a.team.pk)


def test_an_admin_creates_an_account_for_any_team(team_b, admin_client_api):
    answer = admin_client_api.post(URL, {"name": "Acme", "owner": team_b.rep.pk}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["team"] == team_b.team.pk


def test_an_admin_owning_an_account_must_name_its_team(admin_client_api):
    answer = admin_client_api.post(URL, {"name": "Acme"}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == ["team"]
    assert not Account.objects.exists()


def test_the_owner_must_be_a_member_of_the_accounts_team(team_a, team_b, admin_client_api):
    answer = admin_client_api.post(
        URL, {"name": "Acme", "owner": team_a.rep.pk, "team": team_b.team.pk}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json() == {"owner": ["The owner must be a member of the account's team."]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "domain": "d" * 254}, "domain"),
        ({"name": "Acme", "owner": "alice"}, "owner"),
        ({"name": "Acme", "team": None}, "team"),
        ([{"name": "Acme"}], "non_field_errors"),
        ("Acme", "non_field_errors"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_creates_nothing(rep_client, body, field):
    answer = rep_client.post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [field]
    assert not Account.objects.exists()


def test_the_health_summary_is_the_latest_computed_health(team_a, rep_client):
    account = AccountFactory(
        owner=team_a.rep,
        health_score=38.5,
        health_band="at_risk",
        health_confidence=0.75,
        health_computed_at=timezone.now(),
    )
    health = rep_client.get(f"{URL}{account.pk}/").json()["health"]
    assert (health["score"], health["band"], health["confidence"]) == (38.5, "at_risk", 0.75)
    assert health["computed_at"].endswith(("Z", "+00:00"))


def test_patch_renames_and_reassigns_within_the_team(team_a, rep_client):
    account = AccountFactory(owner=team_a.rep, name="Old name")
    answer = rep_client.patch(
        f"{URL}{account.pk}/", {"name": "New name", "owner": team_a.other_rep.pk}, format="json"
    )
    assert answer.status_code == 200, answer.content
    account.refresh_from_db()
    assert (account.name, account.owner) == ("New name", team_a.other_rep)


def test_patch_with_a_blank_name_is_a_400_and_changes_nothing(team_a, rep_client):
    account = AccountFactory(owner=team_a.rep, name="Keep me")
    answer = rep_client.patch(f"{URL}{account.pk}/", {"name": ""}, format="json")
    assert answer.status_code == 400
    account.refresh_from_db()
    assert account.name == "Keep me"


def test_put_is_not_offered(team_a, rep_client):
    account = AccountFactory(owner=team_a.rep)
    assert rep_client.put(f"{URL}{account.pk}/", {"name": "X"}, format="json").status_code == 405


# --- archiving --------------------------------------------------------------------------


def test_delete_archives_the_account_hides_it_and_keeps_its_history(team_a, rep_client):
    account = AccountFactory(owner=team_a.rep)
    contact = ContactFactory(account=account)
    interaction = InteractionFactory(account=account)
    promise = PromiseFactory(account=account)

    answer = rep_client.delete(f"{URL}{account.pk}/")

    assert answer.status_code == 204
    assert rep_client.get(f"{URL}{account.pk}/").status_code == 404
    assert ids(rep_client.get(URL)) == set()
    assert rep_client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert rep_client.get(f"/api/v1/promises/{promise.pk}/").status_code == 404
    account.refresh_from_db()
    assert account.archived_at is not None
    assert Interaction.objects.filter(pk=interaction.pk).exists()
    assert Promise.objects.filter(pk=promise.pk).exists()


def test_an_archived_account_takes_no_new_contacts(team_a, rep_client):
    account = AccountFactory(owner=team_a.rep, archived_at=timezone.now())
    answer = rep_client.post(
        "/api/v1/contacts/", {"account": account.pk, "first_name": "Ada"}, format="json"
    )
    assert answer.status_code == 400
    assert list(answer.json()) == ["account"]


# --- filters ----------------------------------------------------------------------------


def test_filters_by_owner(team_a, rep_client):
    mine = AccountFactory(owner=team_a.rep)
    AccountFactory(owner=team_a.other_rep)
    assert ids(rep_client.get(URL, {"owner": team_a.rep.pk})) == {mine.pk}


def test_filters_by_team(team_a, team_b, admin_client_api):
    north = AccountFactory(owner=team_a.rep)
    AccountFactory(owner=team_b.rep)
    assert ids(admin_client_api.get(URL, {"team": team_a.team.pk})) == {north.pk}


def test_filters_by_band(team_a, rep_client):
    at_risk = AccountFactory(owner=team_a.rep, health_band="at_risk")
    AccountFactory(owner=team_a.rep, health_band="healthy")
    AccountFactory(owner=team_a.rep)
    assert ids(rep_client.get(URL, {"band": "at_risk"})) == {at_risk.pk}


def test_search_matches_name_or_domain_case_insensitively(team_a, rep_client):
    by_name = AccountFactory(owner=team_a.rep, name="Globex Corporation", domain="g.test")
    by_domain = AccountFactory(owner=team_a.rep, name="Initech", domain="globex-partner.test")
    AccountFactory(owner=team_a.rep, name="Umbrella", domain="umbrella.test")
    assert ids(rep_client.get(URL, {"search": "GLOBEX"})) == {by_name.pk, by_domain.pk}


@pytest.mark.parametrize("query", [{"band": "great"}, {"owner": "alice"}, {"team": "1.5"}])
def test_a_malformed_filter_is_a_400(rep_client, query):
    assert rep_client.get(URL, query).status_code == 400


def test_a_user_of_no_team_cannot_be_made_an_owner(team_a, rep_client):
    drifter = UserFactory(team=None)
    answer = rep_client.post(URL, {"name": "Acme", "owner": drifter.pk}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == ["owner"]
