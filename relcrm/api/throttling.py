"""DRF throttles that keep the API serving when their cache is unreachable.

The rate counters live in the cache (Redis in production). If Redis is down the
request is let through and the failure logged: losing rate limiting for a while
is better than refusing every write, and the broker being down must never fail
a write either.
"""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The client's address, as every throttle counts it.

    The connection's own address, or, behind ``RELCRM_TRUSTED_PROXIES`` proxies (DRF's
    ``NUM_PROXIES``), the one the outermost of them saw, from ``X-Forwarded-For``.
    Works on a Django request as on a DRF one.
    """
    return throttling.BaseThrottle().get_ident(request) or ""


class FailOpenMixin:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("rate limiting skipped: the cache is unreachable", exc_info=True)
            return True


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    """``RELCRM_THROTTLE_USER`` per signed-in user."""


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    """``RELCRM_THROTTLE_ANON`` per client address."""
