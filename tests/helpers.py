"""Helpers the tests of every app share (the fixtures are in the root conftest.py)."""

import asyncio
import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponseBase
from django.test import AsyncClient, Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from ninja_extra.throttling import SimpleRateThrottle
from ninja_jwt.tokens import AccessToken, RefreshToken

from catalog import services as catalog_services
from catalog.models import Like, Song
from library.models import Playlist
from users.models import User

PROJECT = Path(django_settings.BASE_DIR)
# The settings this run uses (pytest's DJANGO_SETTINGS_MODULE), for the processes it starts.
SETTINGS_MODULE = os.environ["DJANGO_SETTINGS_MODULE"]

ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"] == django_settings.POSTGRESQL_ENGINE
# For the few tests that read a database's own query plans; everything else runs on both.

# The password of every user the `make_user` fixture makes, unless told otherwise.
DEFAULT_PASSWORD = "Correct-Horse-9-Battery"


@contextmanager
def serving(server: "socketserver.BaseServer") -> Iterator[None]:
    """Run `server` (an http.server on a free port, a local fake of another service) on a
    thread for the block, then stop it and free its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def bearer(user: User) -> dict[str, str]:
    """Headers that sign requests in as `user` with a fresh access token."""
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def multipart(data: dict) -> dict:
    """Keyword arguments that send `data` as multipart from `client.put` or `client.patch`.

    Django's test client encodes multipart only for POST.
    """
    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


def iso(moment) -> str:
    """A datetime as the API writes it (ISO 8601, milliseconds, Z)."""
    return DjangoJSONEncoder().default(moment)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless Chromium's switches for tests: no sandbox (containers), no GPU, nothing fetched
# on its own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextmanager
def chromium(monkeypatch: pytest.MonkeyPatch, *extra_args: str) -> Iterator[Any]:
    """Headless Chromium (Debian's) driven by Playwright's sync API, closed on exit.

    Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    still plain sequential sync code, which Django would otherwise refuse there. Inside
    `sync_playwright()` this thread runs in a contextvars context of Playwright's own, where
    Django's connection handler (context-local) would hand out new connection objects: their
    pooled PostgreSQL connections would stay checked out after the test, and the test
    database could not be dropped. The test keeps using pytest-django's."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    managed = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, connection in managed.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


# Browser tests: `pytestmark = BROWSER_TEST` in the module.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (`.ci/run` installs it)",
    ),
]


async def wait_until(condition: Callable[[], bool], what: str, *, within: float) -> None:
    """Wait until `condition()` holds, looking every 50 ms; after `within` seconds the test
    fails, naming `what`."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


def run_project_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with the project's settings and extra `env`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def asgi_request(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes = b"",
    content_type: str = "application/octet-stream",
) -> tuple[HttpResponseBase, bytes]:
    """Send a request through Django's ASGI handler and read the body as a player would.

    Run from a sync test, so the view's database access shares the test's transaction.
    """

    async def send() -> tuple[HttpResponseBase, bytes]:
        response = await AsyncClient().generic(
            method, path, data, content_type, headers=headers or {}
        )
        if response.streaming:
            body = b"".join([chunk async for chunk in response.streaming_content])
        else:
            body = response.content
        return response, body

    return async_to_sync(send)()


def credited(name: str) -> dict[str, Any]:
    """The fields that credit a row made directly, not through the services, to `name`."""
    return {"artist": catalog_services.artist_named(name), "artist_name": name}


def song_ids(playlist: Playlist) -> list[int]:
    """The playlist's song ids in position order, after checking positions are 0..n-1."""
    rows = list(playlist.items.order_by("position").values_list("position", "song_id"))
    assert [position for position, _ in rows] == list(range(len(rows)))
    return [song_id for _, song_id in rows]


def operations(client: Client) -> dict[tuple[str, str], dict]:
    """The served OpenAPI schema's operations by (METHOD, path)."""
    schema = client.get("/api/openapi.json").json()
    return {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


class Clock:
    """Moves `time.time` forward; the throttles and the local-memory cache read it (ninja-extra's
    throttles through their own reference, taken at import)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)
        monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(time.time))

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def retry_after_is_about(response, seconds: int) -> bool:
    """Retry-After is `seconds`, give or take the time the test itself took (a slow machine)."""
    return seconds - 5 <= int(response["Retry-After"]) <= seconds


def like(song: Song, users: list, *, days_ago: float = 0) -> None:
    """`users` like `song`, `days_ago` days ago (rows made directly, with their moment)."""
    moment = timezone.now() - timedelta(days=days_ago)
    Like.objects.bulk_create(Like(user=user, song=song, liked_at=moment) for user in users)


def run_command(name: str, *arguments: str) -> str:
    """What the management command `name` writes to stdout."""
    out = StringIO()
    call_command(name, *arguments, stdout=out)
    return out.getvalue()


def json_lines(output: str) -> list:
    """One JSON value per non-blank line (what the Node test clients print)."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def expired_access_token(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    return str(token)
