"""The API's rate limits: counted once per request in each window, and said on every answer."""

import os

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from relcrm.api.throttling import UserRateThrottle, count_request


def _caches():
    yield pytest.param(LocMemCache("throttle-test", {}), id="memory")
    url = os.environ.get("REDIS_URL", "")
    yield pytest.param(
        RedisCache(url, {"KEY_PREFIX": "throttle-test"}) if url else None,
        id="redis",
        marks=pytest.mark.redis,
    )


@pytest.fixture(params=list(_caches()))
def cache(request):
    cache = request.param
    cache.clear()
    yield cache
    cache.clear()


def test_each_request_adds_one_to_its_window(cache):
    assert [count_request(cache, "user:7:100", 60) for _ in range(3)] == [1, 2, 3]
    assert count_request(cache, "user:8:100", 60) == 1
    assert count_request(cache, "user:7:101", 60) == 1


def test_a_window_counter_expires_with_its_window(cache):
    count_request(cache, "user:7:100", 60)
    if isinstance(cache, RedisCache):
        ttl = cache._cache.get_client().ttl(cache.make_and_validate_key("user:7:100"))
        assert 0 < ttl <= 60
        count_request(cache, "user:7:100", 60)
        assert cache._cache.get_client().ttl(cache.make_and_validate_key("user:7:100")) <= ttl
    else:
        assert cache.get("user:7:100") == 1


def test_every_api_answer_says_its_rate_limit(rep_client, settings):
    answer = rep_client.get("/api/v1/accounts/")
    assert answer.status_code == 200
    assert int(answer["RateLimit-Limit"]) == 1000  # RELCRM_THROTTLE_USER's default, per minute
    assert int(answer["RateLimit-Remaining"]) == 999
    assert 0 < int(answer["RateLimit-Reset"]) <= 60
    again = rep_client.get("/api/v1/accounts/")
    assert int(again["RateLimit-Remaining"]) == 998


def test_a_throttled_answer_says_when_to_come_back(rep_client, monkeypatch):
    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {"user": "1/minute", "anon": "1/minute"}
    )
    assert rep_client.get("/api/v1/accounts/").status_code == 200
    refused = rep_client.get("/api/v1/accounts/")
    assert refused.status_code == 429
    assert refused["RateLimit-Remaining"] == "0"
    assert 0 < int(refused["Retry-After"]) <= 60
