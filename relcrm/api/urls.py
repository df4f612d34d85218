"""The versioned API: one router, every app's endpoints."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import (
    AccountViewSet,
    ApiTokenViewSet,
    ContactViewSet,
    TeamViewSet,
    TokenView,
    UserViewSet,
)
from imports.api import EXPORTS, ImportJobViewSet
from interactions.api import InteractionViewSet
from promises.api import AlertViewSet, PromiseViewSet
from trust.api import AccountHealthHistoryView, AccountHealthView

# The API's URL names live in their own namespace: the web UI names its pages
# the same way ("account-list", "account-detail"), and the API root's links must
# reverse to the API's.
app_name = "api"

router = DefaultRouter()
router.register("teams", TeamViewSet, basename="team")
router.register("users", UserViewSet, basename="user")
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("promises", PromiseViewSet, basename="promise")
router.register("alerts", AlertViewSet, basename="alert")
router.register("imports", ImportJobViewSet, basename="import")
router.register("auth/tokens", ApiTokenViewSet, basename="token")

urlpatterns = [
    # Before the router's routes, whose detail pattern would take "export" for an id.
    *(
        path(f"{resource}/export/", view.as_view({"get": "list"}), name=f"{resource}-export")
        for resource, view in EXPORTS.items()
    ),
    path("accounts/<int:pk>/health/", AccountHealthView.as_view(), name="account-health"),
    path(
        "accounts/<int:pk>/health/history/",
        AccountHealthHistoryView.as_view(),
        name="account-health-history",
    ),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves the docs' setup script from the same URL (?script), so that
    # the page needs no inline script under the Content-Security-Policy.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api_docs.html"),
        name="docs",
    ),
    path("", include(router.urls)),
]
