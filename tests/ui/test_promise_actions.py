"""Keeping, renegotiating, breaking and releasing a promise from its card, with and without htmx."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from promises import services
from promises.forms import end_of_day
from promises.models import Alert, Promise, PromiseEvent
from tests.factories import PromiseFactory
from tests.ui.conftest import HTMX, htmx_from


def url(promise, action):
    return f"/promises/{promise.pk}/{action}/"


def test_keeping_with_htmx_answers_the_kept_card_the_event_and_the_open_list(
    story, team_a, signed_in
):
    response = signed_in(team_a.rep).post(
        url(story.quote, "keep"), **htmx_from(f"/accounts/{story.account.pk}/")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(
        f'<article class="promise promise-kept" id="promise-{story.quote.pk}"'
    )
    assert "Kept on time" in html
    assert '<div hx-swap-oob="afterbegin:#timeline-list">' in html
    assert 'id="open-promises" aria-labelledby="open-promises-title" hx-swap-oob="true"' in html
    story.quote.refresh_from_db()
    assert story.quote.status == Promise.Status.KEPT
    assert story.quote.events.get(kind=PromiseEvent.Kind.KEPT).by == team_a.rep


def test_keeping_without_htmx_redirects_back_to_the_card_with_a_message(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    response = client.post(url(story.quote, "keep"))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{story.account.pk}/#promise-{story.quote.pk}"
    assert (
        "Marked as kept: Send the revised quote"
        in client.get(response["Location"]).content.decode()
    )


def test_a_colleague_of_the_same_team_may_keep_it(story, team_a, signed_in):
    assert signed_in(team_a.other_rep).post(url(story.quote, "keep"), **HTMX).status_code == 200


def test_renegotiating_sets_the_end_of_the_new_day_and_records_the_note(story, team_a, signed_in):
    new_day = timezone.localdate() + timedelta(days=10)
    old_due = story.demo.due_at
    response = signed_in(team_a.rep).post(
        url(story.demo, "renegotiate"),
        {"due_date": new_day.isoformat(), "note": "Grace is travelling"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "renegotiated 1\u00d7" in response.content.decode()
    story.demo.refresh_from_db()
    assert story.demo.due_at == end_of_day(new_day)
    event = story.demo.events.get(kind=PromiseEvent.Kind.RENEGOTIATED)
    assert (event.old_due_at, event.new_due_at, event.note) == (
        old_due,
        end_of_day(new_day),
        "Grace is travelling",
    )


def test_a_new_date_in_the_past_is_refused_next_to_the_field(story, team_a, signed_in):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = signed_in(team_a.rep).post(
        url(story.demo, "renegotiate"), {"due_date": yesterday.isoformat()}, **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert (
        f'id="renegotiate-{story.demo.pk}-due-error">The new due date must be today or later.'
        in html
    )
    assert '<details class="action" open>' in html
    assert not story.demo.events.filter(kind=PromiseEvent.Kind.RENEGOTIATED).exists()


def test_a_promise_already_due_cannot_be_renegotiated(team_a, signed_in):
    due = PromiseFactory(account__owner=team_a.rep, due_at=timezone.now() - timedelta(minutes=5))
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    client = signed_in(team_a.rep)

    with_htmx = client.post(url(due, "renegotiate"), {"due_date": day}, **HTMX)
    assert with_htmx.status_code == 409
    assert "This promise is already due" in with_htmx.content.decode()

    without = client.post(url(due, "renegotiate"), {"due_date": day})
    assert without.status_code == 302
    assert "This promise is already due" in client.get(without["Location"]).content.decode()
    due.refresh_from_db()
    assert due.renegotiated_count == 0


def test_breaking_needs_a_note_and_raises_the_alert(story, team_a, signed_in):
    client = signed_in(team_a.rep)
    missing = client.post(url(story.demo, "break"), {"note": ""}, **HTMX)
    assert missing.status_code == 422
    assert (
        f'id="break-{story.demo.pk}-note-error">This field is required.' in missing.content.decode()
    )
    assert Promise.objects.get(pk=story.demo.pk).status == Promise.Status.OPEN

    broken = client.post(url(story.demo, "break"), {"note": "The demo room is gone"}, **HTMX)
    assert broken.status_code == 200
    assert "Broken (disclosed)" in broken.content.decode()
    story.demo.refresh_from_db()
    assert story.demo.status == Promise.Status.BROKEN and story.demo.broken_disclosed
    assert Alert.objects.filter(promise=story.demo, kind=Alert.Kind.PROMISE_BROKEN).exists()


def test_a_broken_promise_can_still_be_kept_late(story, team_a, signed_in):
    services.break_promise(story.demo, by=team_a.rep, note="Not this week")
    client = signed_in(team_a.rep)
    card = client.get(f"/accounts/{story.account.pk}/").content.decode()
    assert "Kept late" in card.split(f'id="promise-{story.demo.pk}"')[1].split("</article>")[0]
    assert client.post(url(story.demo, "keep"), **HTMX).status_code == 200
    story.demo.refresh_from_db()
    assert story.demo.status == Promise.Status.KEPT


def test_releasing_takes_an_optional_note(story, team_a, signed_in):
    response = signed_in(team_a.rep).post(url(story.demo, "release"), {"note": ""}, **HTMX)
    assert response.status_code == 200
    assert "Released" in response.content.decode()
    story.demo.refresh_from_db()
    assert story.demo.status == Promise.Status.RELEASED


def test_a_change_the_status_no_longer_allows_is_a_409_with_the_current_card(
    story, team_a, signed_in
):
    services.release_promise(story.quote, by=team_a.rep)
    response = signed_in(team_a.rep).post(url(story.quote, "keep"), **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "A released promise cannot be kept." in html
    assert "promise-released" in html


def test_another_teams_promise_is_not_found(story, team_a, team_b, signed_in):
    theirs = PromiseFactory(account=story.other_team_account)
    for action in ("keep", "renegotiate", "break", "release"):
        assert signed_in(team_a.rep).post(url(theirs, action), {"note": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Promise.Status.OPEN


def test_actions_take_only_a_post_with_a_csrf_token(story, team_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(team_a.rep)
    assert client.get(url(story.quote, "keep")).status_code == 405
    assert client.post(url(story.quote, "keep")).status_code == 403
    story.quote.refresh_from_db()
    assert story.quote.status == Promise.Status.OPEN


def test_a_visitor_is_sent_to_sign_in(story, client):
    response = client.post(url(story.quote, "keep"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
