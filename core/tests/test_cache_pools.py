"""Django makes a cache object per thread and per task context (under ASGI, each request and
each Socket.IO event): they share one Redis connection pool instead of each opening its own."""

from core.cache import FallbackRedisCache
from tests.redis_servers import RUN_KEY_PREFIX, TestRedis


def test_cache_objects_of_one_location_share_one_connection_pool(test_redis: TestRedis):
    params = {"OPTIONS": {}, "KEY_PREFIX": RUN_KEY_PREFIX}
    one = FallbackRedisCache(test_redis.url, params)
    two = FallbackRedisCache(test_redis.url, params)

    one.set("pool-test", 1)

    assert two.get("pool-test") == 1
    assert one._cache._get_connection_pool(True) is two._cache._get_connection_pool(True)
    # The second object's call took the connection the first one opened and gave back.
    assert len(one._cache._get_connection_pool(True)._available_connections) == 1
    one.delete("pool-test")
