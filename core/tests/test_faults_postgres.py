"""PostgreSQL going away under load, and its connection pool running dry, against a live
uvicorn process.

The server under test runs on a PostgreSQL cluster of the test's own (`private_postgres`: made
with initdb in a temporary folder, on a free port, holding a copy of the test database), so
stopping it disturbs neither this test session's database nor anyone else's.

The API's promise (API.md): an unreachable or overloaded database gets 503 with `Retry-After`
and a JSON `{"detail": ...}`, never a 500; whatever it acknowledged (201) is stored; and it
serves again by itself once the database is back.
"""

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection

from messaging.models import Message
from messaging.tests.conftest import LiveServer, _free_port, access_token, launch_servers
from users.models import User

pytestmark = pytest.mark.postgres_only

OUTAGE_SECONDS = 3
# The pool's wait for a connection while the database is away: each request gives up (503)
# after this long.
POOL_TIMEOUT_SECONDS = 2
DEADLINE_SECONDS = 30
# The live server counts messages per user per minute; the load sends many more.
LOAD_ENV = {"MESSAGES_PER_MINUTE": "100000", "DATABASE_POOL_TIMEOUT": str(POOL_TIMEOUT_SECONDS)}


def _postgres_bin() -> Path | None:
    """The PostgreSQL server programs (initdb, pg_ctl) of this machine, newest first."""
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run(
            [found, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if bindir and (Path(bindir) / "initdb").exists():
            return Path(bindir)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.port = _free_port()
        # PostgreSQL refuses to run as root: then it runs as the `postgres` account.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bindir / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "-N"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        self.wait_ready()

    def stop(self) -> None:
        """`-m fast`: open sessions are cut and their transactions rolled back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        status = subprocess.run(
            [*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def ready(self) -> bool:
        probe = subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return probe.returncode == 0

    def wait_ready(self) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not self.ready():
            if time.monotonic() > deadline:
                pytest.fail(f"the private PostgreSQL on {self.port} is not ready")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's server programs (initdb) are not installed")
    # Not under pytest's own temporary folder, which the `postgres` account cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="music-faults-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(directory, account.pw_uid, account.pw_gid)
    cluster = PrivatePostgres(bindir, directory)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def copy_database(private_postgres: PrivatePostgres, transactional_db) -> Iterator[Any]:
    """`copy_database()`: a new database on the private cluster holding a copy of the test
    database as it is now (schema and rows: make the users first); returns its URL."""
    names: list[str] = []

    def copy() -> str:
        name = f"faults_{len(names)}"
        with psycopg.connect(private_postgres.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        source = connection.settings_dict
        dump = subprocess.run(
            [
                str(private_postgres.bindir / "pg_dump"),
                "--no-owner",
                "--no-privileges",
                "-h",
                source.get("HOST") or "127.0.0.1",
                "-p",
                str(source.get("PORT") or 5432),
                "-U",
                source.get("USER") or "postgres",
                source["NAME"],
            ],
            capture_output=True,
            check=True,
            env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
            timeout=60,
        )
        subprocess.run(
            [
                str(private_postgres.bindir / "psql"),
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                private_postgres.url(name),
            ],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return private_postgres.url(name)

    yield copy
    if not private_postgres.is_running():
        private_postgres.start()
    with psycopg.connect(private_postgres.url("postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def live_server_on(tmp_path) -> Iterator[Any]:
    """Start one live server on a given database (with extra settings); stopped after."""
    servers: list[LiveServer] = []

    def start(database_url: str, env: dict[str, str]) -> LiveServer:
        servers.extend(launch_servers(1, database_url=database_url, log_dir=tmp_path, env=env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
        print(f"--- uvicorn {server.url} ---\n{server.log()}")


def _assert_a_retryable_503(response: httpx.Response) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["detail"]
    assert isinstance(body["detail"], str)


def _stored_messages(database_url: str) -> dict[int, tuple[int, int, str]]:
    table = Message._meta.db_table
    with psycopg.connect(database_url) as stored:
        rows = stored.execute(
            f"SELECT id, sender_id, receiver_id, content FROM {table}"  # noqa: S608
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_a_database_outage_under_load_gets_503s_loses_no_acknowledged_message_and_heals(
    make_user, copy_database, private_postgres: PrivatePostgres, live_server_on
):
    users = [make_user() for _ in range(4)]
    tokens = {user.pk: access_token(user) for user in users}
    database_url = copy_database()
    server = live_server_on(database_url, LOAD_ENV)
    answers: list[tuple[float, float, httpx.Response]] = []  # (sent, answered, response)
    sending = True

    async def send(sender: User, receiver: User) -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            for turn in range(100_000):
                if not sending:
                    return
                sent_at = time.monotonic()
                response = await http.post(
                    f"{server.url}/api/messages/",
                    json={"receiver_id": receiver.pk, "content": f"{sender.pk} #{turn}"},
                    headers={"Authorization": f"Bearer {tokens[sender.pk]}"},
                )
                answers.append((sent_at, time.monotonic(), response))
                await asyncio.sleep(0.01)

    def created_since(moment: float) -> list[tuple[float, float, httpx.Response]]:
        return [
            answer
            for answer in answers
            if answer[0] > moment and answer[2].status_code == HTTPStatus.CREATED
        ]

    async def until(condition, what: str) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {DEADLINE_SECONDS} s: {what}")
            await asyncio.sleep(0.05)

    async def scenario() -> tuple[float, float, httpx.Response]:
        nonlocal sending
        senders = [
            asyncio.ensure_future(send(user, users[(index + 1) % len(users)]))
            for index, user in enumerate(users)
        ]
        await until(lambda: len(created_since(0)) >= 10, "messages before the outage")
        try:
            await asyncio.to_thread(private_postgres.stop)
            stopped = time.monotonic()
            async with httpx.AsyncClient(timeout=60) as http:
                health = await http.get(f"{server.url}/api/health/")
            await asyncio.sleep(max(0.0, stopped + OUTAGE_SECONDS - time.monotonic()))
        finally:
            await asyncio.to_thread(private_postgres.start)
        restarted = time.monotonic()
        await until(lambda: len(created_since(restarted)) >= 10, "messages after the outage")
        sending = False
        await asyncio.gather(*senders)
        return stopped, restarted, health

    stopped, restarted, health = asyncio.run(scenario())

    _assert_a_retryable_503(health)
    statuses = [response.status_code for _, _, response in answers]
    assert set(statuses) == {HTTPStatus.CREATED, HTTPStatus.SERVICE_UNAVAILABLE}
    for _, _, response in answers:
        if response.status_code == HTTPStatus.SERVICE_UNAVAILABLE:
            _assert_a_retryable_503(response)
    # Every acknowledged message is stored, as it was acknowledged.
    stored = _stored_messages(database_url)
    for _, _, response in answers:
        if response.status_code == HTTPStatus.CREATED:
            message = response.json()
            assert stored[message["id"]] == (
                message["sender_id"],
                message["receiver_id"],
                message["content"],
            )
    # The same process serves again, without a restart.
    assert server.process.poll() is None
    assert httpx.get(f"{server.url}/api/health/", timeout=10).json()["database"] == "ok"
    healed = min(answered for _, answered, _ in created_since(restarted)) - restarted
    refused = statuses.count(HTTPStatus.SERVICE_UNAVAILABLE)
    print(
        f"{len(statuses)} answers: {refused} 503s during a {restarted - stopped:.1f} s outage; "
        f"201 again {healed:.1f} s after PostgreSQL was back; {len(stored)} messages stored"
    )


def test_a_pool_run_dry_gets_503s_with_retry_after_then_serves_again(
    make_user, copy_database, live_server_on
):
    ada, bob = make_user(), make_user()
    database_url = copy_database()
    # One pooled connection, given up on after one second.
    server = live_server_on(
        database_url,
        {
            "DATABASE_POOL_MIN_SIZE": "1",
            "DATABASE_POOL_MAX_SIZE": "1",
            "DATABASE_POOL_TIMEOUT": "1",
        },
    )
    headers = {"Authorization": f"Bearer {access_token(ada)}"}
    table = Message._meta.db_table

    async def scenario(locker: psycopg.Connection) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
            # The first request takes the only connection and waits on the locked table...
            holding = asyncio.ensure_future(
                http.post("/api/messages/", json={"receiver_id": bob.pk, "content": "first"})
            )
            deadline = time.monotonic() + DEADLINE_SECONDS
            while not locker.execute("SELECT 1 FROM pg_locks WHERE NOT granted").fetchone():
                assert time.monotonic() < deadline, "the first request never waited"
                await asyncio.sleep(0.02)
            # ...so the next ones find the pool empty.
            starved = await asyncio.gather(
                http.post("/api/messages/", json={"receiver_id": bob.pk, "content": "second"}),
                http.get("/api/messages/"),
                http.get("/api/health/"),
            )
            locker.rollback()  # the lock goes: the first request goes through
            return [*starved, await holding]

    with psycopg.connect(database_url) as locker:
        locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        *starved, first = asyncio.run(scenario(locker))

    for response in starved:
        _assert_a_retryable_503(response)
    assert first.status_code == HTTPStatus.CREATED, first.text
    again = httpx.post(
        f"{server.url}/api/messages/",
        json={"receiver_id": bob.pk, "content": "again"},
        headers=headers,
        timeout=60,
    )
    assert again.status_code == HTTPStatus.CREATED, again.text
    assert sorted(content for _, _, content in _stored_messages(database_url).values()) == [
        "again",
        "first",
    ]
