"""The lead's alert inbox: filters, acknowledge, resolve with a note, bulk acknowledge."""

import pytest

from promises import services
from promises.models import Alert
from tests.factories import AccountFactory, AlertFactory, LeadFactory
from tests.ui.conftest import HTMX, queries_to_get


@pytest.fixture
def alerts(story, team_a):
    broken = services.break_promise(story.demo, by=team_a.rep, note="Not this month")
    return {
        "broken": Alert.objects.get(promise=broken),
        "drop": AlertFactory(account=story.account, detail="Fell to 38"),
        "resolved": AlertFactory(account=story.account, status=Alert.Status.RESOLVED),
        "theirs": AlertFactory(account=story.other_team_account, detail="Southwind only"),
    }


def test_a_rep_may_not_open_the_inbox_nor_review(alerts, team_a, signed_in):
    client = signed_in(team_a.rep)
    assert client.get("/alerts/").status_code == 403
    assert client.post(f"/alerts/{alerts['drop'].pk}/acknowledge/").status_code == 403
    assert client.post("/alerts/acknowledge/", {"alert": [alerts["drop"].pk]}).status_code == 403
    alerts["drop"].refresh_from_db()
    assert alerts["drop"].status == Alert.Status.OPEN


def test_the_inbox_shows_the_teams_unresolved_alerts_newest_first(alerts, team_a, signed_in):
    html = signed_in(team_a.lead).get("/alerts/").content.decode()
    assert html.index(f'id="alert-{alerts["drop"].pk}"') < html.index(
        f'id="alert-{alerts["broken"].pk}"'
    )
    assert f'id="alert-{alerts["resolved"].pk}"' not in html
    assert "Southwind only" not in html
    assert "“Book the demo”" in html


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ("?kind=promise_broken", ["broken"], ["drop", "resolved"]),
        ("?kind=health_drop&status=all", ["drop", "resolved"], ["broken"]),
        ("?status=resolved", ["resolved"], ["drop", "broken"]),
        ("?status=nonsense&kind=bogus", ["drop", "broken"], ["resolved"]),
    ],
)
def test_the_inbox_filters_by_kind_and_status(alerts, team_a, signed_in, query, shown, hidden):
    html = signed_in(team_a.lead).get(f"/alerts/{query}").content.decode()
    assert all(f'id="alert-{alerts[name].pk}"' in html for name in shown)
    assert not any(f'id="alert-{alerts[name].pk}"' in html for name in hidden)


def test_acknowledging_with_htmx_answers_the_updated_row(alerts, team_a, signed_in):
    response = signed_in(team_a.lead).post(f"/alerts/{alerts['drop'].pk}/acknowledge/", **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<li class="alert-row alert-acknowledged"')
    alerts["drop"].refresh_from_db()
    assert alerts["drop"].status == Alert.Status.ACKNOWLEDGED
    assert alerts["drop"].acknowledged_by == team_a.lead


def test_resolving_needs_a_note(alerts, team_a, signed_in):
    client = signed_in(team_a.lead)
    missing = client.post(f"/alerts/{alerts['drop'].pk}/resolve/", {"note": " "}, **HTMX)
    assert missing.status_code == 422
    assert "This field is required." in missing.content.decode()

    done = client.post(f"/alerts/{alerts['drop'].pk}/resolve/", {"note": "Called them"}, **HTMX)
    assert done.status_code == 200
    alerts["drop"].refresh_from_db()
    assert (alerts["drop"].status, alerts["drop"].note) == (Alert.Status.RESOLVED, "Called them")


def test_resolving_twice_is_a_409_and_without_htmx_a_message(alerts, team_a, signed_in):
    client = signed_in(team_a.lead)
    pk = alerts["resolved"].pk
    assert client.post(f"/alerts/{pk}/resolve/", {"note": "again"}, **HTMX).status_code == 409
    response = client.post(
        f"/alerts/{pk}/resolve/", {"note": "again", "next": "/alerts/?status=all"}
    )
    assert response["Location"] == "/alerts/?status=all"
    assert "already resolved" in client.get(response["Location"]).content.decode()


def test_another_teams_alert_is_not_found(alerts, team_a, signed_in):
    client = signed_in(team_a.lead)
    assert client.post(f"/alerts/{alerts['theirs'].pk}/acknowledge/").status_code == 404
    assert client.post(f"/alerts/{alerts['theirs'].pk}/resolve/", {"note": "x"}).status_code == 404


def test_bulk_acknowledge_takes_the_checked_open_alerts_of_the_team_only(alerts, team_a, signed_in):
    client = signed_in(team_a.lead)
    response = client.post(
        "/alerts/acknowledge/",
        {
            "alert": [alerts["broken"].pk, alerts["drop"].pk, alerts["theirs"].pk, "x"],
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/alerts/"
    assert "2 alerts acknowledged." in client.get("/alerts/").content.decode()
    statuses = {name: Alert.objects.get(pk=alert.pk).status for name, alert in alerts.items()}
    assert statuses == {
        "broken": Alert.Status.ACKNOWLEDGED,
        "drop": Alert.Status.ACKNOWLEDGED,
        "resolved": Alert.Status.RESOLVED,
        "theirs": Alert.Status.OPEN,
    }


@pytest.mark.parametrize("odd", ["\u00b2", "1\u00b2", "99999999999999999999", "-1", ""])
def test_bulk_acknowledge_skips_what_is_not_an_id(alerts, team_a, signed_in, odd):
    # str.isdigit() says "²" is a digit; no id is written so.
    client = signed_in(team_a.lead)
    response = client.post("/alerts/acknowledge/", {"alert": [odd, alerts["drop"].pk]})
    assert response.status_code == 302
    assert Alert.objects.get(pk=alerts["drop"].pk).status == Alert.Status.ACKNOWLEDGED
    assert Alert.objects.get(pk=alerts["broken"].pk).status == Alert.Status.OPEN


def test_an_admin_reviews_every_teams_alerts(alerts, admin_user, signed_in):
    client = signed_in(admin_user)
    assert "Southwind only" in client.get("/alerts/").content.decode()
    assert client.post(f"/alerts/{alerts['theirs'].pk}/acknowledge/", **HTMX).status_code == 200


def test_the_inbox_costs_the_same_queries_for_few_or_many_alerts(alerts, team_a, signed_in):
    client = signed_in(team_a.lead)
    few = queries_to_get(client, "/alerts/")
    for _ in range(12):
        account = AccountFactory(owner=team_a.other_rep)
        AlertFactory(account=account)
        services.break_promise(
            services.create_promise(
                account=account,
                description="x",
                due_at=account.created_at,
                by=team_a.other_rep,
            ),
            by=team_a.other_rep,
        )
    assert queries_to_get(client, "/alerts/") == few


def test_bulk_acknowledge_changes_nothing_when_another_lead_got_there_first(
    alerts, team_a, signed_in, monkeypatch
):
    colleague = LeadFactory(team=team_a.team)
    acknowledge_alerts = services.acknowledge_alerts

    def after_a_colleague(selected, **kwargs):
        # The colleague acknowledges one between the inbox's read and the service's lock.
        selected = list(selected)
        acknowledge_alerts([alerts["drop"]], by=colleague)
        return acknowledge_alerts(selected, **kwargs)

    monkeypatch.setattr(services, "acknowledge_alerts", after_a_colleague)
    client = signed_in(team_a.lead)
    response = client.post(
        "/alerts/acknowledge/", {"alert": [alerts["broken"].pk, alerts["drop"].pk]}
    )

    html = client.get(response["Location"]).content.decode()
    assert "is already acknowledged. Nothing was acknowledged" in html
    assert Alert.objects.get(pk=alerts["broken"].pk).status == Alert.Status.OPEN
    assert Alert.objects.get(pk=alerts["drop"].pk).acknowledged_by == colleague
