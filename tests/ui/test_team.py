"""The team view: each member's promise-keeping record and the team's at-risk accounts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from promises import services
from tests.factories import AccountFactory, PromiseFactory, TeamFactory, UserFactory
from tests.ui.conftest import health_history, queries_to_get


def promise(account, by, *, due_in_days, description="x"):
    return services.create_promise(
        account=account,
        description=description,
        due_at=timezone.now() + timedelta(days=due_in_days),
        by=by,
    )


def record_row(html, name):
    return html.split(f"{name} <span")[1].split("</tr>")[0]


def test_each_members_record_counts_on_time_late_and_broken_over_30_and_90_days(team_a, signed_in):
    team_a.rep.first_name, team_a.rep.last_name = "Alice", "Martin"
    team_a.rep.save()
    account = AccountFactory(owner=team_a.rep)
    now = timezone.now()
    for _ in range(3):  # kept on time, today
        services.keep_promise(promise(account, team_a.rep, due_in_days=2), by=team_a.rep)
    # kept late, today
    services.keep_promise(promise(account, team_a.rep, due_in_days=-1), by=team_a.rep)
    # broken by the sweep 60 days ago: in the 90-day record only
    PromiseFactory(
        account=account, due_at=now - timedelta(days=61), created_at=now - timedelta(days=62)
    )
    services.flag_overdue_promises(now=now - timedelta(days=60))
    # still open, one of them overdue
    promise(account, team_a.rep, due_in_days=4)
    promise(account, team_a.rep, due_in_days=-2)

    html = signed_in(team_a.lead).get("/team/").content.decode()

    alice = record_row(html, "Alice Martin")
    last_30, last_90 = alice.split("</td>")[:2]
    assert "75%" in last_30 and "3 on time · 1 late · 0 broken" in last_30
    assert "60%" in last_90 and "3 on time · 1 late · 1 broken" in last_90
    assert '2 <span class="overdue">· 1 overdue</span>' in alice
    andy = record_row(html, team_a.other_rep.get_full_name())
    assert "Nothing came due" in andy


def test_the_teams_at_risk_accounts_are_listed(team_a, team_b, signed_in):
    risky = AccountFactory(name="Risky Ltd", owner=team_a.other_rep)
    health_history(risky, [50, 35])
    fine = AccountFactory(name="Fine Ltd", owner=team_a.rep)
    health_history(fine, [80])
    theirs = AccountFactory(name="Their Risk", owner=team_b.rep)
    health_history(theirs, [20])

    html = signed_in(team_a.lead).get("/team/").content.decode()
    at_risk = html.split('id="at-risk-title"')[1]
    assert "Risky Ltd" in at_risk and "Fine Ltd" not in at_risk and "Their Risk" not in html


def test_a_rep_may_not_see_the_team_view(team_a, signed_in):
    response = signed_in(team_a.rep).get("/team/")
    assert response.status_code == 403
    assert "This page is for team leads and admins." in response.content.decode()


def test_an_admin_picks_the_team(team_a, team_b, admin_user, signed_in):
    client = signed_in(admin_user)
    assert "Southwind sales" in client.get(f"/team/?team={team_b.team.pk}").content.decode()
    assert "<h1>Northwind sales</h1>" in client.get("/team/?team=nonsense").content.decode()


@pytest.mark.parametrize("odd", ["\u00b2", "1\u00b2", "99999999999999999999", "0"])
def test_an_admin_asking_for_a_team_by_what_is_not_an_id_sees_the_first_team(
    team_a, team_b, admin_user, signed_in, odd
):
    answer = signed_in(admin_user).get("/team/", {"team": odd})
    assert answer.status_code == 200
    assert "<h1>Northwind sales</h1>" in answer.content.decode()


def test_a_lead_sees_only_their_own_team_whatever_the_query(team_a, team_b, signed_in):
    html = signed_in(team_a.lead).get(f"/team/?team={team_b.team.pk}").content.decode()
    assert "<h1>Northwind sales</h1>" in html
    assert team_b.rep.username not in html


def test_the_team_view_costs_the_same_queries_for_a_bigger_team(team_a, signed_in):
    def add_member_with_an_account_at_risk():
        member = UserFactory(team=team_a.team)
        account = AccountFactory(owner=member)
        health_history(account, [30, 25])
        services.keep_promise(promise(account, member, due_in_days=1), by=member)

    client = signed_in(team_a.lead)
    add_member_with_an_account_at_risk()
    few = queries_to_get(client, "/team/")
    for _ in range(8):
        add_member_with_an_account_at_risk()
    UserFactory(team=TeamFactory())
    assert queries_to_get(client, "/team/") == few
