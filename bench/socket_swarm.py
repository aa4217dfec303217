"""A swarm of Socket.IO clients against the real-time layer: presence, messages, activities.

    .venv/bin/python bench/socket_swarm.py                      # the project, every step
    .venv/bin/python bench/socket_swarm.py --legacy             # with the old presence events
    .venv/bin/python bench/socket_swarm.py --target bare        # the floor (bench/socketio_bare.py)
    .venv/bin/python bench/socket_swarm.py --processes 2        # two uvicorns sharing a Redis
    .venv/bin/python bench/socket_swarm.py --layout production  # REST on gunicorn
    .venv/bin/python bench/socket_swarm.py --soak 600           # memory over ten minutes of traffic
    .venv/bin/python bench/socket_swarm.py --sockets 300 --rates 100 --duration 3 \\
        --only connect,socket,activity                          # a quick look
    .venv/bin/python bench/socket_swarm.py \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres   # on PostgreSQL

**The client.** One asyncio process (uvloop when installed) holds every socket: a websocket
from the `websockets` library speaking Engine.IO 4 / Socket.IO 5 by hand (no polling, no
python-socketio client), with a reader task per socket. It connects to
`/socket.io/?EIO=4&transport=websocket`, waits for the open packet (`0{...}`), sends
`40{"token": ...}` and takes `40{"sid"...}` as accepted and `44{...}` as refused; it answers
each ping (`2`) with a pong (`3`) at once. Each user has one socket, and each socket keeps
its view of presence: the set of online users and their activities, built from
`users_online` and `activities` (its welcome), the batched `presence` frames (`online` pairs
set a user online with that activity, `offline` ids remove it), and, when the server sends
them, the old events `user_connected`, `user_disconnected`, `activities` and
`activity_updated`. The client offers no compression unless `--deflate` (browsers do).

**The servers.** Everything lives in a scratch directory. `--target project` (default): a
SQLite file there (or, with `--database-url`, a database `swarm_<random>` the bench creates
on that PostgreSQL server and drops at the end; no other database is touched), `manage.py
migrate`, N+1 users (`swarm<i>@swarm.invalid`, one unusable password) and their access
tokens minted in one `manage.py shell`, then `uvicorn config.asgi:application` (one process;
`--processes 2`: two, sockets split between them). Every server runs with its settings set
here (`DEBUG=False`, a fixed `SECRET_KEY`, `MESSAGES_PER_MINUTE=100000000`,
`SOCKETIO_LEGACY_PRESENCE_EVENTS` false unless `--legacy`, `SOCKETIO_PRESENCE_BATCH_SECONDS`
from `--batch-seconds`, ...; `--server-env KEY=VALUE` adds more), so the project's `.env`
cannot change them. With two processes or `--layout production` a private redis-server on a
free port (`--save "" --appendonly no`) is shared (`REDIS_URL`); the production layout sends
REST to gunicorn (deploy/gunicorn.conf.py, `--max-requests 0`) and sockets to uvicorn.
`--target bare` runs the same steps against bench/socketio_bare.py: python-socketio and
uvicorn alone, no Django and no database (the token is the user id), the floor under the
project; it has no stored rows and no old events (`--bare-text-packets`: the floor with
python-socketio's search of every payload for binary attachments switched off). Before
anything is measured, one socket per server connects and leaves and a few messages are
POSTed (Django's first request is slow); before each step and each rate the bench waits
until the servers are idle, so a backlog one step left is not charged to the next.

**The steps** (`--only` picks some; the numbers are the defaults):

1. `connect`: 2,000 sockets, one user each, connect with at most 200 handshakes in flight.
   Connect time: from the first attempt until the last acceptance. Settled: until every
   view holds exactly the 2,000 users (target: 10 s). Frames and bytes received, the
   server's CPU seconds (/proc/PID/stat) and its RSS (VmRSS) before and after, so the memory
   per socket. The server is then restarted (and the private Redis emptied) for the rest.
2. `socket`: 500 sockets connect and settle; for each rate in `--rates` (200, 500, 1,000 a
   second) for `--duration` (10 s), `send_message` from random sockets to random other
   users, each content unique. Latency: the receiver socket's `receive_message` minus the
   send. Counted: `receive_message` at the receiver, `message_sent` at the sender, rows
   stored (read from the database). What has not arrived `--drain-timeout` (10 s) after the
   last send is waited for until the servers are idle (a rate above what they can take
   leaves a backlog: `last arrival s` says how long after the last send it ended), then
   counted; a backlog that outlasts that wait too is reported as unfinished. Exactly once:
   every count equals the messages sent, no duplicate, none at the wrong socket, no
   `message_error`. Target: 1,000/s with p99 <= 100 ms.
3. `rest`: `POST /api/messages/` with the sender's bearer token at `--rest-rates` (200/s),
   from an httpx client with a pool of `--http-connections` (32); latency from the POST's
   start until `receive_message`. Same counts. Target: 200/s with p99 <= 200 ms.
4. `activity`: every `--activity-interval` (0.2 s) one random socket sends
   `update_activity` with a unique activity; for each change and each socket, the arrival of
   the `presence` frame (or `activity_updated`) carrying it minus the send; with `--legacy`
   each change comes twice (both events), the first counts and the second is a `repeat`. No
   user changes twice within the last few changes, so no batch can merge two of one user's
   changes: every receipt is due. Then every view must show each changed user's last
   activity. Target: p99 <= 150 ms.
5. `disconnect`: half the sockets close at once; until every remaining view holds exactly
   the remaining users (checked again after a quiet spell).

`--soak SECONDS` replaces the steps: 500 sockets, messages at `--soak-rate` (200/s) and an
activity change every 0.2 s for that long; the socket servers' RSS every `--sample-every`
(30 s) in a table, against the first sample after `--soak-warmup` (60 s): the target is the
last within 10 %. Beside each sample, the p99 of the messages and activity changes sent in
that window: when they climb, the servers are not keeping up and the growth is their backlog
(queued events), not a leak; pick a `--soak-rate` they sustain to look for one.

**Output.** A header line with the configuration, then a Markdown table per step. Targets are
shown as yes/NO; a count that is not exactly once, a view that is not exact, or a step that
ran out of time prints a FAIL line and makes the exit status 1. Then what the servers wrote
to their logs (warnings, errors). Progress goes to stderr.

**Bounded.** Each wait (connects, settling, the arrivals after sending) stops after
`--step-timeout` (60 s; TIMEOUT, and the run goes on), the whole run after `--time-limit`
(900 s), every server start after 60 s. Servers are stopped with SIGTERM, then SIGKILL to
their process group. The client shares the machine with the servers: its own CPU seconds are
printed beside theirs, and its event loop's delays are part of every latency. `--keep`
keeps the scratch directory (server logs, the SQLite file) and says where.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import re
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import redis
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.ports import free_port  # noqa: E402 - the one the test servers use
from tests.processes import descendants, run_python  # noqa: E402

STEPS = ("connect", "socket", "rest", "activity", "disconnect")
MIB = 1024 * 1024
# Targets of the issue.
SETTLE_TARGET_SECONDS = 10.0
SOCKET_TARGET = (1_000, 0.100)  # rate, p99 seconds
REST_TARGET = (200, 0.200)
ACTIVITY_TARGET_P99 = 0.150
SOAK_GROWTH_PERCENT = 10
START_TIMEOUT = 60.0
# Signs the bench's tokens only; the servers get it explicitly, so .env cannot change it.
SECRET_KEY = "swarm-bench-secret-key-not-for-production-0123456789-abcdefghij"  # noqa: S105


def now() -> float:
    return time.perf_counter()


# --- Processes ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process; 0 once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+)", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


@dataclass
class Managed:
    """A server process the bench started, in a process group of its own."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"

    def pids(self) -> list[int]:
        # gunicorn's workers are children of its master; uvicorn alone has none.
        return [self.process.pid, *descendants(self.process.pid)]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn runs its lifespan shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def launch(
    name: str,
    command: Callable[[int], list[str]],
    env: dict[str, str],
    logs: Path,
    ready: Callable[[Managed], bool],
) -> Managed:
    """Start `command(port)` on a free port and wait until `ready`; another program may take
    the port first, so up to three ports are tried."""
    for _ in range(3):
        port = free_port()
        log = logs / f"{name}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command(port),
                cwd=PROJECT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended as one at the end
            )
        server = Managed(name, process, port, log)
        if ready(server):
            return server
        server.stop()
        if "in use" not in server.log_tail():
            break
    raise SystemExit(f"{name} did not start within {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def answers_health(server: Managed) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline and server.process.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{server.http}/api/health/").status_code == 200:
                    return True
            time.sleep(0.2)
    return False


def answers_ping(server: Managed) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    client = redis.Redis.from_url(f"redis://127.0.0.1:{server.port}/0", socket_timeout=1)
    try:
        while time.monotonic() < deadline and server.process.poll() is None:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return True
            time.sleep(0.05)
    finally:
        client.close()
    return False


def start_redis(scratch: Path) -> Managed:
    """A private redis-server, never the machine's: no persistence, a free port."""

    def command(port: int) -> list[str]:
        return [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(scratch)),
        ]

    return launch("redis", command, dict(os.environ), scratch, answers_ping)


def empty_redis(server: Managed) -> None:
    """Between phases: the bench's own Redis loses the last phase's presence and counters."""
    client = redis.Redis.from_url(f"redis://127.0.0.1:{server.port}/0", socket_timeout=5)
    try:
        client.flushall()
    finally:
        client.close()


# --- The database and the users -------------------------------------------------------------


class Database:
    """The database the project's servers share: made here, counted here, dropped here."""

    def __init__(self, scratch: Path, admin_url: str | None) -> None:
        self.admin_url = admin_url
        self.name = ""
        if admin_url is None:
            self.path = scratch / "db.sqlite3"
            self.url = f"sqlite:///{self.path}"
            self.label = "SQLite"
            return
        # A database of our own on that server; the URL's database is used for CREATE/DROP.
        import psycopg
        from psycopg import sql

        self.name = f"swarm_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        parts = urlsplit(admin_url)
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self.label = f"PostgreSQL ({self.name})"

    def count(self, prefix: str) -> int:
        """Messages stored whose content starts with `prefix` (hex, digits, dashes: no LIKE
        wildcards)."""
        query = "SELECT count(*) FROM messaging_message WHERE content LIKE "
        if self.admin_url is None:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                return connection.execute(query + "?", (f"{prefix}%",)).fetchone()[0]
            finally:
                connection.close()
        import psycopg

        with psycopg.connect(self.url) as connection:
            return connection.execute(query + "%s", (f"{prefix}%",)).fetchone()[0]

    def drop(self) -> None:
        if self.admin_url is None or not self.name:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


# Run by `manage.py shell`: N users with one cheap unusable password, and their access tokens
# (valid for the whole run) as JSON on the last line.
MINT = """
import json
from datetime import timedelta
from django.contrib.auth.hashers import make_password
from ninja_jwt.tokens import AccessToken
from users.models import User

password = make_password(None)
users = User.objects.bulk_create(
    User(email=f"swarm{i}@swarm.invalid", full_name=f"swarm{i}", password=password)
    for i in range(%(count)d)
)
tokens = []
for user in users:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=%(lifetime)d))
    tokens.append(str(token))
print(json.dumps({"ids": [user.pk for user in users], "tokens": tokens}))
"""


def manage(env: dict[str, str], *arguments: str, timeout: float) -> str:
    return run_python(["manage.py", *arguments], env=env, timeout=timeout)


def project_users(env: dict[str, str], count: int, lifetime: int) -> tuple[list[int], list[str]]:
    manage(env, "migrate", "-v0", "--no-input", timeout=300)
    code = MINT % {"count": count, "lifetime": lifetime}
    out = manage(env, "shell", "-v0", "-c", code, timeout=300)
    data = orjson.loads(out.strip().splitlines()[-1])
    return data["ids"], data["tokens"]


# --- The client ------------------------------------------------------------------------------


@dataclass(slots=True)
class Sent:
    """One message: when it left, and what came back."""

    step: MessageStep
    sender: int
    receiver: int
    sent_at: float = 0.0
    received_at: float = 0.0
    receipts: int = 0
    confirms: int = 0
    http_status: int = 0
    http_seconds: float = 0.0
    lost: bool = False


class MessageStep:
    """The messages of one step and how many arrivals it still waits for."""

    def __init__(self) -> None:
        self.records: list[Sent] = []
        self.waiting = 0  # receive_message and message_sent still to come
        self.sending = True
        self.last_send = 0.0  # when the last send was started
        self.done = asyncio.Event()
        self.duplicates = 0
        self.misdelivered = 0
        self.errors: Counter[str] = Counter()

    def expect(self, record: Sent) -> None:
        self.records.append(record)
        self.waiting += 2

    def arrived(self) -> None:
        self.waiting -= 1
        self._check()

    def lose(self, record: Sent, reason: str) -> None:
        """Nothing more will come for `record` (its POST or its send failed)."""
        if not record.lost:
            record.lost = True
            self.waiting -= (record.receipts == 0) + (record.confirms == 0)
            self.errors[reason] += 1
            self._check()

    def finish_sending(self) -> None:
        self.sending = False
        self._check()

    def _check(self) -> None:
        if not self.sending and self.waiting <= 0:
            self.done.set()


@dataclass(slots=True)
class Probe:
    """One activity change: when it was sent and which sockets have seen it."""

    step: ActivityStep
    user: int
    sent_at: float
    seen: bytearray


class ActivityStep:
    def __init__(self) -> None:
        self.probes: list[Probe] = []
        self.latencies = array("d")
        self.arrivals: list[tuple[float, float]] = []  # (sent_at, latency), for the soak
        self.expected = 0  # receipts: one per open socket per change
        self.waiting = 0
        self.sending = True
        self.done = asyncio.Event()
        self.duplicates = 0
        self.keep_arrivals = False

    def arrived(self, probe: Probe, latency: float) -> None:
        self.latencies.append(latency)
        if self.keep_arrivals:
            self.arrivals.append((probe.sent_at, latency))
        self.waiting -= 1
        self._check()

    def finish_sending(self) -> None:
        self.sending = False
        self._check()

    def _check(self) -> None:
        if not self.sending and self.waiting <= 0:
            self.done.set()


class Sock:
    """One simulated tab: a websocket, its reader, and its view of presence."""

    __slots__ = (
        "activities_raw",
        "answered",
        "bytes",
        "closing",
        "error",
        "frames",
        "index",
        "is_open",
        "online",
        "opened",
        "overrides",
        "reader",
        "refusal",
        "settled",
        "swarm",
        "token",
        "url",
        "user",
        "watched",
        "ws",
    )

    def __init__(self, swarm: Swarm, index: int, user: int, token: str, url: str) -> None:
        self.swarm = swarm
        self.index = index
        self.user = user
        self.token = token
        self.url = url
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[bool] = loop.create_future()
        self.answered: asyncio.Future[bool] = loop.create_future()
        self.refusal: Any = None
        self.error = ""
        self.is_open = False
        self.closing = False
        self.frames = 0
        self.bytes = 0
        # The view: who is online, and activities as the last full list (kept as its JSON and
        # parsed only when looked at: the old design sends it to everyone on every arrival)
        # plus the changes since (None: gone).
        self.online: set[int] = set()
        self.activities_raw: bytes | None = None
        self.overrides: dict[int, str | None] = {}
        self.settled = False
        self.watched = False

    async def connect(self, timeout: float, compression: str | None) -> bool:
        """Open the websocket and sign in; True once accepted."""
        try:
            async with asyncio.timeout(timeout):
                self.ws = await ws_connect(
                    self.url,
                    compression=compression,
                    proxy=None,  # never a proxy from the environment
                    open_timeout=None,  # the timeout above bounds the whole handshake
                    ping_interval=None,  # Engine.IO pings, not the websocket's
                    close_timeout=5,
                    max_size=64 * MIB,
                    max_queue=64,
                )
                self.is_open = True
                self.reader = asyncio.create_task(self._read())
                if not await self.opened:
                    self.error = "closed before the open packet"
                    return False
                await self.ws.send(b"40" + orjson.dumps({"token": self.token}), text=True)
                return await self.answered
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as error:
            self.error = self.error or type(error).__name__
            if self.ws is not None:  # open but not signed in in time: not a tab any more
                self.closing = True
                with contextlib.suppress(Exception):
                    await self.ws.close()
            return False

    def accepted(self) -> bool:
        # A connect cut short by its timeout cancels the future it was awaiting.
        answered = self.answered
        return answered.done() and not answered.cancelled() and answered.result()

    def live(self) -> bool:
        """Signed in and still open: a tab that can send and be sent to."""
        return self.is_open and self.accepted()

    async def emit(self, event: bytes, payload: object) -> bool:
        if not self.is_open or self.ws is None:
            return False
        try:
            await self.ws.send(b'42["' + event + b'",' + orjson.dumps(payload) + b"]", text=True)
        except ConnectionClosed:
            return False
        return True

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 10)

    async def _read(self) -> None:
        assert self.ws is not None
        ws = self.ws
        swarm = self.swarm
        try:
            while True:
                data = await ws.recv(decode=False)
                arrived = now()
                self.frames += 1
                self.bytes += len(data)
                kind = data[:1]
                if kind == b"4":
                    try:
                        self._packet(data, arrived)
                    except Exception as error:  # a payload the view cannot read: counted
                        swarm.client_errors[f"{type(error).__name__}: {error}"[:120]] += 1
                elif kind == b"2":
                    await ws.send(b"3", text=True)  # the server's ping: pong at once
                elif kind == b"0":
                    if not self.opened.done():
                        self.opened.set_result(True)
                elif kind == b"1":
                    break
        except ConnectionClosed:
            pass
        finally:
            self.is_open = False
            for future in (self.opened, self.answered):
                if not future.done():
                    future.set_result(False)
            if not self.closing:
                swarm.dropped += 1

    def _packet(self, data: bytes, arrived: float) -> None:
        kind = data[1:2]
        if kind == b"2":
            # 42["name",payload]: the name without parsing the payload.
            end = data.index(b'"', 4)
            handler = self.swarm.handlers.get(data[4:end])
            if handler is None:
                self.swarm.other_events[data[4:end].decode()] += 1
            else:
                handler(self, data[end + 2 : -1], arrived)
        elif kind == b"0":
            if not self.answered.done():
                self.answered.set_result(True)
        elif kind == b"4":
            self.refusal = orjson.loads(data[2:])
            if not self.answered.done():
                self.answered.set_result(False)
        elif kind == b"1":
            self.swarm.other_events["namespace disconnect"] += 1

    def activities(self) -> dict[int, str]:
        """The view's activities, materialized."""
        base = (
            {int(u): a for u, a in orjson.loads(self.activities_raw)} if self.activities_raw else {}
        )
        for user, activity in self.overrides.items():
            if activity is None:
                base.pop(user, None)
            else:
                base[user] = activity
        return base


class Swarm:
    """Every socket of the client, what they are expected to see, and what they saw."""

    def __init__(self) -> None:
        self.socks: list[Sock] = []
        self.expected: frozenset[int] = frozenset()
        self.watch_count = 0
        self.settled_count = 0
        self.all_settled = asyncio.Event()
        self.settled_at = 0.0
        self.unsettled = 0  # times every view was right and then one was not
        self.messages: dict[str, Sent] = {}
        self.message_step: MessageStep | None = None
        self.probes: dict[str, Probe] = {}
        self.dropped = 0
        self.resyncs = 0
        self.unknown_messages = 0
        self.other_events: Counter[str] = Counter()
        self.client_errors: Counter[str] = Counter()
        self.handlers: dict[bytes, Callable[[Sock, bytes, float], None]] = {
            b"presence": self._presence,
            b"users_online": self._users_online,
            b"activities": self._activities,
            b"user_connected": self._user_connected,
            b"user_disconnected": self._user_disconnected,
            b"activity_updated": self._activity_updated,
            b"receive_message": self._receive_message,
            b"message_sent": self._message_sent,
            b"message_error": self._message_error,
            b"resync": self._resync,
        }

    # What the views must show.

    def expect(self, users: Iterable[int], socks: Sequence[Sock]) -> None:
        self.expected = frozenset(users)
        for sock in self.socks:
            sock.watched = sock.settled = False
        self.watch_count = len(socks)
        self.settled_count = 0
        self.all_settled.clear()
        for sock in socks:
            sock.watched = True
            self.check(sock)
        if self.settled_count == self.watch_count:
            self.all_settled.set()
            self.settled_at = now()

    def check(self, sock: Sock) -> None:
        if not sock.watched:
            return
        # The set comparison only when the sizes match: cheap while a storm grows the views.
        right = len(sock.online) == len(self.expected) and sock.online == self.expected
        if right is sock.settled:
            return
        sock.settled = right
        self.settled_count += 1 if right else -1
        if self.settled_count == self.watch_count:
            self.settled_at = now()
            self.all_settled.set()
        elif self.all_settled.is_set():
            self.all_settled.clear()
            self.unsettled += 1

    def wrong_views(self, socks: Sequence[Sock]) -> str:
        """How far the views that are not exact are from the expected set."""
        wrong = [s for s in socks if s.online != self.expected]
        if not wrong:
            return "none"
        missing = max(len(self.expected - s.online) for s in wrong)
        extra = max(len(s.online - self.expected) for s in wrong)
        closed = sum(not s.is_open for s in wrong)
        return f"{len(wrong)} wrong (at most {missing} missing, {extra} extra; {closed} closed)"

    # The events.

    def _presence(self, sock: Sock, raw: bytes, arrived: float) -> None:
        batch = orjson.loads(raw)
        online, overrides, probes = sock.online, sock.overrides, self.probes
        for user, activity in batch.get("online", ()):
            online.add(user)
            overrides[user] = activity
            if probes and activity in probes:
                self._probe_arrived(sock, probes[activity], arrived)
        for user in batch.get("offline", ()):
            online.discard(user)
            overrides[user] = None
        self.check(sock)

    def _users_online(self, sock: Sock, raw: bytes, arrived: float) -> None:
        sock.online = set(orjson.loads(raw))
        self.check(sock)

    def _activities(self, sock: Sock, raw: bytes, arrived: float) -> None:
        sock.activities_raw = raw
        sock.overrides = {}

    def _user_connected(self, sock: Sock, raw: bytes, arrived: float) -> None:
        sock.online.add(int(raw))
        self.check(sock)

    def _user_disconnected(self, sock: Sock, raw: bytes, arrived: float) -> None:
        user = int(raw)
        sock.online.discard(user)
        sock.overrides[user] = None
        self.check(sock)

    def _activity_updated(self, sock: Sock, raw: bytes, arrived: float) -> None:
        change = orjson.loads(raw)
        sock.overrides[change["user_id"]] = change["activity"]
        probe = self.probes.get(change["activity"])
        if probe is not None:
            self._probe_arrived(sock, probe, arrived)

    def _probe_arrived(self, sock: Sock, probe: Probe, arrived: float) -> None:
        if sock.index < 0 or sock.index >= len(probe.seen):
            return
        if probe.seen[sock.index]:
            probe.step.duplicates += 1
            return
        probe.seen[sock.index] = 1
        probe.step.arrived(probe, arrived - probe.sent_at)

    def _receive_message(self, sock: Sock, raw: bytes, arrived: float) -> None:
        self._message_arrived(sock, raw, arrived, confirmation=False)

    def _message_sent(self, sock: Sock, raw: bytes, arrived: float) -> None:
        self._message_arrived(sock, raw, arrived, confirmation=True)

    def _message_arrived(
        self, sock: Sock, raw: bytes, arrived: float, *, confirmation: bool
    ) -> None:
        """A message reached its receiver (`receive_message`) or came back to its sender as
        confirmed (`message_sent`): counted once, to the right person only."""
        record = self.messages.get(orjson.loads(raw)["content"])
        if record is None:
            self.unknown_messages += 1
            return
        if sock.user != (record.sender if confirmation else record.receiver):
            record.step.misdelivered += 1
            return
        if confirmation:
            record.confirms += 1
            count = record.confirms
        else:
            record.receipts += 1
            count = record.receipts
        if count > 1:
            record.step.duplicates += 1
        elif not record.lost:
            if not confirmation:
                record.received_at = arrived
            record.step.arrived()

    def _message_error(self, sock: Sock, raw: bytes, arrived: float) -> None:
        detail = str(orjson.loads(raw).get("detail"))
        if self.message_step is not None:
            self.message_step.errors[detail] += 1
        else:
            self.other_events[f"message_error: {detail}"] += 1

    def _resync(self, sock: Sock, raw: bytes, arrived: float) -> None:
        self.resyncs += 1


# --- Figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of rows given as {header: cell}, in the first row's order."""
    headers = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(headers) + " |", "|" + " ---: |" * len(headers)]
    lines += ["| " + " | ".join(str(row.get(h, "")) for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def show(text: str) -> None:
    print(text, flush=True)


# --- The run ---------------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    scratch: Path
    env: dict[str, str]
    users: list[int]  # the last one only warms a server up
    tokens: list[str]
    database: Database | None
    redis: Managed | None = None
    socket_servers: list[Managed] = field(default_factory=list)
    http_server: Managed | None = None  # gunicorn, in the production layout
    old_logs: list[Managed] = field(default_factory=list)
    swarm: Swarm | None = None
    failures: list[str] = field(default_factory=list)
    deadline: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    # Servers.

    def socket_command(self, port: int, index: int) -> list[str]:
        if self.args.target == "bare":
            command = [sys.executable, "bench/socketio_bare.py", "--port", str(port)]
            command += ["--batch-seconds", str(self.args.batch_seconds)]
            if self.args.bare_text_packets:
                command.append("--text-packets")
            if self.redis is not None:
                command += ["--redis-url", self.redis_url, "--redis-prefix", f"swarm-{self.run_id}"]
            return command
        return [
            *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--no-access-log", "--log-level", "warning"),
        ]

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis.port}/0" if self.redis else ""

    def start_servers(self) -> None:
        env = {**self.env, "REDIS_URL": self.redis_url}
        for index in range(self.args.processes):
            name = f"{'bare' if self.args.target == 'bare' else 'uvicorn'}{index + 1}"
            server = launch(
                name,
                lambda port, i=index: self.socket_command(port, i),
                env,
                self.scratch,
                answers_health,
            )
            self.socket_servers.append(server)
        if (
            self.args.layout == "production"
            and self.args.target == "project"
            and not self.http_server
        ):
            gunicorn_env = dict(env)
            if self.args.gunicorn_workers:
                gunicorn_env["WEB_CONCURRENCY"] = str(self.args.gunicorn_workers)

            def gunicorn(port: int) -> list[str]:
                return [
                    *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
                    *("-c", "deploy/gunicorn.conf.py", "-b", f"127.0.0.1:{port}"),
                    *("--max-requests", "0"),  # no recycling during the measurement
                ]

            self.http_server = launch(
                "gunicorn", gunicorn, gunicorn_env, self.scratch, answers_health
            )

    def stop_socket_servers(self) -> None:
        for server in self.socket_servers:
            server.stop()
        self.old_logs += self.socket_servers
        self.socket_servers = []

    def restart(self) -> None:
        say("restarting the socket servers for the next phase")
        self.stop_socket_servers()
        if self.redis is not None:
            empty_redis(self.redis)
        self.start_servers()

    def stop_all(self) -> None:
        self.stop_socket_servers()
        for server in (self.http_server, self.redis):
            if server is not None:
                server.stop()
                self.old_logs.append(server)

    def server_cpu(self) -> float:
        return sum(server.cpu() for server in self.socket_servers)

    def http_cpu(self) -> float:
        return self.http_server.cpu() if self.http_server else 0.0

    def server_rss(self) -> int:
        return sum(server.rss() for server in self.socket_servers)

    def remaining(self, wanted: float) -> float:
        return max(0.0, min(wanted, self.deadline - time.monotonic()))

    def fail(self, line: str) -> None:
        self.failures.append(line)
        show(f"\nFAIL: {line}")

    # Sockets.

    def new_socks(self, count: int) -> list[Sock]:
        assert self.swarm is not None
        socks = []
        for index in range(count):
            server = self.socket_servers[index % len(self.socket_servers)]
            socks.append(
                Sock(self.swarm, index, self.users[index], self.tokens[index], server.socket_url)
            )
        self.swarm.socks = socks
        return socks

    async def connect(self, socks: Sequence[Sock], timeout: float) -> tuple[int, float | None]:
        """Connect `socks` with bounded concurrency; (accepted, seconds until the last
        acceptance) or (accepted, None) when the time ran out."""
        gate = asyncio.Semaphore(self.args.concurrency)
        compression = "deflate" if self.args.deflate else None
        start = now()
        last = start

        async def one(sock: Sock) -> None:
            nonlocal last
            async with gate:
                if await sock.connect(self.args.connect_timeout, compression):
                    last = max(last, now())

        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(one(sock) for sock in socks))
        except TimeoutError:
            return sum(s.accepted() for s in socks), None
        return sum(s.accepted() for s in socks), last - start

    async def settle(self, start: float, timeout: float) -> float | None:
        """Seconds from `start` until every watched view is exact and stays so for a quiet
        spell (a few batch windows); None when the time ran out."""
        assert self.swarm is not None
        swarm = self.swarm
        quiet = max(0.5, 3 * self.args.batch_seconds)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(swarm.all_settled.wait(), left)
            except TimeoutError:
                return None
            at = swarm.settled_at
            await asyncio.sleep(quiet)
            if swarm.all_settled.is_set() and swarm.settled_at == at:
                return at - start

    async def close(self, socks: Sequence[Sock]) -> None:
        await asyncio.gather(*(sock.close() for sock in socks))

    async def warm_up(self) -> None:
        """One socket per server, in and out, so lazy imports and first-use caches are paid
        before anything is measured."""
        assert self.swarm is not None
        for server in self.socket_servers:
            sock = Sock(self.swarm, -1, self.users[-1], self.tokens[-1], server.socket_url)
            if await sock.connect(self.args.connect_timeout, None):
                deadline = time.monotonic() + 10
                while not sock.online and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
            await sock.close()
        # A few POSTs too (one per gunicorn worker or so): Django's first request is slow.
        servers = [self.http_server] if self.http_server else self.socket_servers
        body = {"receiver_id": self.users[0], "content": "warm-up"}
        headers = {"Authorization": f"Bearer {self.tokens[-1]}"}
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            for server in servers * 8:
                with contextlib.suppress(httpx.HTTPError):
                    await client.post(f"{server.http}/api/messages/", json=body, headers=headers)
        await asyncio.sleep(max(0.5, 3 * self.args.batch_seconds))

    # The steps.

    def header(self) -> str:
        a = self.args
        steps = "soak" if a.soak else ",".join(a.only)
        database = "none" if a.target == "bare" else (self.database.label if self.database else "?")
        return (
            f"## socket_swarm: target {a.target}, {a.processes} socket process(es), "
            f"layout {a.layout}, legacy presence events {'on' if a.legacy else 'off'}, "
            f"{a.sockets:,} sockets (connect step), {self.swarm_size():,} for the others, "
            f"database {database}, Redis {'private' if self.redis else 'none'}, "
            f"batch {a.batch_seconds} s, compression {'deflate' if a.deflate else 'off'}, "
            f"steps {steps}"
            + (", bare with --text-packets" if a.bare_text_packets else "")
            + "\n\n"
            f"python-socketio {version('python-socketio')}, uvicorn {version('uvicorn')}, "
            f"websockets {version('websockets')}, {os.cpu_count()} CPUs, "
            f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
        )

    def swarm_size(self) -> int:
        return min(self.args.swarm, self.args.sockets)

    async def step_connect(self) -> None:
        assert self.swarm is not None
        count = self.args.sockets
        say(f"connect storm: {count:,} sockets")
        socks = self.new_socks(count)
        self.swarm.expect(self.users[:count], socks)
        rss_before, cpu_before, client_before = self.server_rss(), self.server_cpu(), client_cpu()
        start = now()
        timeout = self.remaining(self.args.step_timeout)
        accepted, connect_seconds = await self.connect(socks, timeout)
        settle_seconds = None
        if connect_seconds is not None:
            settle_seconds = await self.settle(start, self.remaining(timeout - (now() - start)))
        rss_after, cpu_after = self.server_rss(), self.server_cpu()
        client_used = client_cpu() - client_before
        frames = sum(s.frames for s in socks)
        received = sum(s.bytes for s in socks)
        refused = sum(s.refusal is not None for s in socks)
        exact = sum(s.online == self.swarm.expected for s in socks)
        verdict = "TIMEOUT" if settle_seconds is None else "ok"
        settled = settle_seconds is not None and settle_seconds <= SETTLE_TARGET_SECONDS
        row = {
            "sockets": f"{count:,}",
            "accepted": f"{accepted:,}",
            "refused": refused,
            "connect s": "TIMEOUT" if connect_seconds is None else f"{connect_seconds:.2f}",
            "settle s": "TIMEOUT" if settle_seconds is None else f"{settle_seconds:.2f}",
            f"settled ≤ {SETTLE_TARGET_SECONDS:.0f} s": yes(settled),
            "exact views": f"{exact:,}",
            "frames in": f"{frames:,}",
            "MB in": f"{received / 1e6:.1f}",
            "frames/socket": f"{frames / count:,.0f}",
            "KB/socket": f"{received / count / 1e3:.1f}",
            "server CPU s": f"{cpu_after - cpu_before:.1f}",
            "client CPU s": f"{client_used:.1f}",
            "RSS before MiB": f"{rss_before / MIB:.1f}",
            "RSS after MiB": f"{rss_after / MIB:.1f}",
            "KiB/socket": f"{(rss_after - rss_before) / count / 1024:.1f}",
            "result": verdict,
        }
        show("\n### 1. Connect storm\n")
        show(table([row]))
        self.report_connect_problems(socks)
        if settle_seconds is None:
            self.fail(
                f"connect storm: the views did not settle within {timeout:.0f} s: "
                f"{self.swarm.wrong_views(socks)}"
            )
        await self.close(socks)

    def report_connect_problems(self, socks: Sequence[Sock]) -> None:
        errors = Counter(s.error for s in socks if s.error)
        refusals = Counter(str(s.refusal) for s in socks if s.refusal is not None)
        pending = sum(not s.accepted() and not s.error and s.refusal is None for s in socks)
        if errors or refusals or pending:
            show(
                f"\nNot accepted: {pending} still waiting when the time ran out, errors "
                f"{dict(errors)}, refusals {dict(refusals)}."
            )

    async def setup_swarm(self) -> list[Sock]:
        assert self.swarm is not None
        count = self.swarm_size()
        say(f"connecting the {count:,} sockets of the other steps")
        socks = self.new_socks(count)
        self.swarm.expect(self.users[:count], socks)
        start = now()
        timeout = self.remaining(self.args.step_timeout)
        accepted, connect_seconds = await self.connect(socks, timeout)
        live = [s for s in socks if s.live()]
        if len(live) < count:
            # A failure of its own (below); the steps then measure the sockets that got in,
            # whose views must hold just those users.
            self.swarm.expect((s.user for s in live), live)
        settle_seconds = None
        if connect_seconds is not None:
            settle_seconds = await self.settle(start, self.remaining(timeout - (now() - start)))
        show(
            f"\nThe {count:,} sockets of steps 2 to 5: {accepted:,} accepted in "
            f"{'TIMEOUT' if connect_seconds is None else f'{connect_seconds:.2f} s'}, views "
            f"settled in {'TIMEOUT' if settle_seconds is None else f'{settle_seconds:.2f} s'}."
        )
        self.report_connect_problems(socks)
        if len(live) < count:
            self.fail(
                f"{count - len(live)} of the steps' {count} sockets were not accepted; the "
                f"steps go on with the {len(live)} that were"
            )
        if settle_seconds is None:
            self.fail(f"the steps' sockets did not settle: {self.swarm.wrong_views(live)}")
        return live

    def pick_pair(self, socks: Sequence[Sock]) -> tuple[Sock, Sock]:
        sender = self.rng.choice(socks)
        receiver = sender
        while receiver is sender:
            receiver = self.rng.choice(socks)
        return sender, receiver

    async def send_messages(
        self,
        socks: Sequence[Sock],
        step: MessageStep,
        prefix: str,
        rate: float,
        seconds: float,
        via_rest: bool,
        stop: asyncio.Event | None = None,
    ) -> tuple[int, float, float]:
        """Send at `rate` for `seconds` (open loop: late sends go at once and are counted as
        lag); returns (sent, seconds sending, largest lag)."""
        assert self.swarm is not None
        swarm = self.swarm
        swarm.message_step = step
        total = int(rate * seconds)
        posts: set[asyncio.Task] = set()
        client = None
        # POSTs beyond the pool wait here, not in httpx's pool, whose cost grows with its
        # queue (a slow server made the client burn seconds of CPU); their wait still counts.
        gate = asyncio.Semaphore(self.args.http_connections)
        if via_rest:
            pool = self.args.http_connections
            client = httpx.AsyncClient(
                trust_env=False,
                timeout=30,
                limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            )
        rest_servers = [self.http_server] if self.http_server else self.socket_servers
        lag = 0.0
        live = list(socks)
        start = now()
        try:
            for k in range(total):
                if stop is not None and stop.is_set():
                    break
                wait = start + k / rate - now()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    lag = max(lag, -wait)
                if k % 200 == 0:  # who can still send and be sent to, now and then
                    live = [s for s in socks if s.live()]
                sender, receiver = self.pick_pair(live)
                content = f"{prefix}{k}-{secrets.token_hex(4)}"
                record = Sent(step, sender.user, receiver.user)
                swarm.messages[content] = record
                step.expect(record)
                body = {"receiver_id": receiver.user, "content": content}
                if client is not None:
                    url = f"{rest_servers[k % len(rest_servers)].http}/api/messages/"
                    post = self.post(client, gate, url, sender, body, record)
                    task = asyncio.create_task(post)
                    posts.add(task)
                    task.add_done_callback(posts.discard)
                else:
                    record.sent_at = now()
                    if not await sender.emit(b"send_message", body):
                        step.lose(record, "the sender's socket was closed")
            sent_for = now() - start
            step.last_send = now()
            if posts:
                await asyncio.wait(posts, timeout=self.remaining(60))
        finally:
            if client is not None:
                await client.aclose()
        step.finish_sending()
        return len(step.records), sent_for, lag

    async def post(
        self,
        client: httpx.AsyncClient,
        gate: asyncio.Semaphore,
        url: str,
        sender: Sock,
        body: dict,
        record: Sent,
    ) -> None:
        record.sent_at = now()
        headers = {"Authorization": f"Bearer {sender.token}"}
        try:
            async with gate:
                response = await client.post(url, json=body, headers=headers)
        except httpx.HTTPError as error:
            record.http_status = -1
            record.step.lose(record, f"POST: {type(error).__name__}")
            return
        record.http_status = response.status_code
        record.http_seconds = now() - record.sent_at
        if response.status_code != 201:
            record.step.lose(record, f"POST {response.status_code}: {response.text[:100]}")

    async def wait_idle(self) -> bool:
        """Until the servers use under a tenth of a CPU for half a second (at most the step
        timeout): what a step left queued is not charged to the next."""
        deadline = time.monotonic() + self.remaining(self.args.step_timeout)
        while time.monotonic() < deadline:
            before = self.server_cpu() + self.http_cpu()
            await asyncio.sleep(0.5)
            if self.server_cpu() + self.http_cpu() - before < 0.05:
                return True
        show("\nThe servers were still busy at the end of the wait for them to go idle.")
        return False

    async def settle_arrivals(self, done: asyncio.Event) -> str:
        """After a step's sends: "drained" when everything arrived within the drain timeout;
        else, once the servers went idle (their backlog worked off), "late" if it has all
        arrived then, "lost" if not; "busy" when they never went idle (the backlog outlasted
        the wait). Exactly once is judged on what arrived in the end."""
        if await self.drain(done, self.args.drain_timeout):
            return "drained"
        idle = await self.wait_idle()
        if await self.drain(done, 1.0):
            return "late"
        return "lost" if idle else "busy"

    async def drain(self, event: asyncio.Event, grace: float) -> bool:
        try:
            await asyncio.wait_for(event.wait(), self.remaining(grace))
        except TimeoutError:
            return False
        return True

    def count_stored(self, prefix: str) -> int | None:
        if self.args.target == "bare" or self.database is None:
            return None
        return self.database.count(prefix)

    def exactly_once(self, name: str, step: MessageStep, stored: int | None, arrived: str) -> bool:
        sent = len(step.records)
        received = sum(r.receipts >= 1 for r in step.records)
        confirmed = sum(r.confirms >= 1 for r in step.records)
        problems = []
        if received != sent:
            problems.append(f"{sent - received} receive_message missing")
        if confirmed != sent:
            problems.append(f"{sent - confirmed} message_sent missing")
        if stored is not None and stored != sent:
            problems.append(f"{stored} rows stored")
        if step.duplicates:
            problems.append(f"{step.duplicates} duplicates")
        if step.misdelivered:
            problems.append(f"{step.misdelivered} to the wrong socket")
        if step.errors:
            problems.append(f"errors {dict(step.errors.most_common(3))}")
        if problems:
            when = {
                "busy": "; the servers were still working off their backlog: unfinished, not "
                "necessarily lost",
                "lost": "; counted once the servers were idle",
            }.get(arrived, "")
            self.fail(f"{name}: {sent} sent, " + ", ".join(problems) + when)
        return not problems

    async def step_messages(self, socks: Sequence[Sock], via_rest: bool) -> None:
        rates = self.args.rest_rates if via_rest else self.args.rates
        kind = "rest" if via_rest else "socket"
        rows = []
        for rate in rates:
            if self.remaining(1) < 1:
                break
            say(f"{kind} messages at {rate}/s for {self.args.duration} s")
            step = MessageStep()
            prefix = f"sw{self.run_id}-{kind}{rate}-"
            cpu_before, http_before, client_before = (
                self.server_cpu(),
                self.http_cpu(),
                client_cpu(),
            )
            sent, sent_for, lag = await self.send_messages(
                socks, step, prefix, rate, self.args.duration, via_rest
            )
            arrived = await self.settle_arrivals(step.done)
            cpu_used = self.server_cpu() - cpu_before
            http_used = self.http_cpu() - http_before
            client_used = client_cpu() - client_before
            stored = await asyncio.to_thread(self.count_stored, prefix)
            latencies = [r.received_at - r.sent_at for r in step.records if r.received_at]
            received = sum(r.receipts >= 1 for r in step.records)
            confirmed = sum(r.confirms >= 1 for r in step.records)
            p99 = percentile(latencies, 0.99)
            target_rate, target_p99 = REST_TARGET if via_rest else SOCKET_TARGET
            ok = self.exactly_once(f"{kind} messages at {rate}/s", step, stored, arrived)
            arrivals = [r.received_at for r in step.records if r.received_at]
            row: dict[str, Any] = {
                "rate/s": rate,
                "sent": f"{sent:,}",
                "sent/s": f"{sent / sent_for:,.0f}" if sent_for > 0 else "—",
                "send lag ms": ms(lag),
                "receive_message": f"{received:,}",
                "message_sent": f"{confirmed:,}",
                "stored": "—" if stored is None else f"{stored:,}",
                "errors": sum(step.errors.values()),
            }
            if via_rest:
                answered = [r.http_seconds for r in step.records if r.http_status == 201]
                row["201"] = f"{len(answered):,}"
                row["POST p50 ms"] = ms(percentile(answered, 0.5))
                row["POST p99 ms"] = ms(percentile(answered, 0.99))
            row["p50 ms"] = ms(percentile(latencies, 0.5))
            row["p99 ms"] = ms(p99)
            row["max ms"] = ms(max(latencies, default=None))
            row["socket server CPU ms/msg"] = f"{cpu_used * 1000 / max(sent, 1):.2f}"
            if via_rest and self.http_server:
                row["gunicorn CPU ms/msg"] = f"{http_used * 1000 / max(sent, 1):.2f}"
            row["client CPU s"] = f"{client_used:.1f}"
            # How long the last arrival came after the last send: the backlog it left.
            last = max(arrivals, default=step.last_send) - step.last_send
            row["last arrival s"] = f"{max(last, 0.0):.1f}"
            row["exactly once"] = yes(ok)
            met = p99 is not None and p99 <= target_p99
            row[f"p99 ≤ {target_p99 * 1000:.0f} ms at {target_rate:,}/s"] = (
                yes(met) if rate >= target_rate else "—"
            )
            rows.append(row)
            await self.wait_idle()  # a backlog must not slow the next rate down
        title = (
            "3. REST messages (POST /api/messages/ → receive_message)"
            if via_rest
            else "2. Socket messages (send_message → receive_message)"
        )
        show(f"\n### {title}\n")
        show(table(rows))

    async def change_activities(
        self,
        socks: Sequence[Sock],
        step: ActivityStep,
        prefix: str,
        seconds: float,
        stop: asyncio.Event | None = None,
    ) -> dict[int, str]:
        """An `update_activity` every interval from a random socket (none twice within the
        last few changes, so no batch merges two changes of one user); each change expects
        a receipt at every open socket. Returns each changed user's last activity."""
        assert self.swarm is not None
        swarm = self.swarm
        interval = self.args.activity_interval
        recent: deque[int] = deque(maxlen=max(1, min(10, len(socks) // 2)))
        last: dict[int, str] = {}
        start = now()
        for k in range(int(seconds / interval)):
            if stop is not None and stop.is_set():
                break
            wait = start + k * interval - now()
            if wait > 0:
                await asyncio.sleep(wait)
            live = [s for s in socks if s.live()]
            choices = [s for s in live if s.user not in recent] or live
            sock = self.rng.choice(choices)
            recent.append(sock.user)
            activity = f"{prefix}{k}"
            probe = Probe(step, sock.user, now(), bytearray(len(swarm.socks)))
            step.probes.append(probe)
            step.expected += len(live)
            step.waiting += len(live)
            swarm.probes[activity] = probe
            last[sock.user] = activity
            if not await sock.emit(b"update_activity", {"activity": activity}):
                step.expected -= len(live)
                step.waiting -= len(live)
        step.finish_sending()
        return last

    def wrong_activities(self, socks: Sequence[Sock], last: dict[int, str]) -> int:
        wrong = 0
        for sock in socks:
            if not sock.live():
                continue
            view = sock.activities()
            wrong += any(view.get(user) != activity for user, activity in last.items())
        return wrong

    async def step_activity(self, socks: Sequence[Sock]) -> None:
        assert self.swarm is not None
        say(f"activity changes every {self.args.activity_interval} s for {self.args.duration} s")
        step = ActivityStep()
        frames_before = sum(s.frames for s in socks)
        cpu_before, client_before = self.server_cpu(), client_cpu()
        start = now()
        last = await self.change_activities(
            socks, step, f"sw{self.run_id}-act-", self.args.duration
        )
        elapsed = now() - start
        drained = await self.settle_arrivals(step.done)
        await asyncio.sleep(max(0.3, 2 * self.args.batch_seconds))  # stray frames land
        cpu_used, client_used = self.server_cpu() - cpu_before, client_cpu() - client_before
        frames = sum(s.frames for s in socks) - frames_before
        expected = step.expected
        missing = max(step.waiting, 0)
        wrong = self.wrong_activities(socks, last)
        presence_right = sum(s.online == self.swarm.expected for s in socks if s.live())
        p99 = percentile(step.latencies, 0.99)
        changes = len(step.probes)
        show("\n### 4. Activity changes (update_activity → presence / activity_updated)\n")
        row = {
            "changes": changes,
            "sockets": len(socks),
            "receipts": f"{len(step.latencies):,}",
            "expected": f"{expected:,}",
            "missing": f"{missing:,}",
            "repeats": step.duplicates,
            "p50 ms": ms(percentile(step.latencies, 0.5)),
            "p99 ms": ms(p99),
            "max ms": ms(max(step.latencies, default=None)),
            "frames/socket/s": f"{frames / len(socks) / elapsed:.1f}",
            "server CPU ms/change": f"{cpu_used * 1000 / max(changes, 1):.1f}",
            "client CPU s": f"{client_used:.1f}",
            "activity views exact": f"{len(socks) - wrong}/{len(socks)}",
            "presence views exact": f"{presence_right}/{len(socks)}",
            f"p99 ≤ {ACTIVITY_TARGET_P99 * 1000:.0f} ms": yes(
                p99 is not None and p99 <= ACTIVITY_TARGET_P99
            ),
        }
        show(table([row]))
        if missing:
            self.fail(f"activity: {missing} of {expected} receipts missing ({drained})")
        if wrong:
            self.fail(f"activity: {wrong} views do not show every user's last activity")
        self.swarm.probes.clear()

    async def step_disconnect(self, socks: Sequence[Sock]) -> list[Sock]:
        assert self.swarm is not None
        leaving = sorted(self.rng.sample(range(len(socks)), len(socks) // 2))
        gone = [socks[i] for i in leaving]
        left = set(leaving)
        staying = [s for i, s in enumerate(socks) if i not in left]
        say(f"disconnect storm: {len(gone)} of {len(socks)} sockets close")
        self.swarm.expect((s.user for s in staying), staying)
        frames_before = sum(s.frames for s in staying)
        cpu_before, client_before = self.server_cpu(), client_cpu()
        start = now()
        await self.close(gone)
        closed_in = now() - start
        settle_seconds = await self.settle(start, self.remaining(self.args.step_timeout))
        cpu_used, client_used = self.server_cpu() - cpu_before, client_cpu() - client_before
        frames = sum(s.frames for s in staying) - frames_before
        exact = sum(s.online == self.swarm.expected for s in staying)
        show("\n### 5. Disconnect storm (half the sockets close at once)\n")
        row = {
            "closed": len(gone),
            "remaining": len(staying),
            "close s": f"{closed_in:.2f}",
            "settle s": "TIMEOUT" if settle_seconds is None else f"{settle_seconds:.3f}",
            "exact views": f"{exact}/{len(staying)}",
            "frames/socket": f"{frames / max(len(staying), 1):.1f}",
            "server CPU s": f"{cpu_used:.2f}",
            "client CPU s": f"{client_used:.1f}",
            "result": "ok" if settle_seconds is not None and exact == len(staying) else "FAIL",
        }
        show(table([row]))
        if settle_seconds is None or exact != len(staying):
            self.fail(f"disconnect storm: {self.swarm.wrong_views(staying)}")
        return staying

    async def soak(self, socks: Sequence[Sock]) -> None:
        assert self.swarm is not None
        a = self.args
        say(f"soak: {a.soak:.0f} s of messages at {a.soak_rate}/s and activity changes")
        messages, changes = MessageStep(), ActivityStep()
        changes.keep_arrivals = True
        stop = asyncio.Event()
        prefix = f"sw{self.run_id}-soak-"
        start = now()
        sender = asyncio.create_task(
            self.send_messages(socks, messages, prefix, a.soak_rate, a.soak, False, stop)
        )
        changer = asyncio.create_task(
            self.change_activities(socks, changes, f"sw{self.run_id}-soakact-", a.soak, stop)
        )
        samples: list[tuple[float, list[int]]] = [(0.0, [s.rss() for s in self.socket_servers])]
        try:
            while not (sender.done() and changer.done()):
                next_sample = samples[-1][0] + a.sample_every
                wait = start + next_sample - now()
                pending = {task for task in (sender, changer) if not task.done()}
                await asyncio.wait(pending, timeout=max(0.0, wait))
                if now() - start >= next_sample - 0.01:
                    rss = [s.rss() for s in self.socket_servers]
                    samples.append((now() - start, rss))
                    say(f"  {now() - start:5.0f} s: RSS MiB {[round(r / MIB, 1) for r in rss]}")
                if self.remaining(10) < 5:
                    stop.set()
        finally:
            stop.set()
            await asyncio.gather(sender, changer, return_exceptions=True)
        arrived = await self.settle_arrivals(messages.done)
        changes_arrived = await self.settle_arrivals(changes.done)
        samples.append((now() - start, [s.rss() for s in self.socket_servers]))
        stored = await asyncio.to_thread(self.count_stored, prefix)
        reference = next((s for s in samples if s[0] >= a.soak_warmup), samples[-1])
        rows = []
        for index, (at, rss) in enumerate(samples):
            window_start = samples[index - 1][0] if index else 0.0
            lat = [
                r.received_at - r.sent_at
                for r in messages.records
                if r.received_at and window_start <= r.sent_at - start < at
            ]
            act = [lat for sent, lat in changes.arrivals if window_start <= sent - start < at]
            row = {"t s": f"{at:.0f}"}
            for server, value in zip(self.socket_servers, rss, strict=True):
                row[f"{server.name} RSS MiB"] = f"{value / MIB:.1f}"
            row["total MiB"] = f"{sum(rss) / MIB:.1f}"
            growth = (sum(rss) - sum(reference[1])) * 100 / sum(reference[1])
            row[f"vs {reference[0]:.0f} s"] = f"{growth:+.1f} %"
            row["message p99 ms"] = ms(percentile(lat, 0.99))
            row["activity p99 ms"] = ms(percentile(act, 0.99))
            rows.append(row)
        show(f"\n### Soak: {a.soak:.0f} s, {len(socks)} sockets, messages at {a.soak_rate}/s\n")
        show(table(rows))
        last = sum(samples[-1][1])
        within = last <= sum(reference[1]) * (100 + SOAK_GROWTH_PERCENT) / 100
        latencies = [r.received_at - r.sent_at for r in messages.records if r.received_at]
        show(
            f"\nLast sample within {SOAK_GROWTH_PERCENT} % of the {reference[0]:.0f} s one: "
            f"{yes(within)}. Messages: {len(messages.records):,} sent, p50 "
            f"{ms(percentile(latencies, 0.5))} ms, p99 {ms(percentile(latencies, 0.99))} ms; "
            f"activity receipts {len(changes.latencies):,}, p99 "
            f"{ms(percentile(changes.latencies, 0.99))} ms."
        )
        self.exactly_once("soak messages", messages, stored, arrived)
        if changes.waiting > 0:
            self.fail(f"soak: {changes.waiting} activity receipts missing ({changes_arrived})")

    async def run(self) -> None:
        a = self.args
        self.swarm = Swarm()
        self.rng = random.Random(a.seed)  # noqa: S311 - a repeatable draw, not a secret
        self.start_servers()
        show(self.header())
        await self.warm_up()
        others = [s for s in a.only if s != "connect"]
        if a.soak:
            socks = await self.setup_swarm()
            await self.soak(socks)
            await self.close(socks)
            return
        if "connect" in a.only:
            await self.step_connect()
            if others:
                self.restart()
                await self.warm_up()
        if not others:
            return
        socks = await self.setup_swarm()
        await self.wait_idle()
        for name in others:
            if self.remaining(2) < 2:
                show(f"\nTIME LIMIT: step {name} not run")
                self.failures.append(f"time limit before {name}")
                continue
            if name == "socket":
                await self.step_messages(socks, via_rest=False)
            elif name == "rest":
                await self.step_messages(socks, via_rest=True)
            elif name == "activity":
                await self.step_activity(socks)
            elif name == "disconnect":
                socks = await self.step_disconnect(socks)
            await self.wait_idle()
        await self.close(self.swarm.socks)

    def report_logs(self) -> None:
        """What each server wrote (the bench asks for warnings and worse only), grouped with
        numbers blanked, the most frequent first; a traceback counts as its last line."""
        show("\n### Server logs\n")
        for server in self.old_logs:
            try:
                lines = server.log.read_text(errors="replace").splitlines()
            except OSError:
                continue
            if server.name == "redis":  # its start and stop notices are not news
                lines = [line for line in lines if re.search(r"WARNING|ERR", line)]
                lines = [line for line in lines if "overcommit" not in line]
            entries = log_entries(lines)
            tracebacks = sum(entry.startswith("traceback: ") for entry in entries)
            show(
                f"- {server.name} ({server.log.name}): {len(lines)} lines, {tracebacks} tracebacks"
            )
            for entry, count in Counter(entries).most_common(6):
                show(f"  - {count} times: {entry}")
        swarm = self.swarm
        if swarm is not None:
            extra = []
            if swarm.dropped:
                extra.append(f"{swarm.dropped} sockets closed by the server")
            if swarm.resyncs:
                extra.append(f"{swarm.resyncs} resync events")
            if swarm.unknown_messages:
                extra.append(f"{swarm.unknown_messages} messages of no step")
            if swarm.other_events:
                extra.append(f"other events {dict(swarm.other_events.most_common(5))}")
            if swarm.client_errors:
                extra.append(f"client errors {dict(swarm.client_errors.most_common(3))}")
            if extra:
                show("- client: " + "; ".join(extra))


def log_entries(lines: Sequence[str]) -> list[str]:
    """A log's lines as entries: a traceback becomes `traceback: <its exception line>`, the
    lines Python's warnings quote are dropped, and numbers are blanked so repeats group."""
    entries = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("Traceback"):
            while index < len(lines) and (not lines[index] or lines[index][0].isspace()):
                index += 1
            line = "traceback: " + (lines[index] if index < len(lines) else "?")
            index += 1
        elif not line.strip() or line[0].isspace() or line.startswith(("The above", "During")):
            continue
        entries.append(re.sub(r"\d+", "N", line.strip())[:200])
    return entries


def server_env(args: argparse.Namespace, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "JWT_SIGNING_KEY": SECRET_KEY,
        "DEBUG": "False",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "MESSAGES_PER_MINUTE": "100000000",
        "REDIS_URL": "",
        "CACHE_KEY_PREFIX": f"swarm-{secrets.token_hex(4)}",
        "MEDIA_PIPELINE": "false",
        "SOCKETIO_LEGACY_PRESENCE_EVENTS": "true" if args.legacy else "false",
        "SOCKETIO_PRESENCE_BATCH_SECONDS": str(args.batch_seconds),
        "LOG_LEVEL": "WARNING",
    }
    for item in args.server_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("project", "bare"), default="project")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--layout", choices=("single", "production"), default="single")
    parser.add_argument("--legacy", action="store_true", help="the old presence events too")
    parser.add_argument("--sockets", type=int, default=2000, help="connect storm (2,000)")
    parser.add_argument("--swarm", type=int, default=500, help="sockets of steps 2-5 (500)")
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes in flight")
    parser.add_argument("--rates", default="200,500,1000", help="socket messages per second")
    parser.add_argument("--rest-rates", default="200", help="REST messages per second")
    parser.add_argument("--duration", type=float, default=10, help="seconds per rate (10)")
    parser.add_argument("--activity-interval", type=float, default=0.2)
    parser.add_argument("--http-connections", type=int, default=32)
    parser.add_argument("--gunicorn-workers", type=int, default=0, help="its config's default")
    parser.add_argument("--batch-seconds", type=float, default=0.1)
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    parser.add_argument(
        "--bare-text-packets", action="store_true", help="bare: no binary-attachment walk"
    )
    parser.add_argument("--only", default=",".join(STEPS), help=",".join(STEPS))
    parser.add_argument("--soak", type=float, default=0, help="seconds of soak instead")
    parser.add_argument("--soak-rate", type=float, default=200)
    parser.add_argument("--soak-warmup", type=float, default=60)
    parser.add_argument("--sample-every", type=float, default=30)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--step-timeout", type=float, default=60)
    parser.add_argument("--drain-timeout", type=float, default=10)
    parser.add_argument("--connect-timeout", type=float, default=30, help="per socket")
    parser.add_argument("--time-limit", type=float, default=900, help="the whole run (900 s)")
    parser.add_argument("--seed", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    args.only = [step.strip() for step in args.only.split(",") if step.strip()]
    unknown = set(args.only) - set(STEPS)
    if unknown:
        parser.error(f"--only: unknown steps {sorted(unknown)}; known: {','.join(STEPS)}")
    args.only = [step for step in STEPS if step in args.only]  # always in this order
    args.rates = [int(rate) for rate in args.rates.split(",") if rate]
    args.rest_rates = [int(rate) for rate in args.rest_rates.split(",") if rate]
    if args.target == "bare" and args.legacy:
        parser.error("the bare server sends the new events only: no --legacy")
    if args.bare_text_packets and args.target != "bare":
        parser.error("--bare-text-packets is for --target bare")
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
    if args.sockets < 2:
        parser.error("--sockets must be at least 2")
    return args


def raise_fd_limit(sockets: int) -> None:
    """Each socket is a file descriptor; the soft limit is often 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = sockets + 256
    if soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def run_client(bench: Bench) -> None:
    async def main() -> None:
        try:
            async with asyncio.timeout(bench.remaining(bench.args.time_limit)):
                await bench.run()
        except TimeoutError:
            show("\nTIME LIMIT reached: the run stopped where it was")
            bench.failures.append("time limit")
            if bench.swarm is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(bench.close(bench.swarm.socks), 15)

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def stop_on_sigterm() -> None:
    """SIGTERM (a test's timeout, a CI job cancelled) unwinds like Ctrl-C, so the servers,
    which run in process groups of their own, are stopped too."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    raise_fd_limit(max(args.sockets, args.swarm))
    stop_on_sigterm()
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="socket_swarm-"))
    database = None
    bench = None
    try:
        count = args.sockets + 1  # and one to warm the servers up
        if args.target == "project":
            database = Database(scratch, args.database_url)
            env = server_env(args, database.url)
            env["MEDIA_ROOT"] = str(scratch / "media")
            say(f"migrating {database.label} and minting {count:,} users")
            users, tokens = project_users(env, count, int(args.time_limit) + 3600)
            say(f"  done in {time.monotonic() - started:.1f} s")
        else:
            env = dict(os.environ)
            users = list(range(1, count + 1))
            tokens = [str(user) for user in users]
        bench = Bench(args, scratch, env, users, tokens, database)
        bench.deadline = started + args.time_limit
        if args.processes > 1 or (args.layout == "production" and args.target == "project"):
            bench.redis = start_redis(scratch)
        run_client(bench)
    finally:
        if bench is not None:
            bench.stop_all()
            bench.report_logs()
        if database is not None:
            database.drop()
        if args.keep:
            say(f"kept {scratch} (server logs, the SQLite database)")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    failures = bench.failures
    show(
        f"\n{len(failures)} failure(s) in {time.monotonic() - started:.0f} s"
        + (": " + "; ".join(failures) if failures else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
