"""A Jam's command fan-out: how long a host's command takes to reach every member.

    .venv/bin/python bench/jam_fanout.py                          # 32 members, 1 and 2 processes
    .venv/bin/python bench/jam_fanout.py --commands 200 --processes 2
    .venv/bin/python bench/jam_fanout.py \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres   # on PostgreSQL

**The servers.** As bench/socket_swarm.py (whose helpers this imports): a scratch directory,
a SQLite file there (or, with `--database-url`, a database `swarm_<random>` made on that
PostgreSQL server and dropped at the end; no other database is touched), `manage.py migrate`,
then one `manage.py shell` that makes the members (`jam<i>@swarm.invalid`), their access
tokens, three songs (short WAV files under the scratch directory's media) and one Jam of
`--members` listeners (the first hosts it, the others join). Each setup of `--processes`
(`1,2` by default) runs `uvicorn config.asgi:application` once or twice; two share a private
redis-server on a free port (`--save "" --appendonly no`). The servers run with the
bench's settings (`DEBUG=False`, `JAM_COMMANDS_PER_10_SECONDS=100000000`: the command limit
out of the way, `JAM_IDLE_SECONDS=86400`, the old presence events off; `--server-env
KEY=VALUE` adds more), so the project's `.env` cannot change them.

**The clients.** One asyncio process, one python-socketio `AsyncClient` per member over a
websocket (no polling), the members spread over the processes in turn (the host on the
first). Each joins the Jam's room (`jam_join`). After `--warmup` (5) commands that are not
counted, the host sends `--commands` (50) `jam_command`s, one at a time: a seek to a new
position each, `--gap` (50 ms) after the last member heard the one before.

**Measured.** Fan-out: from just before the host's `emit` to each member's receipt of that
command's `jam_command` event (the host's own socket included: `members` receipts per
command), p50, p99 and max over every receipt; `spread`: per command, the last receipt minus
the first (p50, max); `ack`: the host's emit to its acknowledgement (p50). `server CPU`:
the socket servers' CPU time (utime + stime from /proc) over the measured commands, per
command (Redis's own not counted). The client shares the machine with the servers; its
event loop's delays are part of every figure.

**Bounded.** Every wait stops after `--step-timeout` (20 s), the whole run after
`--time-limit` (300 s), every server start after 60 s. Servers are stopped with SIGTERM,
then SIGKILL to their process group. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from socket_swarm import (  # the servers as the socket swarm starts them
    Database,
    Managed,
    answers_health,
    cpu_seconds,
    launch,
    manage,
    percentile,
    say,
    show,
    start_redis,
    stop_on_sigterm,
    table,
)
from socket_swarm import server_env as swarm_server_env

# Run by `manage.py shell`: the members, their tokens, songs, and the Jam, as JSON on the last
# line.
SETUP = """
import json
from datetime import timedelta
from django.contrib.auth.hashers import make_password
from ninja_jwt.tokens import AccessToken
from catalog.services import song_create
from jams import services
from tests.media_samples import upload, wav_bytes
from users.models import User

password = make_password(None)
users = User.objects.bulk_create(
    User(email=f"jam{i}@swarm.invalid", full_name=f"jam{i}", password=password)
    for i in range(%(count)d)
)
songs = [
    song_create(title=f"Track {n}", artist="Bench", audio_file=upload("s.wav", wav_bytes()))
    for n in range(3)
]
jam = services.jam_create(host=users[0], song_ids=[song.pk for song in songs])
for user in users[1:]:
    services.jam_join(user=user, code=jam.code)
tokens = []
for user in users:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=%(lifetime)d))
    tokens.append(str(token))
print(json.dumps({"jam_id": jam.pk, "tokens": tokens}))
"""


def now() -> float:
    return time.perf_counter()


@dataclass
class Member:
    index: int
    token: str
    url: str
    client: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )
    # seq -> perf_counter() at receipt
    heard: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        @self.client.on("jam_command")
        async def command(data: dict[str, Any]) -> None:
            self.heard.setdefault(data["seq"], now())


@dataclass
class Setup:
    processes: int
    receipts: list[float] = field(default_factory=list)  # seconds
    spreads: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    cpu: float = 0.0
    commands: int = 0
    missed: int = 0


async def until_heard(members: Sequence[Member], seq: int, timeout: float) -> bool:
    deadline = now() + timeout
    while now() < deadline:
        if all(seq in member.heard for member in members):
            return True
        await asyncio.sleep(0.001)
    return False


async def measure(
    args: argparse.Namespace, servers: Sequence[Managed], jam_id: int, tokens: Sequence[str]
) -> Setup:
    result = Setup(processes=len(servers))
    members = [
        Member(index, token, servers[index % len(servers)].http)
        for index, token in enumerate(tokens)
    ]
    host = members[0]
    try:
        async with asyncio.timeout(args.step_timeout):
            await asyncio.gather(
                *(
                    member.client.connect(
                        member.url,
                        auth={"token": member.token},
                        transports=["websocket"],
                        wait_timeout=args.step_timeout,
                    )
                    for member in members
                )
            )
            acks = await asyncio.gather(
                *(member.client.call("jam_join", {"jam_id": jam_id}) for member in members)
            )
        refused = [ack for ack in acks if not ack.get("ok")]
        if refused:
            raise SystemExit(f"jam_join refused: {refused[0]}")
        pids = [pid for server in servers for pid in server.pids()]
        cpu_before = 0.0
        for number in range(args.warmup + args.commands):
            if number == args.warmup:
                cpu_before = sum(cpu_seconds(pid) for pid in pids)
            data = {"jam_id": jam_id, "action": "seek", "position_ms": 1000 * (number + 1)}
            sent = now()
            ack = await host.client.call("jam_command", data, timeout=args.step_timeout)
            acked = now()
            if not ack.get("ok"):
                raise SystemExit(f"the command was refused: {ack}")
            seq = ack["command"]["seq"]
            complete = await until_heard(members, seq, args.step_timeout)
            if number >= args.warmup:
                arrivals = [member.heard[seq] for member in members if seq in member.heard]
                result.commands += 1
                result.missed += len(members) - len(arrivals)
                result.acks.append(acked - sent)
                result.receipts += [arrival - sent for arrival in arrivals]
                if arrivals:
                    result.spreads.append(max(arrivals) - min(arrivals))
            if not complete:
                say(f"  seq {seq}: not every member heard it within {args.step_timeout} s")
            await asyncio.sleep(args.gap)
        result.cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    finally:
        await asyncio.gather(
            *(member.client.disconnect() for member in members if member.client.connected),
            return_exceptions=True,
        )
    return result


def uvicorn(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--no-access-log", "--log-level", "warning"),
    ]


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def row(result: Setup, members: int, database: str) -> dict[str, Any]:
    per_command = result.cpu / result.commands if result.commands else None
    return {
        "setup": (
            "1 process" if result.processes == 1 else f"{result.processes} processes + Redis"
        ),
        "database": database,
        "members": members,
        "commands": result.commands,
        "fan-out p50 ms": ms(percentile(result.receipts, 0.50)),
        "p99 ms": ms(percentile(result.receipts, 0.99)),
        "max ms": ms(max(result.receipts, default=None)),
        "spread p50 ms": ms(percentile(result.spreads, 0.50)),
        "spread max ms": ms(max(result.spreads, default=None)),
        "ack p50 ms": ms(percentile(result.acks, 0.50)),
        "server CPU ms/command": ms(per_command),
        "missed": result.missed,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=32, help="listeners in the Jam (32)")
    parser.add_argument("--commands", type=int, default=50, help="measured commands (50)")
    parser.add_argument("--warmup", type=int, default=5, help="commands not counted (5)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between commands")
    parser.add_argument("--processes", default="1,2", help="setups to run: 1, 2 or 1,2")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--step-timeout", type=float, default=20)
    parser.add_argument("--time-limit", type=float, default=300, help="the whole run (300 s)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    args.processes = [int(count) for count in args.processes.split(",") if count]
    if not args.processes or set(args.processes) - {1, 2}:
        parser.error("--processes: 1, 2 or 1,2")
    if not 2 <= args.members <= 32:
        parser.error("--members: 2 to 32 (a Jam's limit)")
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
    return args


def server_env(args: argparse.Namespace, database_url: str, scratch: Path) -> dict[str, str]:
    settings = argparse.Namespace(legacy=False, batch_seconds=0.1, server_env=[])
    env = swarm_server_env(settings, database_url)
    env.update(
        {
            "JAM_COMMANDS_PER_10_SECONDS": "100000000",
            "JAM_IDLE_SECONDS": "86400",
            "MEDIA_ROOT": str(scratch / "media"),
        }
    )
    for item in args.server_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="jam_fanout-"))
    database = None
    servers: list[Managed] = []
    redis_server: Managed | None = None
    rows = []
    try:
        database = Database(scratch, args.database_url)
        env = server_env(args, database.url, scratch)
        say(f"migrating {database.label}, making {args.members} members and their Jam")
        manage(env, "migrate", "-v0", "--no-input", timeout=300)
        code = SETUP % {"count": args.members, "lifetime": int(args.time_limit) + 3600}
        out = manage(env, "shell", "-v0", "-c", code, timeout=300)
        made = orjson.loads(out.strip().splitlines()[-1])
        for processes in args.processes:
            remaining = args.time_limit - (time.monotonic() - started)
            if remaining <= 0:
                show("TIME LIMIT reached")
                break
            process_env = dict(env)
            if processes > 1:
                redis_server = start_redis(scratch)
                process_env["REDIS_URL"] = f"redis://127.0.0.1:{redis_server.port}/0"
            say(f"{processes} process(es): starting")
            servers = [
                launch(f"uvicorn{index + 1}", uvicorn, process_env, scratch, answers_health)
                for index in range(processes)
            ]
            say(f"  measuring {args.commands} commands to {args.members} members")
            result = asyncio.run(
                asyncio.wait_for(measure(args, servers, made["jam_id"], made["tokens"]), remaining)
            )
            rows.append(row(result, args.members, database.label.split(" ")[0]))
            for server in servers:
                server.stop()
            servers = []
            if redis_server is not None:
                redis_server.stop()
                redis_server = None
    finally:
        for server in servers:
            server.stop()
        if redis_server is not None:
            redis_server.stop()
        if database is not None:
            database.drop()
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    show(
        f"Jam command fan-out: {args.members} members, {args.commands} commands "
        f"(seek), {args.gap * 1000:.0f} ms apart; python {sys.version.split()[0]}, "
        f"python-socketio {version('python-socketio')}, uvicorn {version('uvicorn')}, "
        f"{os.cpu_count()} CPUs\n"
    )
    show(table(rows))
    missed = sum(row["missed"] for row in rows)
    show(
        f"\n{time.monotonic() - started:.0f} s" + (f"; {missed} receipts MISSING" if missed else "")
    )
    return 1 if missed or len(rows) < len(args.processes) else 0


if __name__ == "__main__":
    sys.exit(main())
