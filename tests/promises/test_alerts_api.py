"""/api/v1/alerts/: what a team lead reviews, acknowledges and resolves."""

import pytest

from promises import services
from promises.models import Alert
from tests.factories import AccountFactory, AlertFactory, PromiseFactory

URL = "/api/v1/alerts/"


@pytest.fixture
def account(team_a):
    return AccountFactory(owner=team_a.rep)


@pytest.fixture
def alert(account):
    return AlertFactory(account=account, detail="Health fell to 35")


def broken_promise_alert(account) -> Alert:
    promise = services.break_promise(PromiseFactory(account=account), by=None)
    return Alert.objects.get(promise=promise)


def ids(answer):
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def review(client, alert, action, body=None):
    return client.post(f"{URL}{alert.pk}/{action}/", {} if body is None else body, format="json")


def test_an_alert_of_a_broken_promise_names_it_and_a_health_drop_names_none(
    rep_client, account, alert
):
    broken = broken_promise_alert(account)

    rows = {row["id"]: row for row in rep_client.get(URL).json()["results"]}

    assert (rows[broken.pk]["kind"], rows[broken.pk]["promise"]) == (
        "promise_broken",
        broken.promise_id,
    )
    assert (rows[alert.pk]["kind"], rows[alert.pk]["promise"]) == ("health_drop", None)
    assert {
        "id", "kind", "status", "account", "promise", "created_at", "acknowledged_by",
        "acknowledged_at", "resolved_by", "resolved_at", "note",
    } <= set(rows[alert.pk])  # fmt: skip


def test_a_lead_acknowledges_an_alert_of_their_team(team_a, lead_client, alert):
    answer = review(lead_client, alert, "acknowledge")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["acknowledged_by"]) == ("acknowledged", team_a.lead.pk)
    assert body["acknowledged_at"] is not None


def test_a_lead_resolves_an_alert_with_a_note(team_a, lead_client, alert):
    answer = review(lead_client, alert, "resolve", {"note": "Called the customer, all good"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["resolved_by"], body["note"]) == (
        "resolved",
        team_a.lead.pk,
        "Called the customer, all good",
    )
    assert body["resolved_at"] is not None


def test_an_admin_reviews_any_teams_alerts(admin_client_api, alert):
    assert review(admin_client_api, alert, "acknowledge").status_code == 200
    assert review(admin_client_api, alert, "resolve", {"note": "ok"}).status_code == 200


@pytest.mark.parametrize(
    ("action", "body"), [("acknowledge", {}), ("resolve", {"note": "x"}), ("resolve", {})]
)
def test_a_rep_may_read_alerts_but_not_review_them(rep_client, alert, action, body):
    before = Alert.objects.values().get(pk=alert.pk)

    answer = review(rep_client, alert, action, body)

    assert answer.status_code == 403
    assert answer.json() == {"detail": "Only the team's leads and admins review alerts."}
    assert Alert.objects.values().get(pk=alert.pk) == before
    assert rep_client.get(f"{URL}{alert.pk}/").status_code == 200


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_a_lead_of_another_team_gets_a_404(team_b, as_user, alert, action):
    before = Alert.objects.values().get(pk=alert.pk)
    answer = review(as_user(team_b.lead), alert, action, {"note": "mine now"})
    assert answer.status_code == 404
    assert Alert.objects.values().get(pk=alert.pk) == before


@pytest.mark.parametrize(
    ("done", "action"),
    [
        (["resolve"], "resolve"),
        (["acknowledge"], "acknowledge"),
        (["resolve"], "acknowledge"),
        (["acknowledge", "resolve"], "resolve"),
    ],
)
def test_reviewing_again_what_the_status_does_not_allow_is_a_409(lead_client, alert, done, action):
    for step in done:
        assert review(lead_client, alert, step, {"note": "first"}).status_code == 200
    before = Alert.objects.values().get(pk=alert.pk)

    answer = review(lead_client, alert, action, {"note": "second"})

    assert answer.status_code == 409
    assert answer.json() == {"detail": f"This alert is already {before['status']}."}
    assert Alert.objects.values().get(pk=alert.pk) == before


def test_resolving_an_acknowledged_alert_keeps_who_acknowledged_it(
    team_a, lead_client, as_user, admin_user, alert
):
    review(lead_client, alert, "acknowledge")
    answer = review(as_user(admin_user), alert, "resolve", {"note": "closed"})
    body = answer.json()
    assert (body["acknowledged_by"], body["resolved_by"]) == (team_a.lead.pk, admin_user.pk)


@pytest.mark.parametrize("body", [{}, {"note": ""}, ["closed"]])
def test_resolve_needs_a_note(lead_client, alert, body):
    answer = review(lead_client, alert, "resolve", body)
    assert answer.status_code == 400
    alert.refresh_from_db()
    assert alert.status == "open"


def test_filters_by_status_kind_and_account(team_a, rep_client, account, alert):
    broken = broken_promise_alert(account)
    elsewhere = AlertFactory(account=AccountFactory(owner=team_a.rep))
    services.acknowledge_alert(elsewhere, by=team_a.lead)

    assert ids(rep_client.get(URL, {"status": "acknowledged"})) == {elsewhere.pk}
    assert ids(rep_client.get(URL, {"kind": "promise_broken"})) == {broken.pk}
    assert ids(rep_client.get(URL, {"account": account.pk})) == {alert.pk, broken.pk}


@pytest.mark.parametrize("query", [{"status": "closed"}, {"kind": "fire"}, {"account": "x"}])
def test_a_malformed_filter_is_a_400(rep_client, query):
    assert rep_client.get(URL, query).status_code == 400


def test_alerts_are_read_only_outside_their_actions(lead_client, alert):
    assert lead_client.patch(f"{URL}{alert.pk}/", {"status": "resolved"}).status_code == 405
    assert lead_client.delete(f"{URL}{alert.pk}/").status_code == 405
    assert lead_client.post(URL, {"kind": "health_drop"}).status_code == 405
