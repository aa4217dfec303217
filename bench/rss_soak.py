"""Memory of each server worker over a long run of the hot reads (issue 22).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1000000 \\
        .venv/bin/python bench/rss_soak.py [--server gunicorn|uvicorn] [--requests 100000]

Against a database `manage.py seed_scale` filled (it is only read), the script serves the
project the production way, 2 worker processes, with production's settings set explicitly
(`DEBUG=False`, `SECURE_SSL_REDIRECT=False`, `ALLOWED_HOSTS=127.0.0.1`, no Redis, so each
worker keeps its own cache, and bench/serving.sh's `SECRET_KEY`):

- `gunicorn` (default): `gunicorn config.wsgi:application -c deploy/gunicorn.conf.py -w 2`
  with `--max-requests 0`. deploy/gunicorn.conf.py recycles a worker after about 10,000
  requests (`max_requests`), which would hide a leak: the soak switches that off, so each
  worker serves its whole share.
- `uvicorn`: `uvicorn config.asgi:application --workers 2` (the ASGI path of `make run`),
  which never recycles its workers.

It picks its requests beforehand (`manage.py shell`, as bench/serving.sh does): one line per
request, drawn in a fixed mix of the hot reads, with ids that vary so that no per-id cache
answers from memory what a growing process would otherwise hold: song detail and album
detail on random ids, artist detail, the songs list's first page, a cursor page after a
random song, featured, trending, the search box (`/api/search/?q=`) with a different term
each time (titles, reordered words, cut last words, artists, albums), and, signed in as one
of the most active listeners (a JWT), made-for-you and the listening history. `wrk`
(`-t2 -c16` by default) sends them through bench/rss_soak.lua, which stops after a given
count, so the load runs in legs that end at the checkpoints: 1,000, 10,000, 50,000 and
100,000 requests answered (across both workers, each serving about half). After each leg
the script waits a second and reads VmRSS (and RssAnon) of the master and of each worker
from /proc/<pid>/status, and prints a Markdown table: RSS per worker at each checkpoint and
its growth against the 1,000 checkpoint, the master's RSS, and the workers' CPU seconds
(which say how the requests were shared). The issue's target is growth within 10 % between
1,000 and 100,000 requests.

Bounded: the server must answer within `--start-timeout` (60 s), the whole load within
`--time-limit` (1,800 s; past it the run stops where it is), each request within 10 s. The
server is stopped with SIGTERM, then SIGKILL to its process group. Exit status 1 if a
response was not 200 or a connection failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.ports import free_port  # noqa: E402 - the one the test servers use
from tests.processes import descendants  # noqa: E402

LUA = PROJECT / "bench" / "rss_soak.lua"
CHECKPOINTS = (1_000, 10_000, 50_000, 100_000)
LIMIT_PERCENT = 10
MIB = 1024 * 1024

# Production's settings, as bench/serving.sh sets them (its secret signs the cursors below).
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECURE_SSL_REDIRECT": "False",
    "ALLOWED_HOSTS": "127.0.0.1",
    "REDIS_URL": "",
    "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-0123456789",
}

# Share of each kind of request in the mix, in percent: mostly the cheap reads by id, so that
# 100,000 requests fit in minutes on two shared cores (the artist page, a list page and a
# cursor page, each with its count, cost about five song details).
MIX = {
    "song": 40,
    "album": 20,
    "artist": 4,
    "songs list": 3,
    "cursor page": 4,
    "featured": 8,
    "trending": 8,
    "search": 4,
    "made-for-you": 5,
    "history": 4,
}

# Run by `manage.py shell` against the database: prints, as JSON, the ids, cursors, names and
# tokens the requests are drawn from. %(...)s are filled in below.
PICK = """
import json, random
from datetime import timedelta
from django.db.models import Count
from django.test import RequestFactory
from ninja_jwt.tokens import AccessToken
from catalog.models import Album, Artist, Play, Song
from core.pagination import Page
from users.models import User

rng = random.Random(%(seed)d)
def sample(model, count):
    ids = list(model.objects.values_list("id", flat=True))
    return rng.sample(ids, min(count, len(ids)))

songs = sample(Song, %(songs)d)
order = ["-created_at", "-id"]
request = RequestFactory().get("/api/songs/")
anchors = Song.objects.filter(id__in=songs[:%(cursors)d]).only("id", "created_at")
named = Song.objects.filter(id__in=songs[:%(names)d]).values_list(
    "title", "artist_name", "album__title"
)
top = (
    Play.objects.values("user_id").annotate(n=Count("id")).order_by("-n")[:%(users)d]
)
tokens = []
for row in top:
    token = AccessToken.for_user(User.objects.get(pk=row["user_id"]))
    token.set_exp(lifetime=timedelta(seconds=%(lifetime)d))
    tokens.append(str(token))
print(json.dumps({
    "songs": songs,
    "albums": sample(Album, %(albums)d),
    "artists": sample(Artist, %(artists)d),
    "cursors": [Page._cursor(order, song, request) for song in anchors],
    "names": [list(row) for row in named],
    "tokens": tokens,
}))
"""


def server_env(database_url: str) -> dict[str, str]:
    return {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": database_url}


def pick(env: dict[str, str], total: int, seed: int, lifetime: int) -> dict:
    """Ids, cursors, names and tokens from the database (about 10 s at a million songs)."""
    code = PICK % {
        "seed": seed,
        "songs": max(1_000, total * MIX["song"] // 100),
        "cursors": 2_000,
        "names": max(500, total * MIX["search"] // 100),
        "users": 20,
        "lifetime": lifetime,
        "albums": max(1_000, total * MIX["album"] // 100),
        "artists": max(1_000, total * MIX["artist"] // 100),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"could not read ids from the database:\n{result.stderr[-3000:]}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("songs", "albums", "artists", "cursors", "names"):
        if not data[key]:
            raise SystemExit(f"the database has no {key}: fill it with manage.py seed_scale")
    return data


def search_term(title: str, artist: str, album: str | None, rng: random.Random) -> str:
    """A term as listeners type it, from one song's names."""
    words = title.split()
    forms = [
        title,
        " ".join(reversed(words)),
        " ".join([*words[:-1], words[-1][: max(2, len(words[-1]) - 1)]]),
        artist,
        album or title,
        f"{artist} {title}",
    ]
    return rng.choice(forms).lower()


def request_lines(data: dict, total: int, seed: int) -> list[str]:
    """One line per request (bench/rss_soak.lua's format), in the mix's proportions."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable draw, not a secret
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=total)
    tokens = data["tokens"]
    names = iter(rng.sample(data["names"], len(data["names"])) * (total // len(data["names"]) + 1))
    lines = []
    for kind in kinds:
        if kind == "song":
            lines.append(f"/api/songs/{rng.choice(data['songs'])}/")
        elif kind == "album":
            lines.append(f"/api/albums/{rng.choice(data['albums'])}/")
        elif kind == "artist":
            lines.append(f"/api/artists/{rng.choice(data['artists'])}/")
        elif kind == "songs list":
            lines.append("/api/songs/")
        elif kind == "cursor page":
            lines.append(f"/api/songs/?cursor={quote(rng.choice(data['cursors']), safe='')}")
        elif kind == "featured":
            lines.append("/api/songs/featured/")
        elif kind == "trending":
            lines.append("/api/songs/trending/")
        elif kind == "search":
            lines.append(f"/api/search/?q={quote(search_term(*next(names), rng), safe='')}")
        elif tokens:  # signed in; without listeners these two fall back to song detail
            path = "/api/songs/made-for-you/" if kind == "made-for-you" else "/api/me/history/"
            lines.append(f"{path}\t{rng.choice(tokens)}")
        else:
            lines.append(f"/api/songs/{rng.choice(data['songs'])}/")
    return lines


# --- The server ----------------------------------------------------------------------------


def server_command(server: str, port: int, workers: int) -> list[str]:
    if server == "gunicorn":
        return [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("-c", "deploy/gunicorn.conf.py", "-w", str(workers), "-b", f"127.0.0.1:{port}"),
            # Workers are never recycled during the measurement (the config file says 10,000).
            *("--max-requests", "0"),
        ]
    return [
        *(sys.executable, "-m", "uvicorn", "config.asgi:application", "--workers", str(workers)),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"),
    ]


def workers_of(master: int) -> list[int]:
    """The master's descendants that serve requests (not multiprocessing's helper)."""
    found = []
    for pid in descendants(master):
        with contextlib.suppress(OSError):  # ended meanwhile
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return sorted(found)


def start(server: str, env: dict[str, str], workers: int, log: Path, timeout: float):
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            server_command(server, port, workers),
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended as one at the end
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{server} exited at startup:\n{log.read_text()[-3000:]}")
        health = f"{base}/api/health/"
        with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2) as answer:  # noqa: S310
            if answer.status == 200 and len(workers_of(process.pid)) >= workers:
                return process, base
        time.sleep(0.3)
    stop(process)
    raise SystemExit(f"{server} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


@dataclass(frozen=True)
class Memory:
    rss: int  # bytes
    anon: int  # bytes: heap and thread stacks, where a leak shows
    threads: int
    cpu: float  # user + system seconds since the process started


def memory(pid: int) -> Memory | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    fields = dict(re.findall(r"^(VmRSS|RssAnon|Threads):\s+(\d+)", status, re.MULTILINE))
    if "VmRSS" not in fields:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return Memory(
        rss=int(fields["VmRSS"]) * 1024,
        anon=int(fields.get("RssAnon", 0)) * 1024,
        threads=int(fields.get("Threads", 0)),
        cpu=(int(stat[11]) + int(stat[12])) / ticks,
    )


# --- The load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    answered: int
    not_ok: int
    socket_errors: int
    rate: float


def run_leg(base: str, lines: Path, offset: int, count: int, args, seconds: float) -> Leg:
    """`count` requests from line `offset` on; wrk ends when all have answered (SIGINT)."""
    marker = lines.with_name(f"done-{offset}-")
    argv = [
        *("wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, int(seconds))}s"),
        *("--timeout", "10s", "-s", str(LUA), base),
        *("--", str(lines), str(offset), str(count), str(args.threads), str(marker)),
    ]
    wrk = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + seconds + 5
    markers = [Path(f"{marker}{i}") for i in range(args.threads)]
    while wrk.poll() is None and time.monotonic() < deadline:
        if all(path.exists() for path in markers):
            break
        time.sleep(0.1)
    if wrk.poll() is None:
        wrk.send_signal(signal.SIGINT)  # wrk prints its summary and exits
    try:
        stdout, stderr = wrk.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        wrk.kill()
        stdout, stderr = wrk.communicate()
    result = subprocess.CompletedProcess(argv, wrk.returncode, stdout, stderr)
    out = result.stdout
    answered = re.search(r"^answered: (\d+)", out, re.MULTILINE)
    if result.returncode != 0 or not answered:
        raise SystemExit(f"wrk failed:\n{out}\n{result.stderr}")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return Leg(
        answered=int(answered.group(1)),
        not_ok=int(re.search(r"^not 200: (\d+)", out, re.MULTILINE).group(1)),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        rate=float(rate.group(1)) if rate else 0.0,
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- Report --------------------------------------------------------------------------------


def growth(value: int, base: int) -> str:
    return f"{(value - base) * 100 / base:+.1f} %"


def report(server: str, rows: list[tuple[int, int, Memory, list[Memory]]]) -> bool:
    """Prints the tables; True when every worker stayed within the limit."""
    workers = len(rows[0][3])
    base = rows[0][3]
    head = "| checkpoint | requests |"
    head += "".join(f" worker {i + 1} RSS (MiB) | growth |" for i in range(workers))
    print(f"\n{server}: RSS per worker, growth against the {rows[0][0]:,} checkpoint\n")
    print(head + " master RSS (MiB) |")
    print("| ---: | ---: |" + " ---: | ---: |" * workers + " ---: |")
    within = True
    for checkpoint, answered, master, each in rows:
        cells = ""
        for i, worker in enumerate(each):
            cells += f" {worker.rss / MIB:.1f} | {growth(worker.rss, base[i].rss)} |"
            within &= worker.rss <= base[i].rss * (100 + LIMIT_PERCENT) / 100
        print(f"| {checkpoint:,} | {answered:,} |{cells} {master.rss / MIB:.1f} |")
    print("\nAnonymous memory (RssAnon, MiB), threads and CPU seconds per worker:\n")
    print(
        "| checkpoint |"
        + "".join(f" worker {i + 1} anon / threads / CPU s |" for i in range(workers))
    )
    print("| ---: |" + " ---: |" * workers)
    for checkpoint, _, _, each in rows:
        cells = "".join(f" {w.anon / MIB:.1f} / {w.threads} / {w.cpu:.0f} |" for w in each)
        print(f"| {checkpoint:,} |{cells}")
    return within


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("gunicorn", "uvicorn"), default="gunicorn")
    parser.add_argument("--requests", type=int, default=CHECKPOINTS[-1], help="in all (100,000)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--time-limit", type=float, default=1800, help="s for the load (1,800)")
    parser.add_argument("--start-timeout", type=float, default=60)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url to a database seed_scale filled")
    if args.requests < CHECKPOINTS[0]:
        parser.error(f"--requests must be at least {CHECKPOINTS[0]:,}")
    return args


def main() -> int:
    args = parse_args()
    env = server_env(args.database_url)
    checkpoints = [c for c in CHECKPOINTS if c < args.requests] + [args.requests]
    started = time.monotonic()
    data = pick(env, args.requests, args.seed, int(args.time_limit) + 600)
    print(
        f"picked {len(data['songs']):,} songs, {len(data['albums']):,} albums, "
        f"{len(data['artists']):,} artists, {len(data['cursors']):,} cursors, "
        f"{len(data['names']):,} names, {len(data['tokens'])} listeners "
        f"in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="rss_soak-") as scratch:
        lines = Path(scratch) / "requests.txt"
        lines.write_text("\n".join(request_lines(data, args.requests, args.seed)) + "\n")
        process, base = start(
            args.server, env, args.workers, Path(scratch) / "server.log", args.start_timeout
        )
        try:
            master = process.pid
            pids = workers_of(master)
            print(
                f"{args.server} master {master}, workers {pids}; load {load_average()}",
                file=sys.stderr,
            )
            deadline = time.monotonic() + args.time_limit
            rows, done, not_ok, socket_errors = [], 0, 0, 0
            for checkpoint in checkpoints:
                left = deadline - time.monotonic()
                if left < 1:
                    print(f"time limit reached after {done:,} requests", file=sys.stderr)
                    break
                wanted = checkpoint - done
                leg = run_leg(base, lines, done, wanted, args, left)
                done += leg.answered
                not_ok += leg.not_ok
                socket_errors += leg.socket_errors
                time.sleep(1)  # the last responses leave the workers
                now = workers_of(master)
                if now != pids:
                    print(
                        f"workers changed: {pids} -> {now} (recycled or crashed)", file=sys.stderr
                    )
                    pids = now
                sample = [memory(pid) for pid in pids]
                master_memory = memory(master)
                if master_memory is None or None in sample:
                    raise SystemExit(
                        f"the server is gone:\n{(Path(scratch) / 'server.log').read_text()[-3000:]}"
                    )
                rows.append((checkpoint, done, master_memory, sample))
                print(
                    f"{checkpoint:>7,}: {done:,} answered, {leg.rate:.0f} req/s this leg, "
                    f"{leg.not_ok} not 200, {leg.socket_errors} socket errors, "
                    f"load {load_average()}; RSS MiB: "
                    + ", ".join(f"{m.rss / MIB:.1f}" for m in sample)
                    + f", master {master_memory.rss / MIB:.1f}",
                    file=sys.stderr,
                )
                if leg.answered < wanted:
                    print("time limit reached in this leg", file=sys.stderr)
                    break
        finally:
            stop(process)
    if not rows:
        return 1
    within = report(args.server, rows)
    verdict = "yes" if within else "NO"
    print(
        f"\n{done:,} requests in {time.monotonic() - started:.0f} s (ids included), "
        f"{not_ok} not 200, {socket_errors} socket errors; "
        f"every worker within {LIMIT_PERCENT} % of its first checkpoint: {verdict}"
    )
    return 1 if not_ok or socket_errors else 0


if __name__ == "__main__":
    sys.exit(main())
