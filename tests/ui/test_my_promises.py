"""The rep's "My promises" page: their promises by open, overdue, due this week, kept, broken."""

from datetime import timedelta

import pytest
from django.utils import timezone

from promises import services
from promises.models import Promise
from tests.factories import AccountFactory, PromiseFactory
from tests.ui.conftest import htmx_from, queries_to_get


@pytest.fixture
def mine(story, team_a):
    """Alice's promises in every state, and promises of others she must not see here."""
    now = timezone.now()

    def promise(description, due_in, account=story.account):
        # Made before it fell due, so that a sweep back then may break it.
        return PromiseFactory(
            account=account,
            description=description,
            due_at=now + timedelta(days=due_in),
            created_at=now + timedelta(days=min(due_in, 0) - 1),
        )

    promises = {
        "quote": story.quote,  # due in 2 days (the story's call)
        "demo": story.demo,  # due in 5 days
        "later": promise("Plan next year", 30),
        "slipped": promise("Call back about the invoice", -2),
        "kept": services.keep_promise(promise("Send the agenda", 1), by=team_a.rep),
        "old_break": promise("Fix the export", -60),
    }
    services.flag_overdue_promises(now=now - timedelta(days=45))  # breaks "old_break"
    services.flag_overdue_promises()  # breaks "slipped" now
    for promise_ in promises.values():
        promise_.refresh_from_db()
    PromiseFactory(account=AccountFactory(owner=team_a.other_rep), description="Andy's own")
    PromiseFactory(account=story.other_team_account, description="Bob's own")
    return promises


def shown(html: str, mine: dict) -> list[str]:
    """Which of ``mine`` the page lists, in its order."""
    positions = {
        name: html.find(f'id="promise-{promise.pk}"')
        for name, promise in mine.items()
        if f'id="promise-{promise.pk}"' in html
    }
    return sorted(positions, key=positions.get)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["quote", "demo", "later"]),
        ("?show=open", ["quote", "demo", "later"]),
        ("?show=overdue", ["slipped"]),
        ("?show=week", ["quote", "demo"]),
        ("?show=kept", ["kept"]),
        ("?show=broken", ["slipped", "old_break"]),
        ("?show=nonsense", ["quote", "demo", "later"]),
    ],
)
def test_each_list_shows_the_users_own_promises_in_its_order(
    mine, team_a, signed_in, query, expected
):
    html = signed_in(team_a.rep).get(f"/promises/{query}").content.decode()
    assert shown(html, mine) == expected
    assert "Andy&#x27;s own" not in html and "Bob&#x27;s own" not in html


def test_the_tabs_count_each_list_and_mark_the_current_one(mine, team_a, signed_in):
    html = signed_in(team_a.rep).get("/promises/?show=week").content.decode()
    tabs = html.split('aria-label="Which promises"')[1].split("</nav>")[0]
    assert 'Open <span class="count">3</span>' in tabs
    assert 'Overdue <span class="count count-bad">1</span>' in tabs
    assert 'aria-current="page">Due this week <span class="count">2</span>' in tabs
    assert 'Kept <span class="count">1</span>' in tabs
    assert 'Broken <span class="count">2</span>' in tabs


def test_the_top_bar_links_to_my_promises(team_a, signed_in):
    html = signed_in(team_a.rep).get("/promises/").content.decode()
    assert '<a href="/promises/" aria-current="page">My promises</a>' in html
    assert "No open promises" in html


def test_keeping_from_the_list_answers_the_card_alone(mine, team_a, signed_in):
    response = signed_in(team_a.rep).post(
        f"/promises/{mine['quote'].pk}/keep/", **htmx_from("/promises/?show=week")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kept on time" in html
    # This page has no timeline nor open list to update.
    assert "hx-swap-oob" not in html
    assert Promise.objects.get(pk=mine["quote"].pk).status == Promise.Status.KEPT


def test_without_javascript_an_action_comes_back_to_the_list(mine, team_a, signed_in):
    client = signed_in(team_a.rep)
    page = client.get("/promises/?show=overdue").content.decode()
    back = f"/promises/?show=overdue#promise-{mine['slipped'].pk}"
    assert f'<input type="hidden" name="next" value="{back}">' in page

    response = client.post(f"/promises/{mine['slipped'].pk}/keep/", {"next": back})

    assert response["Location"] == back
    assert "Marked as kept: Call back about the invoice" in client.get(back).content.decode()
    elsewhere = client.post(f"/promises/{mine['demo'].pk}/keep/", {"next": "https://evil.example/"})
    assert (
        elsewhere["Location"] == f"/accounts/{mine['demo'].account_id}/#promise-{mine['demo'].pk}"
    )


def test_the_list_costs_the_same_queries_for_few_promises_or_many(mine, team_a, signed_in):
    client = signed_in(team_a.rep)
    few = queries_to_get(client, "/promises/")
    for _ in range(12):
        PromiseFactory(account=AccountFactory(owner=team_a.rep))
    assert queries_to_get(client, "/promises/") == few


def test_the_home_page_links_to_the_full_lists(mine, team_a, signed_in):
    html = signed_in(team_a.rep).get("/").content.decode()
    assert 'href="/promises/?show=overdue"' in html and 'href="/promises/"' in html
