"""The rep's home page: relationships by health, promises due soon and overdue."""

from datetime import timedelta

from django.utils import timezone

from promises import services
from tests.factories import AccountFactory, AlertFactory, PromiseFactory
from tests.ui.conftest import health_history, queries_to_get


def test_my_relationships_come_weakest_first_with_score_band_and_trend(story, team_a, signed_in):
    strong = AccountFactory(name="Strong Ltd", owner=team_a.rep)
    health_history(strong, [80, 84, 86])
    AccountFactory(name="Brand New", owner=team_a.rep)
    AccountFactory(name="Andys Account", owner=team_a.other_rep)

    html = signed_in(team_a.rep).get("/").content.decode()

    assert html.index("Acme Corp") < html.index("Strong Ltd") < html.index("Brand New")
    assert "Andys Account" not in html and "Zeta Industries" not in html
    assert '<span class="band band-watch">Watch</span>' in html
    assert '<svg class="spark spark-watch"' in html
    assert "Trend: 78 to 48 over 6 computations" in html
    assert '<span class="band band-none">Not computed</span>' in html


def test_my_overdue_and_due_soon_promises_are_listed(story, team_a, signed_in):
    now = timezone.now()
    overdue = PromiseFactory(
        account=story.account,
        description="Call back about the invoice",
        due_at=now - timedelta(days=2),
    )
    PromiseFactory(
        account=story.account, description="Plan next year", due_at=now + timedelta(days=30)
    )
    PromiseFactory(
        account=AccountFactory(owner=team_a.other_rep),
        description="Andy's promise",
        due_at=now + timedelta(days=1),
    )
    services.flag_overdue_promises()

    html = signed_in(team_a.rep).get("/").content.decode()

    slipped, soon = html.split('id="soon-title"')
    assert f"#promise-{overdue.pk}" in slipped and "Broken" in slipped
    assert "Send the revised quote" in soon and "Book the demo" in soon
    assert "Plan next year" not in html and "Andy&#x27;s promise" not in html


def test_a_lead_sees_the_team_at_a_glance_and_a_rep_does_not(story, team_a, signed_in):
    AlertFactory(account=story.account)
    lead_home = signed_in(team_a.lead).get("/").content.decode()
    assert "<strong>1</strong> open alert" in lead_home
    assert "<strong>0</strong> accounts at risk" in lead_home
    assert "<strong>1</strong> to watch" in lead_home
    assert "open alert" not in signed_in(team_a.rep).get("/").content.decode()


def test_home_costs_the_same_queries_for_two_accounts_or_twenty(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    few = queries_to_get(client, "/")
    for index in range(18):
        account = AccountFactory(owner=team_a.rep)
        health_history(account, [50 + index, 52, 55])
        PromiseFactory(account=account, due_at=timezone.now() + timedelta(days=1))
    assert queries_to_get(client, "/") == few


def test_home_stays_within_its_query_budget(
    story, team_a, signed_in, django_assert_max_num_queries
):
    client = signed_in(team_a.lead)
    with django_assert_max_num_queries(10):
        client.get("/")
