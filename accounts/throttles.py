"""The sign-in throttles, shared by every place a person signs in.

The token endpoint and the sign-in form (the admin signs in there too) count each attempt
twice: per client address and username (``RELCRM_THROTTLE_LOGIN``), against guessing
from one place, and per username alone (``RELCRM_THROTTLE_LOGIN_USERNAME``), against
guessing spread over many addresses. The username is counted by ``username_key``, the
spelling sign-in itself compares, and the address by ``client_address``.
"""

import hashlib
from math import ceil

from accounts.models import username_key
from relcrm.api.throttling import WindowRateThrottle


def posted_username_key(request) -> str:
    """The username an attempt names, as sign-in compares it, hashed for a cache key."""
    data = getattr(request, "data", None)  # a DRF request; a form's is a Django one
    if not isinstance(data, dict):
        data = request.POST
    username = str(data.get("username", ""))
    # Hashed: a cache key stays short and printable whatever was posted.
    return hashlib.sha256(username_key(username).encode()).hexdigest()[:32]


class LoginRateThrottle(WindowRateThrottle):
    """Slows password guessing from one place: a rate per client address *and* username."""

    scope = "login"

    def get_cache_key(self, request, view):
        ident = f"{self.get_ident(request)}:{posted_username_key(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginUsernameRateThrottle(WindowRateThrottle):
    """Slows guessing one name's password from many addresses: a rate per username."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": posted_username_key(request)}


LOGIN_THROTTLES = (LoginRateThrottle, LoginUsernameRateThrottle)


def sign_in_wait(request, view) -> int | None:
    """Count a sign-in form's attempt against every login throttle, as DRF counts the API's
    (each counts it, even when another refuses).

    Returns None when the attempt may go ahead, else the seconds to wait before the next.
    """
    throttles = [throttle_class() for throttle_class in LOGIN_THROTTLES]
    waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(request, view)]
    if not waits:
        return None
    return ceil(max(wait or 60 for wait in waits))
