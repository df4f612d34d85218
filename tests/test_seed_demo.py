"""``manage.py seed_demo``: a realistic, consistent demo that `make run` can ask for every time."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account, Team, User
from interactions.models import Interaction
from promises.models import Alert, Promise, PromiseEvent
from relcrm import demo
from trust.models import TrustSnapshot

NOW = timezone.now()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the whole module, in a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def output(seeded, db):
    return seeded


def promises(**filters):
    return Promise.objects.filter(**filters)


def test_the_story_is_the_same_for_the_same_seed():
    assert demo.plan_story(seed=7, now=NOW) == demo.plan_story(seed=7, now=NOW)
    assert demo.plan_story(seed=7, now=NOW) != demo.plan_story(seed=8, now=NOW)


def test_two_teams_each_with_a_lead_and_two_or_three_reps_and_an_admin_without_team(output):
    assert Team.objects.count() == 2
    for team in Team.objects.all():
        members = team.members.all()
        assert [user.role for user in members].count("lead") == 1
        assert 2 <= [user.role for user in members].count("rep") <= 3
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.team is None


def test_every_printed_login_works(output):
    for person in demo.PEOPLE:
        assert f"{person.username:<7} / {demo.PASSWORD}" in output
        user = User.objects.get(username=person.username)
        # The demo's quick hash is one Django's own PBKDF2 hasher verifies (and upgrades).
        assert check_password(demo.PASSWORD, user.password), person.username


def test_about_twelve_accounts_per_team_owned_within_the_team_with_contacts(output):
    for team in Team.objects.all():
        accounts = Account.objects.filter(team=team)
        assert 10 <= accounts.count() <= 14
        for account in accounts.select_related("owner"):
            assert account.owner.team_id == team.pk
            assert account.contacts.exists(), account.name


def test_months_of_interactions_with_sentiment_none_in_the_future(output):
    interactions = Interaction.objects.all()
    assert interactions.count() > 200
    assert not interactions.filter(occurred_at__gt=timezone.now()).exists()
    oldest = interactions.order_by("occurred_at").first().occurred_at
    assert timezone.now() - oldest > timedelta(days=90)
    sentiments = set(interactions.values_list("sentiment", flat=True))
    assert {-2, -1, 0, 1, 2} <= sentiments
    assert set(interactions.values_list("kind", flat=True)) >= {"call", "email", "meeting"}


def test_promises_in_every_state_a_user_meets(output):
    now = timezone.now()
    open_ = promises(status="open")
    kept = promises(status="kept")
    broken = promises(status="broken")
    states = {
        "open, not yet due": open_.filter(due_at__gt=now + timedelta(days=1)),
        "due soon": open_.filter(due_at__gt=now, due_at__lte=now + timedelta(days=1)),
        "overdue, not yet swept": open_.filter(due_at__lt=now),
        "kept on time": kept.filter(kept_at__lte=F("due_at")),
        "kept late": kept.filter(kept_at__gt=F("due_at")),
        "broken, disclosed": broken.filter(broken_disclosed=True),
        "broken, silent": broken.filter(broken_disclosed=False),
        "released": promises(status="released"),
        "renegotiated": promises(renegotiated_count__gt=0),
        "renegotiated and still open": open_.filter(renegotiated_count__gt=0),
    }
    missing = [name for name, queryset in states.items() if not queryset.exists()]
    assert not missing, f"no demo promise is {missing}"


def test_every_promise_has_its_history_in_order(output):
    for promise in Promise.objects.prefetch_related("events"):
        kinds = [event.kind for event in promise.events.all()]
        assert kinds[0] == PromiseEvent.Kind.CREATED
        assert kinds.count(PromiseEvent.Kind.CREATED) == 1
        times = [event.at for event in promise.events.all()]
        assert times == sorted(times) and times[-1] <= timezone.now()
        assert promise.created_at == times[0]
        if promise.interaction_id:
            assert promise.created_at >= promise.interaction.occurred_at


def test_history_is_back_dated_where_the_story_happened(output):
    disclosed = promises(status="broken", broken_disclosed=True)
    assert all(p.broken_at < p.due_at for p in disclosed)
    swept = promises(status="broken", broken_disclosed=False)
    assert all(p.broken_at > p.due_at for p in swept)
    assert promises(status="kept", kept_at__lt=timezone.now() - timedelta(days=30)).exists()


def test_each_broken_promise_has_one_alert_and_leads_reviewed_some(output):
    for promise in Promise.objects.filter(broken_at__isnull=False):
        assert promise.alerts.filter(kind=Alert.Kind.PROMISE_BROKEN).count() == 1
    statuses = set(Alert.objects.values_list("status", flat=True))
    assert statuses == {"open", "acknowledged", "resolved"}
    for alert in Alert.objects.exclude(status="open").select_related("account", "acknowledged_by"):
        assert alert.acknowledged_by.is_lead
        assert alert.acknowledged_by.team_id == alert.account.team_id
    assert not Alert.objects.filter(status="resolved", note="").exists()


def test_every_account_has_a_current_health_and_a_history(output):
    for account in Account.objects.all():
        snapshots = TrustSnapshot.objects.filter(account=account)
        assert account.health_computed_at is not None, account.name
        assert account.health_stale_at is None, account.name
        assert snapshots.count() >= 2, account.name
        assert snapshots.latest().score == account.health_score
        assert snapshots.filter(account__created_at__gt=F("as_of")).count() == 0
    assert Account.objects.values("health_band").distinct().count() >= 2


def test_if_empty_does_nothing_once_an_account_exists(output):
    before = (Account.objects.count(), Interaction.objects.count(), Promise.objects.count())
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert (Account.objects.count(), Interaction.objects.count(), Promise.objects.count()) == before
    assert "no demo data added" in out.getvalue()
    assert f"maria   / {demo.PASSWORD}" in out.getvalue()


def test_without_if_empty_it_refuses_a_database_with_accounts(output):
    with pytest.raises(CommandError, match="already has accounts"):
        call_command("seed_demo", stdout=StringIO())
