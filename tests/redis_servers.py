"""The Redis the tests use, which is never the machine's own.

A test run (one pytest session) starts a redis-server of its own on a free port of 127.0.0.1
and shuts it down at the end. With `TEST_REDIS_URL` set it uses that database instead, which
may be shared: either way every key the run writes starts with `RUN_KEY_PREFIX`, and the run
deletes only those keys (it never flushes a database). Without redis-server and without
`TEST_REDIS_URL`, the tests that need Redis are skipped with `NO_REDIS`.

The fixtures (`test_redis`, `private_redis`) are in the root conftest.py.
"""

import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from tests.ports import free_port

# Every key of this run, in any Redis, starts with this; live servers take it as their
# CACHE_KEY_PREFIX, which also names their presence keys and their pub/sub channel.
RUN_KEY_PREFIX = f"music-test-{uuid.uuid4().hex[:12]}"
NO_REDIS = "redis-server not found and TEST_REDIS_URL unset"
NO_REDIS_SERVER = "redis-server not found (this test stops and starts a Redis of its own)"


def redis_server_installed() -> bool:
    return shutil.which("redis-server") is not None


def redis_url_from_environment() -> str:
    return os.environ.get("TEST_REDIS_URL", "").strip()


def delete_keys(client: redis.Redis, prefix: str) -> int:
    """Delete the keys under `prefix` only (the database may hold other people's keys)."""
    deleted = 0
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        deleted += client.delete(key)
    return deleted


class PrivateRedis:
    """A redis-server on a free port that its owner may stop and start again (run as the
    machine's is: no persistence, so a restart loses every key)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _client(self) -> redis.Redis:
        # From a URL: no retries (`redis.Redis(host=...)` retries a refused connection for
        # seconds).
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)

    def answers(self) -> bool:
        client = self._client()
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
                "--pidfile",
                str(self.directory / "redis.pid"),
            ],
            check=True,
            timeout=10,
        )
        self._wait(up=True)

    def stop(self) -> None:
        """`SHUTDOWN NOSAVE`: every connection is closed and every key is lost."""
        client = self._client()
        try:
            client.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass  # the connection closes as the server goes; or it was down already
        finally:
            client.close()
        self._wait(up=False)

    def _wait(self, *, up: bool) -> None:
        deadline = time.monotonic() + 10
        while self.answers() != up:
            if time.monotonic() > deadline:
                pytest.fail(f"redis-server on {self.port} is not {'up' if up else 'down'}")
            time.sleep(0.02)


@dataclass(frozen=True)
class TestRedis:
    """The Redis database of this run and the prefix of every key it may write there."""

    __test__ = False  # a helper, not a test class

    url: str
    key_prefix: str = RUN_KEY_PREFIX
    # The run's own redis-server; None when the database comes from TEST_REDIS_URL.
    server: PrivateRedis | None = None

    def client(self, **options: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5, **options)

    def delete_own_keys(self) -> None:
        client = self.client()
        try:
            delete_keys(client, self.key_prefix)
        finally:
            client.close()

    def cache_settings(self) -> dict[str, dict[str, Any]]:
        """CACHES for this process on this Redis, as with REDIS_URL set; `cache.clear()`
        deletes the run's keys only."""
        return {
            "default": {
                "BACKEND": "tests.redis_servers.OwnKeysRedisCache",
                "LOCATION": self.url,
                "KEY_PREFIX": self.key_prefix,
            }
        }

    def server_env(self) -> dict[str, str]:
        """The environment of a server or script process that shares this Redis and this
        run's keys with the test."""
        return {"REDIS_URL": self.url, "CACHE_KEY_PREFIX": self.key_prefix}


class OwnKeysRedisCache(RedisCache):
    """Django's Redis cache whose `clear()` deletes this cache's keys (its KEY_PREFIX) instead
    of flushing the whole database, which other test runs may be using."""

    def clear(self) -> None:
        client = self._cache.get_client(None, write=True)
        delete_keys(client, self.key_prefix)
