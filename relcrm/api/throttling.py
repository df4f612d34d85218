"""DRF throttles that count in fixed windows and keep serving when their cache is away.

DRF's own throttles keep a list of every request's time in the last period and
read, trim and write the whole list back on each request: two cache round trips
and a pickle that grows with the rate. Here a throttle counts the requests of
the current window (``num_requests`` per ``duration`` seconds, aligned to the
clock) with one increment: with Redis, ``INCR`` and ``EXPIRE`` in one round
trip, whatever the rate. A fixed window lets a caller spend two windows' worth
around a boundary; the limits are set with that in mind.

If the cache is unreachable the request is let through and the failure logged:
losing rate limiting for a while is better than refusing every write, and the
broker being down must never fail a write either.
"""

import logging
from math import ceil

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
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


def count_request(cache, key: str, window: int) -> int:
    """Count one more request under ``key`` and return the window's count so far.

    The key expires with its window. Redis does it in one round trip; any other
    cache (the local-memory one of a laptop without Redis) with add and incr.
    """
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        pipeline = cache._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, window, nx=True)
        return pipeline.execute()[0]
    cache.add(key, 0, window)
    return cache.incr(key)


def _note_limit(request, limit: int, remaining: int, reset: float) -> None:
    """Keep the tightest limit this request was counted against, for its answer's headers."""
    django_request = getattr(request, "_request", request)
    kept = getattr(django_request, "rate_limit", None)
    if kept is None or remaining < kept[1]:
        django_request.rate_limit = (limit, max(remaining, 0), ceil(reset))


class RateLimitHeadersMiddleware:
    """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds) on every throttled answer.

    The names of the IETF draft "RateLimit header fields for HTTP", for the limit this
    request came closest to; a 429 carries ``Retry-After`` too (DRF's).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        noted = getattr(request, "rate_limit", None)
        if noted is not None:
            limit, remaining, reset = noted
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(reset)
        return response


class WindowRateThrottle(throttling.SimpleRateThrottle):
    """``num_requests`` per clock-aligned window of ``duration`` seconds, failing open."""

    num_requests: int
    duration: int
    cache_alias = DEFAULT_CACHE_ALIAS

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        try:
            cache = caches[self.cache_alias]  # the backend itself, not the module's proxy
            self.count = count_request(cache, f"{key}:{window}", self.duration)
        except (RedisError, OSError):
            logger.warning("rate limiting skipped: the cache is unreachable", exc_info=True)
            return True
        _note_limit(request, self.num_requests, self.num_requests - self.count, self.wait())
        return self.count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window ends and the count starts again."""
        return self.duration - self.now % self.duration


class UserRateThrottle(WindowRateThrottle, throttling.UserRateThrottle):
    """``RELCRM_THROTTLE_USER`` per signed-in user."""


class AnonRateThrottle(WindowRateThrottle, throttling.AnonRateThrottle):
    """``RELCRM_THROTTLE_ANON`` per client address."""
