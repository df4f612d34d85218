"""The admin: every page renders for an admin, and every change goes through the services."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import admin as accounts_admin
from accounts.models import Account, ApiToken, Contact, Team, User
from interactions.models import Interaction
from promises import services
from promises.models import Alert, Promise, PromiseEvent
from tests.factories import AccountFactory, ContactFactory
from trust.models import TrustSnapshot

REGISTERED = sorted(model._meta.label for model in admin.site._registry)


@pytest.fixture
def admin_browser(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def data(team_a, admin_user):
    """One row of every model, written the way the product writes them."""
    account = AccountFactory(owner=team_a.rep, name="Brightwater Logistics")
    contact = ContactFactory(account=account)
    now = timezone.now()
    interaction, _ = services.log_interaction(
        account=account,
        logged_by=team_a.rep,
        kind="call",
        direction="outbound",
        occurred_at=now - timedelta(hours=1),
        summary="Called about the renewal.",
        sentiment=1,
        contacts=[contact],
        promises=[
            {"description": "Send the revised quote", "due_at": now + timedelta(days=2)},
            {"description": "Confirm the delivery dates", "due_at": now + timedelta(days=3)},
        ],
    )
    kept, broken = interaction.promises.order_by("id")
    services.keep_promise(kept, by=team_a.rep)
    services.break_promise(broken, by=team_a.rep, note="Cannot make it.")
    token, _ = ApiToken.issue(team_a.rep, name="telephony")
    snapshot = TrustSnapshot.objects.create(
        account=account,
        as_of=now,
        score=72.5,
        band="healthy",
        confidence=0.4,
        components={"promises": 3.0},
        explanation=["1 promise kept in the last 90 days"],
    )
    return {
        Team: team_a.team,
        User: team_a.rep,
        Account: account,
        Contact: contact,
        ApiToken: token,
        Interaction: interaction,
        Promise: broken,
        PromiseEvent: broken.events.first(),
        Alert: Alert.objects.get(promise=broken),
        TrustSnapshot: snapshot,
    }


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def model_for(label):
    return next(model for model in admin.site._registry if model._meta.label == label)


def test_every_model_of_the_apps_has_an_admin_page():
    for label in (
        "accounts.Team",
        "accounts.User",
        "accounts.Account",
        "accounts.Contact",
        "accounts.ApiToken",
        "accounts.AuditEvent",
        "interactions.Interaction",
        "promises.Promise",
        "promises.PromiseEvent",
        "promises.Alert",
        "trust.TrustSnapshot",
    ):
        assert label in REGISTERED, f"{label} has no admin page"


@pytest.mark.parametrize("label", REGISTERED)
def test_list_and_detail_pages_render_for_an_admin(admin_browser, data, label):
    model = model_for(label)
    listing = admin_browser.get(admin_url(model, "changelist"))
    assert listing.status_code == 200, listing.content[:500]
    obj = data.get(model) or model.objects.first()
    if obj is not None:
        detail = admin_browser.get(admin_url(model, "change", obj.pk))
        assert detail.status_code == 200, detail.content[:500]


@pytest.mark.parametrize("label", REGISTERED)
def test_add_pages_render_where_adding_is_allowed(admin_browser, data, label, rf, admin_user):
    model = model_for(label)
    request = rf.get("/")
    request.user = admin_user
    if not admin.site._registry[model].has_add_permission(request):
        assert admin_browser.get(admin_url(model, "add")).status_code == 403
        return
    assert admin_browser.get(admin_url(model, "add")).status_code == 200


def test_list_filters_and_search_render(admin_browser, data):
    team = data[Team].pk
    pages = [
        (Promise, f"?status=broken&due=overdue&kept=late&owner__team__id__exact={team}"),
        (Promise, "?q=quote"),
        (Alert, f"?status=open&account__team__id__exact={team}"),
        (Interaction, "?kind=call&q=Brightwater"),
        (Account, "?archived=no&band=healthy&q=bright"),
        (Account, "?band=none"),
        (ApiToken, "?revoked=no&q=telephony"),
    ]
    for model, query in pages:
        response = admin_browser.get(admin_url(model, "changelist") + query)
        assert response.status_code == 200, f"{model.__name__}{query}"


def test_accounts_filter_by_health_band(admin_browser, data):
    account = data[Account]
    listing = admin_url(Account, "changelist")
    assert account.name in admin_browser.get(listing + "?band=none").content.decode()
    assert account.name not in admin_browser.get(listing + "?band=healthy").content.decode()
    Account.objects.filter(pk=account.pk).update(health_band="healthy", health_score=72.5)
    assert account.name in admin_browser.get(listing + "?band=healthy").content.decode()


def test_account_history_links_open_filtered_lists(admin_browser, data):
    account = data[Account]
    for model in (Interaction, Promise, Alert, TrustSnapshot):
        url = f"{admin_url(model, 'changelist')}?account__id__exact={account.pk}"
        assert (
            url.replace("&", "&amp;")
            in admin_browser.get(admin_url(Account, "change", account.pk)).content.decode()
        )
        assert admin_browser.get(url).status_code == 200
    url = f"{admin_url(Promise, 'changelist')}?interaction__id__exact={data[Interaction].pk}"
    assert admin_browser.get(url).status_code == 200


def test_the_token_page_never_shows_the_hash(admin_browser, data):
    token = data[ApiToken]
    for url in (admin_url(ApiToken, "changelist"), admin_url(ApiToken, "change", token.pk)):
        page = admin_browser.get(url).content.decode()
        assert token.prefix in page
        assert token.key_hash not in page


def action(browser, model, name, *objects):
    return browser.post(
        admin_url(model, "changelist"),
        {"action": name, "_selected_action": [obj.pk for obj in objects]},
        follow=True,
    )


def test_revoke_action_revokes_through_the_service(admin_browser, data):
    token = data[ApiToken]
    action(admin_browser, ApiToken, "revoke", token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).exists()


def test_keep_action_keeps_an_open_promise_with_its_event(admin_browser, data, team_a, admin_user):
    promise = services.create_promise(
        account=data[Account],
        description="Book the training",
        due_at=timezone.now() + timedelta(days=1),
        by=team_a.rep,
    )
    response = action(admin_browser, Promise, "keep", promise)
    promise.refresh_from_db()
    assert promise.status == Promise.Status.KEPT
    assert promise.kept_on_time is True
    assert promise.events.last().kind == PromiseEvent.Kind.KEPT
    assert promise.events.last().by == admin_user
    assert "Kept: 1." in response.content.decode()


def test_keep_action_on_a_broken_promise_keeps_it_late(admin_browser, data):
    promise = data[Promise]
    action(admin_browser, Promise, "keep", promise)
    promise.refresh_from_db()
    assert promise.status == Promise.Status.KEPT
    assert list(promise.events.values_list("kind", flat=True)) == ["created", "broken", "kept"]


def test_release_action_refuses_what_the_service_refuses(admin_browser, data):
    promise = data[Promise]
    response = action(admin_browser, Promise, "release", promise)
    promise.refresh_from_db()
    assert promise.status == Promise.Status.BROKEN
    assert "A broken promise cannot be released." in response.content.decode()
    assert promise.events.count() == 2


def test_release_action_releases_an_open_promise(admin_browser, data, team_a):
    promise = services.create_promise(
        account=data[Account],
        description="Share the case study",
        due_at=timezone.now() + timedelta(days=1),
        by=team_a.rep,
    )
    action(admin_browser, Promise, "release", promise)
    promise.refresh_from_db()
    assert promise.status == Promise.Status.RELEASED
    assert promise.events.last().kind == PromiseEvent.Kind.RELEASED


def test_the_promise_page_edits_only_the_description_and_events_are_read_only(admin_browser, data):
    promise = data[Promise]
    url = admin_url(Promise, "change", promise.pk)
    page = admin_browser.get(url).content.decode()
    assert 'name="description"' in page
    assert 'name="status"' not in page and 'name="due_at_0"' not in page
    assert 'name="events-MAX_NUM_FORMS" value="0"' in page
    assert "events-0-DELETE" not in page
    # What the browser sends back: the hidden fields of the page (the events' formset).
    hidden = dict(re.findall(r'<input type="hidden" name="(events-[^"]+)" value="([^"]*)"', page))
    response = admin_browser.post(url, {**hidden, "description": "Send the corrected quote"})
    assert response.status_code == 302
    promise.refresh_from_db()
    assert promise.description == "Send the corrected quote"
    assert promise.status == Promise.Status.BROKEN


def test_events_and_snapshots_cannot_be_changed_or_deleted(admin_browser, data):
    for model in (PromiseEvent, TrustSnapshot, Alert, Interaction):
        obj = data[model]
        assert admin_browser.get(admin_url(model, "delete", obj.pk)).status_code == 403
        page = admin_browser.get(admin_url(model, "change", obj.pk)).content.decode()
        assert 'name="_save"' not in page


def test_acknowledge_and_resolve_actions_go_through_the_services(admin_browser, data, admin_user):
    alert = data[Alert]
    action(admin_browser, Alert, "acknowledge", alert)
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == (Alert.Status.ACKNOWLEDGED, admin_user)
    action(admin_browser, Alert, "resolve", alert)
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by) == (Alert.Status.RESOLVED, admin_user)
    assert alert.note
    response = action(admin_browser, Alert, "resolve", alert)
    assert "This alert is already resolved." in response.content.decode()


def test_archive_action_archives_and_accounts_are_never_deleted(admin_browser, data):
    account = data[Account]
    assert admin_browser.get(admin_url(Account, "delete", account.pk)).status_code == 403
    action(admin_browser, Account, "archive", account)
    account.refresh_from_db()
    assert account.archived_at is not None


def test_an_account_owner_must_belong_to_its_team(admin_browser, data, team_b):
    account = data[Account]
    response = admin_browser.post(
        admin_url(Account, "change", account.pk),
        {
            "name": account.name,
            "domain": account.domain,
            "team": account.team_id,
            "owner": team_b.rep.pk,
        },
    )
    assert response.status_code == 200
    assert "The owner must be a member of the account&#x27;s team." in response.content.decode()
    account.refresh_from_db()
    assert account.owner_id == data[User].pk


def test_an_account_is_created_through_the_service(admin_browser, team_a):
    response = admin_browser.post(
        admin_url(Account, "add"),
        {"name": "Kestrel Aerospace", "domain": "", "team": team_a.team.pk, "owner": team_a.rep.pk},
    )
    assert response.status_code == 302, response.content[:1000]
    account = Account.objects.get(name="Kestrel Aerospace")
    assert (account.team, account.owner) == (team_a.team, team_a.rep)


def test_a_rep_or_lead_needs_a_team(admin_browser, team_a):
    new_user = {
        "username": "newlead",
        "usable_password": "true",
        "password1": "a-long-passphrase",
        "password2": "a-long-passphrase",
        "team_role": "lead",
    }
    response = admin_browser.post(admin_url(User, "add"), new_user)
    assert "A rep or lead needs a team." in response.content.decode()
    response = admin_browser.post(admin_url(User, "add"), {**new_user, "team": team_a.team.pk})
    assert response.status_code == 302
    assert User.objects.get(username="newlead").is_lead


def test_an_admin_belongs_to_no_team(admin_browser, team_a, admin_user):
    page = admin_browser.get(admin_url(User, "change", admin_user.pk)).content.decode()
    assert 'name="team"' in page
    response = admin_browser.post(
        admin_url(User, "change", admin_user.pk),
        {
            "username": admin_user.username,
            "is_superuser": "on",
            "is_staff": "on",
            "is_active": "on",
            "team": team_a.team.pk,
            "team_role": "rep",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert "An admin belongs to no team." in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.team is None


def test_list_pages_take_the_same_queries_for_few_or_many_rows(admin_browser, data, team_a):
    def queries(model):
        with CaptureQueriesContext(connection) as captured:
            assert admin_browser.get(admin_url(model, "changelist")).status_code == 200
        return len(captured)

    models = (Account, Contact, Interaction, Promise, PromiseEvent, Alert, ApiToken)
    few = {model: queries(model) for model in models}
    for number in range(5):
        account = AccountFactory(owner=team_a.other_rep)
        promise = services.create_promise(
            account=account,
            description=f"Promise {number}",
            due_at=timezone.now() + timedelta(days=1),
            by=team_a.other_rep,
        )
        services.break_promise(promise, by=team_a.other_rep)
        ContactFactory(account=account)
        ApiToken.issue(team_a.other_rep)
        services.log_interaction(
            account=account,
            logged_by=team_a.other_rep,
            kind="email",
            direction="inbound",
            occurred_at=timezone.now(),
        )
    assert {model: queries(model) for model in models} == few


def test_an_unfiltered_big_list_is_counted_from_the_planner_statistics(data, monkeypatch):
    monkeypatch.setattr(accounts_admin, "EXACT_COUNT_BELOW", 0)
    table = Interaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        # Stand in for a table of millions: the planner's figure, whatever the real count.
        cursor.execute("UPDATE pg_class SET reltuples = 5000000 WHERE oid = %s::regclass", [table])
    assert accounts_admin.EstimatedCountPaginator(Interaction.objects.all(), 100).count == 5_000_000
    filtered = Interaction.objects.filter(kind="call")
    assert accounts_admin.EstimatedCountPaginator(filtered, 100).count == 1
