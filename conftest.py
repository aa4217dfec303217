"""Fixtures shared by every app's tests: real database, real HTTP through Django's stack."""

from collections.abc import Callable
from itertools import count

import pytest
from django.core.cache import cache
from django.test import Client

from tests.helpers import CHROMIUM, DEFAULT_PASSWORD, bearer
from users.models import User

_emails = count(1)


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
    """Each test writes files under its own MEDIA_ROOT and starts with an empty cache."""
    # A fast hasher: tests check who may sign in, not the cost of hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    cache.clear()
    yield
    cache.clear()


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
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    # still plain sequential sync code, which Django would otherwise refuse there.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Inside `sync_playwright()` this thread runs in a contextvars context of Playwright's
    # own, where Django's connection handler (context-local) would hand out new connection
    # objects: their pooled PostgreSQL connections would stay checked out after the test,
    # and the test database could not be dropped. The test uses pytest-django's instead.
    managed = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in managed.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            browser.close()
