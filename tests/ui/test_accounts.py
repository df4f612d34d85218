"""Account pages: the list, quick search, and one account with its health and timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import archive_account
from promises import services
from promises.selectors import TIMELINE_SIZE
from tests.factories import AccountFactory, ContactFactory, InteractionFactory
from tests.ui.conftest import HTMX, health_history, main_of, queries_to_get


def test_the_account_page_shows_health_in_words_contacts_and_one_timeline(story, team_a, signed_in):
    services.keep_promise(story.quote, by=team_a.rep)
    on_its_own = services.create_promise(
        account=story.account,
        description="Share the roadmap",
        due_at=timezone.now() + timedelta(days=9),
        by=team_a.rep,
    )

    html = signed_in(team_a.rep).get(f"/accounts/{story.account.pk}/").content.decode()

    assert '<span class="health-score">48</span>' in html
    assert "Medium confidence" in html
    assert "2 promises broken silently in the last 90 days" in html
    assert '<span class="effect effect-down">\u221214</span>' in html
    assert "Ada Lovelace" in html and "Grace Hopper" in html
    timeline = html.split('id="timeline-list"')[1]
    # Newest first: the promise made on its own, the keep, then the call with both promises.
    assert (
        timeline.index("Share the roadmap")
        < timeline.index("Kept on time")
        < timeline.index(f'id="interaction-{story.call.pk}"')
        < timeline.index(f'id="promise-{story.quote.pk}"')
        < timeline.index(f'id="promise-{story.demo.pk}"')
    )
    assert f'id="promise-{on_its_own.pk}"' in timeline
    open_list = html.split('id="open-promises"')[1].split("</section>")[0]
    assert "Book the demo" in open_list and "Send the revised quote" not in open_list


def test_an_account_without_health_says_so(team_a, signed_in):
    account = AccountFactory(owner=team_a.rep)
    html = signed_in(team_a.rep).get(f"/accounts/{account.pk}/").content.decode()
    assert "No health computed yet" in html
    assert "Nothing logged yet" in html


@pytest.mark.parametrize("path", ["/accounts/{}/", "/accounts/{}/health/", "/accounts/{}/log/"])
def test_another_teams_account_is_not_found(story, team_a, signed_in, path):
    client = signed_in(team_a.rep)
    theirs = client.get(path.format(story.other_team_account.pk))
    missing = client.get(path.format(999_999))
    assert theirs.status_code == missing.status_code == 404
    # Word for word the same page: nothing tells that the other team's account exists.
    assert main_of(theirs) == main_of(missing)


def test_an_archived_account_is_not_found(story, team_a, signed_in):
    archive_account(story.account)
    assert signed_in(team_a.rep).get(f"/accounts/{story.account.pk}/").status_code == 404


def test_an_admin_sees_every_teams_account(story, admin_user, signed_in):
    client = signed_in(admin_user)
    assert client.get(f"/accounts/{story.other_team_account.pk}/").status_code == 200
    assert "Admin" in client.get("/").content.decode()


def test_a_long_timeline_is_shown_a_page_at_a_time(team_a, signed_in):
    account = AccountFactory(owner=team_a.rep)
    now = timezone.now()
    calls = [
        InteractionFactory(
            account=account, summary=f"Call {n}", occurred_at=now - timedelta(days=n)
        )
        for n in range(TIMELINE_SIZE + 5)
    ]
    client = signed_in(team_a.rep)
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'id="interaction-{calls[TIMELINE_SIZE - 1].pk}"' in html
    assert f'id="interaction-{calls[TIMELINE_SIZE].pk}"' not in html
    older = html.split('<li class="entry-more">')[1].split('href="')[1].split('"')[0]

    more = client.get(older.replace("&amp;", "&"), **HTMX)

    assert more.status_code == 200
    assert "<html" not in more.content.decode()
    shown = more.content.decode()
    assert all(f'id="interaction-{call.pk}"' in shown for call in calls[TIMELINE_SIZE:])
    assert "entry-more" not in shown


@pytest.mark.parametrize("offset", ["+16:00", "-16:00"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_timeline_page_before_a_time_with_an_offset_beyond_15_59_is_a_400(
    story, team_a, signed_in, offset, headers
):
    url = f"/accounts/{story.account.pk}/"
    answer = signed_in(team_a.rep).get(url, {"before": f"2026-12-01T00:00:00{offset}"}, **headers)
    assert answer.status_code == 400
    assert "The UTC offset must lie between -15:59 and +15:59." in answer.content.decode()


def test_the_account_page_costs_the_same_queries_whatever_its_history(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    url = f"/accounts/{story.account.pk}/"
    few = queries_to_get(client, url)
    for index in range(15):
        contact = ContactFactory(account=story.account)
        services.log_interaction(
            account=story.account,
            logged_by=team_a.rep,
            kind="email",
            direction="inbound",
            occurred_at=timezone.now() - timedelta(hours=index),
            contacts=[contact],
            promises=[
                {"description": f"Reply {index}", "due_at": timezone.now() + timedelta(days=1)}
            ],
        )
    many = queries_to_get(client, url)
    assert many == few
    assert few <= 13


def test_the_account_list_filters_by_band_and_name_within_the_team(story, team_a, signed_in):
    healthy = AccountFactory(name="Healthy Co", owner=team_a.other_rep)
    health_history(healthy, [75, 81])
    client = signed_in(team_a.rep)

    everything = client.get("/accounts/").content.decode()
    assert "Acme Corp" in everything and "Healthy Co" in everything
    assert "Zeta Industries" not in everything

    watch = client.get("/accounts/?band=watch").content.decode()
    assert "Acme Corp" in watch and "Healthy Co" not in watch
    named = client.get("/accounts/?q=healthy").content.decode()
    assert "Healthy Co" in named and "Acme Corp" not in named


def test_quick_search_finds_accounts_and_contacts_of_the_team_only(story, team_a, signed_in):
    ContactFactory(account=story.other_team_account, first_name="Adam", last_name="Other")
    client = signed_in(team_a.rep)

    partial = client.get("/search/?q=ad", **HTMX).content.decode()
    assert "<html" not in partial
    assert "Ada Lovelace" in partial and "Adam Other" not in partial

    page = client.get("/search/?q=acme").content.decode()
    assert "<html" in page and f'href="/accounts/{story.account.pk}/"' in page
    assert "Nothing matches" in client.get("/search/?q=zeta", **HTMX).content.decode()


@pytest.mark.parametrize("path", ["/search/", "/accounts/"])
@pytest.mark.parametrize("text", ["\x00", "acme\x00", "a\x00b"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_search_for_text_with_a_nul_character_is_a_400_saying_so(
    story, team_a, signed_in, path, text, headers
):
    answer = signed_in(team_a.rep).get(path, {"q": text}, **headers)
    assert answer.status_code == 400
    assert "Null characters are not allowed." in answer.content.decode()
