"""The test suite keeps off other people's Redis: it starts a redis-server of its own (or uses
TEST_REDIS_URL), writes only keys under the run's prefix, never flushes a database, and skips
its Redis tests with a reason when there is no Redis to run them on."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.redis_servers import NO_REDIS, RUN_KEY_PREFIX, TestRedis, redis_url_from_environment

PROJECT = Path(settings.BASE_DIR)
MACHINES_REDIS_PORT = 6379
# A module whose one test needs Redis (`redis_cache`), run in a child pytest.
REDIS_TEST_MODULE = "users/tests/test_registration_limit_redis.py"


@pytest.mark.skipif(
    bool(redis_url_from_environment()), reason="TEST_REDIS_URL names the Redis to use"
)
def test_the_run_talks_to_a_redis_server_of_its_own(test_redis: TestRedis):
    assert test_redis.server is not None
    address = urlsplit(test_redis.url)
    assert (address.hostname, address.port) == ("127.0.0.1", test_redis.server.port)
    assert address.port != MACHINES_REDIS_PORT
    client = test_redis.client(decode_responses=True)
    try:
        # The server that answers is the one the run started: its port, its directory.
        config = client.config_get("port") | client.config_get("dir")
    finally:
        client.close()
    assert config == {
        "port": str(test_redis.server.port),
        "dir": str(test_redis.server.directory.resolve()),
    }


def test_clearing_the_cache_deletes_only_this_runs_keys(redis_cache: TestRedis):
    client = redis_cache.client()
    someone_elses = f"not-{RUN_KEY_PREFIX}:kept"
    try:
        client.set(someone_elses, "theirs", ex=60)
        cache.set("ours", "this run's")
        assert client.keys(f"{RUN_KEY_PREFIX}:*") != []

        cache.clear()

        assert cache.get("ours") is None
        assert client.keys(f"{RUN_KEY_PREFIX}:*") == []
        assert client.get(someone_elses) == b"theirs"  # no FLUSHDB
    finally:
        client.delete(someone_elses)
        client.close()


def test_no_test_names_the_machines_redis():
    pattern = re.compile(rf"[:/]{MACHINES_REDIS_PORT}\b")
    offenders = [
        str(path.relative_to(PROJECT))
        for path in [*sorted(PROJECT.glob("*/tests/**/*.py")), PROJECT / "conftest.py"]
        if path != Path(__file__) and pattern.search(path.read_text())
    ]
    assert offenders == []


def child_pytest(tmp_path: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess:
    """pytest in a child process that finds neither redis-server (PATH holds only the venv's
    scripts) nor TEST_REDIS_URL, on a SQLite file of its own (never the parent's database)."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TEST_REDIS_URL", "PYTEST_ADDOPTS"}
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
        cwd=PROJECT,
        env={
            **inherited,
            "PATH": str(Path(sys.executable).parent),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'child.sqlite3'}",
            "REDIS_URL": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_redis_tests_skip_with_a_reason_without_redis(tmp_path):
    result = child_pytest(tmp_path, REDIS_TEST_MODULE, "-rs")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout, result.stdout
    assert NO_REDIS in result.stdout


def test_the_tests_refuse_to_run_on_the_developers_redis(tmp_path):
    # As when .env sets REDIS_URL for `make run`: the tests would clear that cache.
    result = child_pytest(
        tmp_path, REDIS_TEST_MODULE, REDIS_URL=f"redis://127.0.0.1:{MACHINES_REDIS_PORT}/0"
    )

    assert result.returncode != 0
    assert "REDIS_URL is set" in result.stderr, result.stdout + result.stderr
    assert "passed" not in result.stdout
