"""The versioned API: one router, every app's endpoints."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api import AccountViewSet, ContactViewSet, TeamViewSet, TokenView, UserViewSet
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

urlpatterns = [
    path("accounts/<int:pk>/health/", AccountHealthView.as_view(), name="account-health"),
    path(
        "accounts/<int:pk>/health/history/",
        AccountHealthHistoryView.as_view(),
        name="account-health-history",
    ),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
