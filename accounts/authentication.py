"""``Authorization: Bearer <token>`` for the API, against hashed tokens."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from accounts.models import ApiToken


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: Bearer <token>.")
        try:
            clear = parts[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("Invalid token.") from error
        token = ApiToken.find(clear)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.has_expired(now):
            raise exceptions.AuthenticationFailed("This token has expired.")
        # Checked here rather than by each view's permissions, so that no view can
        # forget it: a view that lists its own permission classes replaces the defaults.
        if not token.may_write and request.method not in permissions.SAFE_METHODS:
            raise exceptions.PermissionDenied("This token may only read (its scope is read).")
        if token.needs_last_used(now):
            # Conditional, so that of concurrent requests one writes.
            ApiToken.objects.filter(pk=token.pk, last_used_at=token.last_used_at).update(
                last_used_at=now
            )
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token in the OpenAPI schema."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/token/ or `manage.py createapitoken`.",
        }
