"""Fixtures shared by every app's tests: real database, real HTTP through Django's stack."""

import os
from collections.abc import Callable, Iterator
from itertools import count

import pytest
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.test import Client

from tests.helpers import DEFAULT_PASSWORD, Clock, bearer, chromium
from tests.redis_servers import (
    NO_REDIS,
    NO_REDIS_SERVER,
    PrivateRedis,
    TestRedis,
    redis_server_installed,
    redis_url_from_environment,
)
from users.models import User

# Fixtures that several apps' tests use, each in its module of tests/.
pytest_plugins = [
    "tests.factories",
    "tests.live_servers",
    "tests.object_storage",
    "tests.private_postgres",
]

_emails = count(1)


def pytest_configure(config) -> None:
    """Refuse to run on the developer's Redis: the tests clear the cache they are given. The
    media pipeline is off unless a test turns it on (processing/tests), here and in the
    servers the tests start."""
    from django.conf import settings

    os.environ["MEDIA_PIPELINE"] = "false"

    if settings.REDIS_URL:
        raise pytest.UsageError(
            "REDIS_URL is set (in the environment or .env), and the tests would clear that "
            "Redis's cache. Run them with it empty: `REDIS_URL= .venv/bin/pytest` (`make test` "
            "does). The Redis tests start a redis-server of their own, or use TEST_REDIS_URL."
        )


def _readers_pass_writers_in_the_shared_memory_database(sender, connection, **kwargs) -> None:
    """SQLite's in-memory test database is one shared cache for the live server's threads,
    and there a reader meets a writer's table lock at once ("database table is locked", no
    busy wait): an admin page reloading while an import job writes its run would fail. On
    disk (`make run`) a reader waits out a writer (settings' timeout); here it reads past it.
    Only the tests' database: the product never runs on shared-cache memory."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = true")


connection_created.connect(_readers_pass_writers_in_the_shared_memory_database)


def pytest_collection_modifyitems(config, items) -> None:
    """`@pytest.mark.postgres_only` tests are skipped on SQLite and `@pytest.mark.sqlite_only`
    ones on PostgreSQL: the one way to say either."""
    from django.conf import settings

    on_postgresql = settings.DATABASES["default"]["ENGINE"] == settings.POSTGRESQL_ENGINE
    other, reason = (
        ("sqlite_only", "reads SQLite's own behaviour")
        if on_postgresql
        else ("postgres_only", "needs PostgreSQL (DATABASE_URL)")
    )
    for item in items:
        if item.get_closest_marker(other):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path):
    """Each test writes files under its own MEDIA_ROOT and starts with an empty cache (the
    registration and message limits; the sign-in lockout's rows are in the database, rolled
    back with the test)."""
    # A fast hasher: tests check who may sign in, not the cost of hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_PIPELINE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    cache.clear()
    yield
    cache.clear()


# --- Redis: a server of the run's own, never the machine's (tests/redis_servers.py) ---------


@pytest.fixture(scope="session")
def run_redis(tmp_path_factory) -> Iterator[TestRedis | None]:
    """This run's Redis: TEST_REDIS_URL when set, else a redis-server started for the run and
    shut down at its end; None when there is neither."""
    if url := redis_url_from_environment():
        shared = TestRedis(url=url)
        yield shared
        shared.delete_own_keys()  # never a flush: the database may be shared
        return
    if not redis_server_installed():
        yield None
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield TestRedis(url=server.url, server=server)
    finally:
        if server.answers():
            server.stop()


@pytest.fixture
def test_redis(run_redis: TestRedis | None) -> Iterator[TestRedis]:
    """This run's Redis, without keys of this run before and after the test; the test is
    skipped when there is no Redis to run it on."""
    if run_redis is None:
        pytest.skip(NO_REDIS)
    run_redis.delete_own_keys()
    yield run_redis
    run_redis.delete_own_keys()


@pytest.fixture
def redis_cache(settings, test_redis: TestRedis) -> TestRedis:
    """This process's cache on the run's Redis, as with REDIS_URL set (`cache.clear()` deletes
    the run's keys only). Processes started with `test_redis.server_env()` share it."""
    settings.CACHES = test_redis.cache_settings()
    return test_redis


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    """A redis-server this test alone uses and may stop and start; shut down after the test."""
    if not redis_server_installed():
        pytest.skip(NO_REDIS_SERVER)
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        if server.answers():
            server.stop()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Moves `time.time` forward: `clock.advance(seconds)`."""
    return Clock(monkeypatch)


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(**fields) -> User:
        fields.setdefault("email", f"listener{next(_emails)}@example.com")
        fields.setdefault("full_name", "Test Listener")
        password = fields.pop("password", DEFAULT_PASSWORD)
        return User.objects.create_user(password=password, **fields)

    return make


@pytest.fixture
def user(make_user) -> User:
    return make_user(full_name="Ada Listener")


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user(full_name="Root Admin", is_superuser=True, is_staff=True)


@pytest.fixture
def auth_client(user) -> Client:
    """A client signed in as `user`."""
    return Client(headers=bearer(user))


@pytest.fixture
def staff_client(admin_user) -> Client:
    """A browser session signed in to the admin panel as an admin."""
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def admin_client(admin_user) -> Client:
    return Client(headers=bearer(admin_user))


@pytest.fixture
def browser_page(monkeypatch):
    """A page of headless Chromium (Debian's), driven by Playwright's sync API."""
    with chromium(monkeypatch) as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(20_000)
        yield page
