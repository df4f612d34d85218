"""The "log interaction" form: everything it saves, and nothing when anything is invalid."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from interactions.models import Interaction
from promises.forms import quick_due_dates
from promises.models import Promise
from tests.factories import AccountFactory, ContactFactory


def form_data(**overrides):
    data = {
        "kind": "call",
        "direction": "outbound",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "summary": "Renewal call",
        "sentiment": "1",
        "commitments-TOTAL_FORMS": "3",
        "commitments-INITIAL_FORMS": "0",
        "commitments-MIN_NUM_FORMS": "0",
        "commitments-MAX_NUM_FORMS": "20",
    }
    data.update(overrides)
    return data


def counts():
    return Interaction.objects.count(), Promise.objects.count()


@pytest.fixture
def log_url(story):
    return f"/accounts/{story.account.pk}/log/"


def test_the_form_starts_as_an_outbound_call_now_with_the_accounts_contacts(
    story, team_a, signed_in, log_url
):
    ContactFactory(account=story.other_team_account, first_name="Zed")
    html = signed_in(team_a.rep).get(log_url).content.decode()
    assertInHTML(
        '<input type="radio" name="kind" value="call" id="id_kind_0" required checked>', html
    )
    outbound = '<input type="radio" name="direction" value="outbound" id="id_direction_1" required'
    assertInHTML(f"{outbound} checked>", html)
    assert f'value="{timezone.localtime():%Y-%m-%dT}' in html
    assert "Ada Lovelace" in html and "Grace Hopper" in html and "Zed" not in html
    assert '<button type="button" class="chip" data-quick-date=' in html
    assert 'name="commitments-TOTAL_FORMS" value="1"' in html


def test_a_call_is_logged_with_its_people_and_two_commitments(story, team_a, signed_in, log_url):
    friday = quick_due_dates()[2][1]
    client = signed_in(team_a.rep)
    response = client.post(
        log_url,
        form_data(
            contacts=[str(story.ada.pk), str(story.grace.pk)],
            **{
                "commitments-0-description": "Send the contract",
                "commitments-0-due_date": friday.isoformat(),
                "commitments-0-contact": str(story.grace.pk),
                "commitments-1-description": "Book the onboarding",
                "commitments-1-due_date": "2031-01-15",
            },
        ),
    )

    interaction = Interaction.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{story.account.pk}/#interaction-{interaction.pk}"
    assert (interaction.kind, interaction.direction, interaction.sentiment) == (
        "call",
        "outbound",
        1,
    )
    assert interaction.logged_by == team_a.rep
    assert set(interaction.contacts.all()) == {story.ada, story.grace}
    contract, onboarding = interaction.promises.order_by("id")
    assert (contract.description, contract.contact, contract.owner) == (
        "Send the contract",
        story.grace,
        team_a.rep,
    )
    due = timezone.localtime(contract.due_at)
    assert (due.date(), due.hour, due.minute) == (friday, 23, 59)
    assert timezone.localtime(onboarding.due_at).date() == date(2031, 1, 15)
    assert onboarding.contact is None
    follow = client.get(response["Location"])
    assert "Call logged with 2 commitments." in follow.content.decode()


def test_an_interaction_in_the_future_saves_nothing_and_says_why_next_to_when(
    story, team_a, signed_in, log_url
):
    before = counts()
    later = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in(team_a.rep).post(
        log_url,
        form_data(
            occurred_at=later,
            **{"commitments-0-description": "Send it", "commitments-0-due_date": "2031-01-01"},
        ),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert (
        '<p class="field-error" id="id_occurred_at_error">'
        "An interaction cannot happen in the future.</p>" in html
    )
    assert 'aria-describedby="id_occurred_at_error"' in html
    assert "Nothing was saved" in html
    assert 'value="Send it"' in html
    assert counts() == before


def test_a_commitment_without_a_due_date_saves_nothing(story, team_a, signed_in, log_url):
    before = counts()
    response = signed_in(team_a.rep).post(
        log_url,
        form_data(
            **{
                "commitments-0-description": "Send the quote",
                "commitments-0-due_date": "2031-01-01",
                "commitments-1-description": "Book the demo",
            }
        ),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<p class="field-error" id="id_commitments-1-due_date_error">' in html
    assert counts() == before


@pytest.mark.parametrize(
    "field, value",
    [("kind", "fax"), ("direction", "sideways"), ("sentiment", "3"), ("occurred_at", "yesterday")],
)
def test_a_value_outside_the_choices_saves_nothing(story, team_a, signed_in, log_url, field, value):
    before = counts()
    response = signed_in(team_a.rep).post(log_url, form_data(**{field: value}))
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert counts() == before


def test_a_contact_of_another_account_is_refused(story, team_a, signed_in, log_url):
    stranger = ContactFactory(account=AccountFactory(owner=team_a.rep))
    before = counts()
    response = signed_in(team_a.rep).post(
        log_url,
        form_data(
            contacts=[str(stranger.pk)],
            **{
                "commitments-0-description": "Send it",
                "commitments-0-due_date": "2031-01-01",
                "commitments-0-contact": str(stranger.pk),
            },
        ),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_contacts_error"' in html and 'id="id_commitments-0-contact_error"' in html
    assert counts() == before


def test_without_javascript_add_a_commitment_shows_one_more_row_and_saves_nothing(
    story, team_a, signed_in, log_url
):
    before = counts()
    response = signed_in(team_a.rep).post(
        log_url,
        form_data(
            add_commitment="1",
            **{
                "commitments-TOTAL_FORMS": "1",
                "commitments-0-description": "Send it",
                "commitments-0-due_date": "2031-01-01",
            },
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="commitments-TOTAL_FORMS" value="2"' in html
    assert 'name="commitments-1-description"' in html and 'value="Send it"' in html
    assert counts() == before


def test_nobody_logs_on_another_teams_account(story, team_a, signed_in):
    before = counts()
    response = signed_in(team_a.rep).post(
        f"/accounts/{story.other_team_account.pk}/log/", form_data()
    )
    assert response.status_code == 404
    assert counts() == before


def test_quick_due_dates_are_today_tomorrow_the_coming_friday_and_weeks_ahead():
    wednesday = date(2026, 3, 4)
    assert [day for _, day in quick_due_dates(wednesday)] == [
        date(2026, 3, 4),
        date(2026, 3, 5),
        date(2026, 3, 6),
        date(2026, 3, 11),
        date(2026, 3, 18),
    ]
    # On a Friday "Friday" means next week's.
    assert quick_due_dates(date(2026, 3, 6))[2][1] == date(2026, 3, 13)


@pytest.mark.parametrize("offset", ["+16:00", "-16:00"])
def test_a_time_with_an_offset_beyond_15_59_is_shown_next_to_the_field_and_nothing_saved(
    team_a, signed_in, log_url, offset
):
    before = counts()
    answer = signed_in(team_a.rep).post(
        log_url, form_data(occurred_at=f"2026-01-01T10:00:00{offset}")
    )
    assert answer.status_code == 422
    assert "The UTC offset must lie between -15:59 and +15:59." in answer.content.decode()
    assert counts() == before


@pytest.mark.parametrize("total", ["abc", "\u00b2", "1.5", "99999999999999999999", ""])
@pytest.mark.parametrize("adding", [False, True], ids=["save", "add a commitment"])
def test_a_tampered_count_of_commitments_shows_the_form_again_and_saves_nothing(
    team_a, signed_in, log_url, total, adding
):
    data = form_data(**{"commitments-TOTAL_FORMS": total})
    if adding:
        data["add_commitment"] = "1"
    before = counts()
    answer = signed_in(team_a.rep).post(log_url, data)
    assert answer.status_code in (200, 422) if adding else answer.status_code == 422
    assert counts() == before
