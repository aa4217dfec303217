"""Live servers for the tests of every app: real uvicorn and gunicorn processes, tokens, and
Socket.IO clients. A pytest plugin (the root conftest.py registers it), so its fixtures
(`live_database_url`, `start_server`, `uvicorn_server`, `redis_url`, `sockets`) are everywhere.

Live servers are real uvicorn processes (the project's `ASGI_APPLICATION`) on 127.0.0.1 and a free
port. They need a database that this test process sees too, so the test can create users
and check stored rows:

- PostgreSQL: the test database itself. The live tests use `transactional_db`, so what the
  test writes is committed and visible to the servers, and the tables are flushed afterwards.
- SQLite: the test database lives in this process's memory, which no other process can open.
  It is copied (schema included) into a file with SQLite's backup API, and for the test's
  duration this process's `default` connection points at that same file.
"""

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import socketio
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend
from ninja_jwt.tokens import AccessToken

from messaging.models import Message
from messaging.realtime.push import message_payload
from tests.helpers import PROJECT, SETTINGS_MODULE
from tests.ports import free_port
from tests.redis_servers import RUN_KEY_PREFIX, TestRedis
from users.models import User

# Generous: on a busy machine importing the project alone can take tens of seconds.
SERVER_START_SECONDS = 60
EVENT_TIMEOUT_SECONDS = 10
# The live servers of this run take this as their CACHE_KEY_PREFIX, which also names their
# presence keys and their pub/sub channel (pub/sub ignores database numbers), so runs sharing
# a TEST_REDIS_URL neither hear nor erase each other.
REDIS_KEY_PREFIX = RUN_KEY_PREFIX
# The one browser origin the live servers allow (Socket.IO follows the API's CORS setting).
FRONTEND_ORIGIN = "http://localhost:5173"


def access_token(user: User) -> str:
    return str(AccessToken.for_user(user))


def post_message(server: "LiveServer", *, sender: User, receiver: User, content: str):
    """Send a message over REST to a live server, as `sender`."""
    return httpx.post(
        f"{server.url}/api/messages/",
        json={"receiver_id": receiver.pk, "content": content},
        headers={"Authorization": f"Bearer {access_token(sender)}"},
        timeout=10,
    )


def assert_delivered_once(
    sockets: "Sockets", response: httpx.Response, *, sender: "Tab", receiver: "Tab"
) -> Message:
    """The message `response` (POST /api/messages/) created reached the receiver's tab once
    and came back to the sender's as `message_sent`, as the REST answer and the stored row
    say; returns the stored row."""
    assert response.status_code == HTTPStatus.CREATED, response.text
    received = sockets.run(receiver.next("receive_message"))
    confirmed = sockets.run(sender.next("message_sent"))
    message = Message.objects.get(pk=response.json()["id"])
    assert received == confirmed == response.json() == message_payload(message)
    # Delivered once, and to the receiver only (the sender hears `message_sent`).
    sockets.run(receiver.none("receive_message", within=0.5))
    assert sender.received("receive_message") == []
    return message


# --- Live servers ---------------------------------------------------------------------


def _postgres_url(params: dict[str, Any]) -> str:
    credentials = quote(params["USER"] or "", safe="")
    if params.get("PASSWORD"):
        credentials += ":" + quote(params["PASSWORD"], safe="")
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(params['NAME'], safe='')}"


@pytest.fixture
def live_database_url(transactional_db, tmp_path) -> Iterator[str]:
    """A DATABASE_URL that live servers and this test process share (see the docstring)."""
    if connection.vendor == "postgresql":
        yield _postgres_url(connection.settings_dict)
        return
    assert connection.vendor == "sqlite", connection.vendor
    path = tmp_path / "live.sqlite3"
    in_memory = connections[DEFAULT_DB_ALIAS]
    in_memory.ensure_connection()
    copy = sqlite3.connect(path)
    try:
        in_memory.connection.backup(copy)
    finally:
        copy.close()
    backend = load_backend(in_memory.settings_dict["ENGINE"])
    on_file = backend.DatabaseWrapper({**in_memory.settings_dict, "NAME": str(path)})
    connections[DEFAULT_DB_ALIAS] = on_file
    try:
        yield f"sqlite:///{path}"
    finally:
        on_file.close()
        connections[DEFAULT_DB_ALIAS] = in_memory


@dataclass(kw_only=True)
class ServerProcess:
    """A server the test started, with its log file."""

    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # a graceful stop: the ASGI lifespan shutdown runs
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@dataclass(kw_only=True)
class LiveServer(ServerProcess):
    url: str


def server_env(*, database_url: str, redis_url: str, env: dict[str, str] | None) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,  # empty: in-memory Socket.IO, one process
        "CACHE_KEY_PREFIX": REDIS_KEY_PREFIX,
        # Tokens minted by this test process must verify in the server.
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.NINJA_JWT["SIGNING_KEY"],
        "DEBUG": "True",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "LOG_LEVEL": "WARNING",
        "CORS_ALLOWED_ORIGINS": FRONTEND_ORIGIN,
        **(env or {}),
    }


def launch_process(
    command: Callable[[int], list[str]], env: dict[str, str], log_path: Path
) -> LiveServer:
    """Start `command(port)` (its arguments after `python -m`) on a free port of 127.0.0.1,
    its output in `log_path`; the caller waits for it to answer."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *command(port)],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return LiveServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)


def server_target(application: str) -> str:
    """A setting's `package.module.application` as servers name it, `package.module:application`
    (read from the settings, so the servers follow wherever the project keeps them)."""
    module, _, name = application.rpartition(".")
    return f"{module}:{name}"


def _uvicorn(port: int) -> list[str]:
    address = ["--host", "127.0.0.1", "--port", str(port)]
    return ["uvicorn", server_target(settings.ASGI_APPLICATION), *address, "--log-level", "warning"]


def _launch(env: dict[str, str], log_path: Path) -> LiveServer:
    return launch_process(_uvicorn, env, log_path)


def gunicorn_command(port: int) -> list[str]:
    """The production HTTP server (deploy/gunicorn.conf.py) on `port`."""
    conf = str(PROJECT / "deploy" / "gunicorn.conf.py")
    wsgi = server_target(settings.WSGI_APPLICATION)
    return ["gunicorn", wsgi, "-c", conf, "--bind", f"127.0.0.1:{port}"]


def start_gunicorn(env: dict[str, str], log_path: Path) -> LiveServer:
    """gunicorn answering its health check; the caller stops it."""
    for attempt in (1, 2, 3):
        server = launch_process(gunicorn_command, env, log_path)
        if _answers(server):
            return server
        server.stop()
        # Another program may take the free port before gunicorn binds it (gunicorn says
        # "Connection in use"): once more, on another port.
        in_use = "Connection in use" in server.log() or "already in use" in server.log()
        if attempt == 3 or not in_use:
            break
    pytest.fail(f"gunicorn did not start:\n{server.log()}")


def launch_servers(
    count: int,
    *,
    database_url: str,
    redis_url: str = "",
    log_dir: Path,
    env: dict[str, str] | None = None,
) -> list[LiveServer]:
    """Start `count` live uvicorn processes at once on `database_url` and wait until each
    answers its health check. `env` adds or overrides settings (environment variables).
    The caller stops them (`LiveServer.stop`)."""
    environment = server_env(database_url=database_url, redis_url=redis_url, env=env)
    logs = [log_dir / f"uvicorn-{uuid.uuid4().hex[:8]}.log" for _ in range(count)]
    servers = [_launch(environment, log) for log in logs]
    for index, log in enumerate(logs):
        attempts = 1
        while not _answers(servers[index]):
            servers[index].stop()
            # Another program may take the free port before uvicorn binds it: once more.
            if attempts == 3 or "address already in use" not in servers[index].log():
                for server in servers:
                    server.stop()
                pytest.fail(
                    f"uvicorn did not start within {SERVER_START_SECONDS} s:\n"
                    f"{servers[index].log()}"
                )
            servers[index] = _launch(environment, log)
            attempts += 1
    return servers


def _answers(server: LiveServer) -> bool:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            if httpx.get(f"{server.url}/api/health/", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


class LiveServers:
    """Starts live uvicorn servers on one database and stops them all at the end.

    `start(redis_url=..., env=...)` starts one; `start.many(count, ...)` starts several at once
    (quicker than one after the other)."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.servers: list[LiveServer] = []

    def many(
        self, count: int, *, redis_url: str = "", env: dict[str, str] | None = None
    ) -> list[LiveServer]:
        started = launch_servers(
            count,
            database_url=self.database_url,
            redis_url=redis_url,
            log_dir=self.log_dir,
            env=env,
        )
        self.servers += started
        return started

    def __call__(self, *, redis_url: str = "", env: dict[str, str] | None = None) -> LiveServer:
        return self.many(1, redis_url=redis_url, env=env)[0]

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
            # Shown by pytest when the test failed.
            print(f"--- uvicorn {server.url} ---\n{server.log()}")


@pytest.fixture
def start_server(live_database_url, tmp_path) -> Iterator[LiveServers]:
    """Start live uvicorn servers on the shared database; all are stopped after the test."""
    servers = LiveServers(live_database_url, tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture
def uvicorn_server(start_server) -> LiveServer:
    """One live server without Redis: Socket.IO state in its own memory."""
    return start_server()


@pytest.fixture
def redis_url(test_redis: TestRedis) -> str:
    """The run's Redis (never the machine's), without keys of this run before and after."""
    return test_redis.url


# --- Socket.IO clients ----------------------------------------------------------------


class Tab:
    """One browser tab: a python-socketio client that records every event it receives."""

    def __init__(self, name: str = "tab") -> None:
        self.name = name
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.refusal: Any = None
        self._arrived = asyncio.Condition()
        self._taken: set[int] = set()
        self._hooks: dict[str, list[Callable[[Any], Any]]] = {}

        @self.client.on("*")
        async def record(event: str, *data: Any) -> None:
            payload = data[0] if len(data) == 1 else data
            async with self._arrived:
                self.events.append((event, payload))
                self._arrived.notify_all()
            for hook in self._hooks.get(event, ()):
                hook(payload)

        @self.client.event
        async def connect_error(data: Any) -> None:
            self.refusal = data

    async def connect(self, server: LiveServer, token: str | None) -> "Tab":
        await self.client.connect(
            server.url,
            auth={"token": token} if token is not None else None,
            wait_timeout=EVENT_TIMEOUT_SECONDS,
        )
        return self

    def when(self, event: str, hook: Callable[[Any], Any]) -> None:
        """Also call `hook(payload)` on each `event`, after it is recorded (a client's own
        reaction, e.g. fetching again; a hook that must await starts a task)."""
        self._hooks.setdefault(event, []).append(hook)

    async def emit(self, event: str, data: Any) -> None:
        await self.client.emit(event, data)

    async def close(self) -> None:
        await self.client.disconnect()

    def _find(self, event: str, match: Callable[[Any], bool]) -> int | None:
        for index, (name, data) in enumerate(self.events):
            if index not in self._taken and name == event and match(data):
                return index
        return None

    async def next(
        self,
        event: str,
        match: Callable[[Any], bool] = lambda data: True,
        timeout: float = EVENT_TIMEOUT_SECONDS,
    ) -> Any:
        """The first not yet taken `event` whose payload matches, waiting up to `timeout`."""

        async def arrival() -> int:
            async with self._arrived:
                while (index := self._find(event, match)) is None:
                    await self._arrived.wait()
                return index

        try:
            index = await asyncio.wait_for(arrival(), timeout)
        except TimeoutError:
            pytest.fail(f"{self.name} got no {event!r} in {timeout} s; it got {self.events}")
        self._taken.add(index)
        return self.events[index][1]

    async def none(
        self, event: str, match: Callable[[Any], bool] = lambda data: True, within: float = 1.0
    ) -> None:
        """Assert that no untaken matching `event` arrives within `within` seconds."""
        await asyncio.sleep(within)
        index = self._find(event, match)
        assert index is None, f"{self.name} got an unexpected {self.events[index]}"

    def received(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]


class Sockets:
    """An event loop kept across steps, so that tabs stay connected while the test body does
    synchronous ORM work between `run` calls (the ORM refuses to run inside a running loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.tabs: list[Tab] = []

    def run(self, awaitable: Any, timeout: float = 60) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def tab(self, name: str = "tab") -> Tab:
        tab = Tab(name)
        self.tabs.append(tab)
        return tab

    def open(self, server: LiveServer, user: User, name: str | None = None) -> Tab:
        """A tab signed in as `user` that has had its first presence list."""
        tab = self.tab(name or f"user {user.pk}")
        self.run(tab.connect(server, access_token(user)))
        self.run(tab.next("users_online"))
        return tab

    def close(self) -> None:
        for tab in self.tabs:
            if tab.client.connected:
                self.run(tab.close(), timeout=10)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


@pytest.fixture
def sockets(start_server) -> Iterator[Sockets]:
    # Depends on start_server so that tabs close before the servers stop.
    runner = Sockets()
    yield runner
    runner.close()
