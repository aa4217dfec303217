"""The search box under a stream of distinct queries: prints requests per second and latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1000000 \\
        .venv/bin/python bench/search.py [--queries 1000] [--concurrency 8] [--limit 5]

Against a database `manage.py seed_scale` filled (it is only read), the script draws
`--queries` distinct queries from the catalog's own names, as listeners type them: a title
("song 48213"), its words in another order ("48213 song"), an artist and a title, an album,
an artist alone, a last word cut short ("song 482", as typed), and a word with a one-letter
typo ("sogn 48213"). It serves the project under production's gunicorn
(deploy/gunicorn.conf.py, 2 workers, DEBUG off, no Redis: each worker's own cache) on a free
127.0.0.1 port, sends every query once to `/api/search/?q=` from `--concurrency` client
threads (http.client, one connection each), and prints requests per second, p50, p90 and p99
latency, the count of each kind of query, and the CPU each request cost the gunicorn workers
and the database's backends (read from /proc: run it on the database's machine, as root or
the server's user, for the database's share), so that a run on a busy machine still says what
a request costs. No query is sent twice, so no cache of a
term's answer can serve one; `SEARCH_CACHE_SECONDS=0` in the environment turns the ranking
cache off for a run beside one with it on.
"""

import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.ports import free_port  # noqa: E402 - the one the test servers use


def _typo(word: str, rng: random.Random) -> str:
    """`word` with one letter swapped with the next one, or replaced (never the first)."""
    if len(word) < 4 or not word.isalpha():
        return word
    at = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word[:at] + rng.choice("aeiourstn") + word[at + 1 :]


def _cut(word: str, rng: random.Random) -> str:
    """The first letters of `word`, as typed so far (at least two)."""
    return word if len(word) <= 2 else word[: rng.randrange(2, len(word))]


def draw_queries(database_url: str, count: int, seed: int = 22) -> list[tuple[str, str]]:
    """`count` distinct (kind, query) pairs drawn from songs, their albums and artists."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable draw, not a secret
    with psycopg.connect(database_url) as connection:
        highest = connection.execute("SELECT max(id) FROM catalog_song").fetchone()[0]
        ids = rng.sample(range(1, highest + 1), min(highest, count * 3))
        rows = connection.execute(
            "SELECT s.title, s.artist, coalesce(a.title, '') FROM catalog_song s"
            " LEFT JOIN catalog_album a ON a.id = s.album_id WHERE s.id = ANY(%s)",
            [ids],
        ).fetchall()
    rng.shuffle(rows)  # the database returns them in its own order
    makers = {
        "title": lambda t, a, al: t,
        "words reordered": lambda t, a, al: " ".join(reversed(t.split())),
        "artist and title": lambda t, a, al: f"{a} {t}",
        "album": lambda t, a, al: al or t,
        "artist": lambda t, a, al: a,
        "last word cut": lambda t, a, al: " ".join([*t.split()[:-1], _cut(t.split()[-1], rng)]),
        "typo": lambda t, a, al: " ".join(_typo(word, rng) for word in t.split()),
    }
    kinds = list(makers)
    queries: dict[str, str] = {}
    for title, artist, album in rows:
        kind = kinds[len(queries) % len(kinds)]
        query = makers[kind](title, artist, album).lower()
        queries.setdefault(query, kind)
        if len(queries) == count:
            break
    return [(kind, query) for query, kind in queries.items()]


def start_gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(PROJECT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "-c",
            "deploy/gunicorn.conf.py",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/health/")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def send_all(port: int, paths: list[str], concurrency: int) -> tuple[float, list[float], int]:
    """Every path once from `concurrency` threads: (seconds, latencies in ms, non-200s)."""
    pending = iter(paths)
    lock = threading.Lock()
    latencies: list[float] = []
    failures = 0

    def client() -> None:
        nonlocal failures
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                path = next(pending, None)
            if path is None:
                return
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                ok = False
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                failures += not ok

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, failures


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the fields after the command's name


def _cpu_seconds(pids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def serving_processes(master: int, database_url: str) -> tuple[set[int], set[int]]:
    """The gunicorn workers (children of `master`) and the PostgreSQL backends of the
    database (this machine's, read from /proc as the server's user or root)."""
    workers = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == master:
            workers.add(int(entry.name))
    with psycopg.connect(database_url) as connection:
        backends = {
            row[0]
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
        }
    return workers, backends


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--limit", type=int, default=5, help="the search box's `limit`")
    parser.add_argument("--warmup", type=int, default=50, help="other queries sent first")
    arguments = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database seed_scale filled")
    drawn = draw_queries(database_url, arguments.queries + arguments.warmup)
    warmup, measured = drawn[: arguments.warmup], drawn[arguments.warmup :]
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECURE_SSL_REDIRECT": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": "",
        "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-0123456789",
    }
    port = free_port()
    server = start_gunicorn(port, env)
    try:

        def path(query: str) -> str:
            return f"/api/search/?q={quote(query)}&limit={arguments.limit}"

        send_all(port, [path(query) for _, query in warmup], arguments.concurrency)
        workers, backends = serving_processes(server.pid, database_url)
        cpu_before = _cpu_seconds(workers | backends)
        seconds, latencies, failures = send_all(
            port, [path(query) for _, query in measured], arguments.concurrency
        )
        cpu_after = _cpu_seconds(workers | backends)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()

    def cpu_ms(pids: set[int]) -> float:
        spent = sum(cpu_after.get(pid, 0.0) - cpu_before.get(pid, 0.0) for pid in pids)
        return spent * 1000 / len(latencies)

    app_ms, database_ms = cpu_ms(workers), cpu_ms(backends)
    kinds: dict[str, int] = {}
    for kind, _ in measured:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"database: {urlsplit(database_url).path.lstrip('/')}")
    print(f"queries: {len(measured)} distinct ({', '.join(f'{k} {n}' for k, n in kinds.items())})")
    print(f"examples: {', '.join(repr(query) for _, query in measured[:8])}")
    print(f"concurrency: {arguments.concurrency}, limit: {arguments.limit}, non-200: {failures}")
    print(
        f"requests/s: {len(latencies) / seconds:.0f}   p50: {percentile(latencies, 0.5):.1f} ms"
        f"   p90: {percentile(latencies, 0.9):.1f} ms   p99: {percentile(latencies, 0.99):.1f} ms"
        f"   mean: {statistics.fmean(latencies):.1f} ms"
    )
    # What a request costs, whatever else the machine runs: the projection is what its cores
    # would serve if they did nothing else (the client's own CPU aside).
    cores = os.cpu_count() or 1
    print(
        f"CPU per request: gunicorn {app_ms:.1f} ms + PostgreSQL {database_ms:.1f} ms"
        f" -> at most {cores * 1000 / (app_ms + database_ms):.0f} req/s on {cores} idle cores;"
        f" load average at the end: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
