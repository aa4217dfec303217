"""`core.cache.incr_in_window`: the fixed-window counter under the message limit, one atomic
round trip on Redis, the same counts in local memory and while Redis is away."""

import time

import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache

from core.cache import FallbackRedisCache, incr_in_window
from tests.redis_servers import RUN_KEY_PREFIX, TestRedis


@pytest.fixture
def commands_sent(monkeypatch) -> list[int]:
    """How many times redis-py sent commands to a server (a round trip each here)."""
    sent: list[int] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent


def redis_cache(test_redis: TestRedis) -> FallbackRedisCache:
    return FallbackRedisCache(test_redis.url, {"OPTIONS": {}, "KEY_PREFIX": RUN_KEY_PREFIX})


def test_on_redis_each_count_is_one_round_trip_and_the_window_has_its_expiry(
    test_redis: TestRedis, commands_sent
):
    cache = redis_cache(test_redis)
    incr_in_window(cache, "window-test", 60)  # loads the script and opens a connection
    commands_sent.clear()

    counts = [incr_in_window(cache, "window-test", 60) for _ in range(5)]

    assert counts == [2, 3, 4, 5, 6]
    assert len(commands_sent) == 5
    # Django's own API reads the counter, and Redis holds it with the window's expiry.
    assert cache.get("window-test") == 6
    ttl = test_redis.client().ttl(cache.make_and_validate_key("window-test"))
    assert 0 < ttl <= 60


def test_on_redis_a_window_ends_and_the_next_count_opens_another(test_redis: TestRedis):
    cache = redis_cache(test_redis)
    assert [incr_in_window(cache, "window-short", 1) for _ in range(3)] == [1, 2, 3]

    time.sleep(1.2)

    assert incr_in_window(cache, "window-short", 1) == 1


def test_two_processes_caches_count_together_on_redis(test_redis: TestRedis):
    one, two = redis_cache(test_redis), redis_cache(test_redis)

    assert incr_in_window(one, "window-shared", 60) == 1
    assert incr_in_window(two, "window-shared", 60) == 2


def test_in_local_memory_the_counts_and_the_window_are_the_same():
    cache = LocMemCache("window-test", {})
    assert [incr_in_window(cache, "window", 1) for _ in range(3)] == [1, 2, 3]

    time.sleep(1.2)

    assert incr_in_window(cache, "window", 1) == 1


def test_while_redis_is_away_the_counts_go_on_in_memory():
    # Nothing listens on port 9 (discard): refused at once.
    cache = FallbackRedisCache(
        "redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.5}}
    )

    assert [incr_in_window(cache, "window-away", 60) for _ in range(3)] == [1, 2, 3]
    assert cache.redis_is_down
