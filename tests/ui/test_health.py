"""The health page: score, components with their weights, explanation and history chart."""

from tests.factories import AccountFactory
from tests.ui.conftest import health_history, queries_to_get


def test_the_health_page_shows_components_explanation_and_history(story, team_a, signed_in):
    html = signed_in(team_a.rep).get(f"/accounts/{story.account.pk}/health/").content.decode()

    assert '<span class="health-score">48</span>' in html
    assert "Medium confidence (62%)" in html
    assert "2 promises broken silently in the last 90 days" in html
    components = html.split('id="components-title"')[1]
    # Heaviest first, with weight and points.
    assert components.index("Reliability") < components.index("Engagement")
    assert components.index("Engagement") < components.index("Responsiveness")
    assert "Do we keep what we promise?" in components
    assert '<td class="num">40%</td>' in components
    assert "\u221211.5" in components
    assert '<svg class="chart" viewBox="0 0 720 240" role="img"' in html
    assert "Health history: 6 computations" in html
    assert html.count('<circle class="dot"') == 6


def test_an_account_without_health_says_so(team_a, signed_in):
    account = AccountFactory(owner=team_a.rep)
    html = signed_in(team_a.rep).get(f"/accounts/{account.pk}/health/").content.decode()
    assert "No health computed yet." in html
    assert "<svg" not in html.split("<main")[1]


def test_the_health_page_costs_the_same_queries_for_a_long_history(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    url = f"/accounts/{story.account.pk}/health/"
    few = queries_to_get(client, url)
    health_history(story.account, list(range(20, 80)), days_apart=1)
    assert queries_to_get(client, url) == few
