"""Every route of the web UI (the API lives under /api/v1/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views as accounts
from imports import views as imports
from interactions import views as interactions
from promises import views as promises
from relcrm import views as home
from trust import views as trust


def action_routes(noun: str, view, actions):
    """``<noun>s/<pk>/<action>/`` for each action, named ``<noun>-<action>``."""
    return [
        path(f"{noun}s/<int:pk>/{action}/", view, {"action": action}, name=f"{noun}-{action}")
        for action in actions
    ]


urlpatterns = [
    path("", home.home, name="home"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("search/", accounts.search, name="search"),
    path("accounts/", accounts.account_list, name="account-list"),
    path("accounts/export/", imports.export_accounts, name="account-list-export"),
    path("accounts/new/", accounts.account_create, name="account-create"),
    path("accounts/<int:pk>/", accounts.account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account-edit"),
    path("accounts/<int:pk>/archive/", accounts.account_archive, name="account-archive"),
    path("accounts/<int:pk>/contacts/new/", accounts.contact_create, name="contact-create"),
    path("contacts/<int:pk>/edit/", accounts.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", accounts.contact_delete, name="contact-delete"),
    path("accounts/<int:pk>/health/", trust.account_health, name="account-health"),
    path("accounts/<int:pk>/log/", interactions.log_interaction, name="log-interaction"),
    path("promises/", promises.my_promises_page, name="my-promises"),
    path("promises/export/", imports.export_my_promises, name="my-promises-export"),
    *action_routes("promise", promises.promise_action, promises.PROMISE_ACTIONS),
    path("alerts/", promises.alert_inbox, name="alert-inbox"),
    path("alerts/export/", imports.export_alerts, name="alert-inbox-export"),
    path("alerts/acknowledge/", promises.alert_bulk_acknowledge, name="alert-bulk-acknowledge"),
    *action_routes("alert", promises.alert_action, ("acknowledge", "resolve")),
    path("team/", promises.team_view, name="team"),
    path("imports/", imports.import_page, name="import-page"),
    path("tokens/", accounts.api_tokens, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", accounts.api_token_revoke, name="api-token-revoke"),
    path("imports/map/", imports.import_map, name="import-map"),
    path("imports/<int:pk>/", imports.import_job, name="import-job"),
    path("imports/<int:pk>/import/", imports.import_for_real, name="import-for-real"),
]
