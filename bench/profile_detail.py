"""Where a hot detail read spends its time, in-process: prints timings and cProfile tables.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/profile_detail.py --song 424242 --album 777 -n 500

`--hot` takes every hot read instead (song, album and artist detail at 42 % of their tables,
the songs list's first page and a cursor page after its middle item, featured, trending,
made-for-you signed out) and `--table` prints only the per-request table, no profiles.

For each path: the SQL it runs (once), the wall time per request through Django's WSGI handler
(the test Client) and through its ASGI handler (AsyncClient, as uvicorn calls it), then the
top entries of a cProfile of `n` requests through the WSGI handler, by CPU time of this process
(`--wall` for wall time). cProfile follows only the calling thread, so the ASGI path (whose sync
views run in a worker thread) is timed, not profiled. Settings are production's (DEBUG off), as
run.sh sets them.
"""

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DEBUG="False",
    SECURE_SSL_REDIRECT="False",
    ALLOWED_HOSTS="testserver",
    SECRET_KEY="bench-secret-key-bench-secret-key-bench-0123456789",  # noqa: S106 - as run.sh
)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402


class Recorder:
    """A database execute wrapper that notes each statement and its round trip."""

    def __init__(self, into: list[tuple[str, float]]) -> None:
        self.into = into

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.into.append((sql, (time.perf_counter() - started) * 1000))


def per_request_ms(fetch, n: int) -> tuple[float, float]:
    """(wall, CPU of this process) milliseconds per request."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fetch()
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


async def async_ms(client: AsyncClient, path: str, n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        response = await client.get(path)
        assert response.status_code == 200, response.status_code
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--song", type=int, default=424242)
    parser.add_argument("--album", type=int, default=777)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", help="folder for the raw .prof files")
    parser.add_argument("--wall", action="store_true", help="profile wall time, not CPU time")
    parser.add_argument(
        "--pyinstrument",
        action="store_true",
        help="also sample n requests with pyinstrument (pip install pyinstrument)",
    )
    parser.add_argument("--hot", action="store_true", help="every hot read, ids picked here")
    parser.add_argument("--table", action="store_true", help="timings table only, no profile")
    parser.add_argument(
        "--schema",
        action="store_true",
        help="also time the response schema alone on a page of 50 songs (no SQL, no HTTP)",
    )
    args = parser.parse_args()

    paths = hot_paths() if args.hot else [f"/api/songs/{args.song}/", f"/api/albums/{args.album}/"]
    rows: list[str] = []
    client = Client()
    for path in paths:

        def fetch(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        for _ in range(20):  # warm: imports, pool, URL resolver, pydantic models
            fetch()
        queries: list[tuple[str, float]] = []
        with connection.execute_wrapper(Recorder(queries)):
            fetch()
        sql_ms = sum(ms for _, ms in queries)

        wsgi = per_request_ms(fetch, args.n)
        asgi = asyncio.run(async_ms(AsyncClient(), path, args.n))
        rows.append(
            f"| `{path[:60]}` | {len(queries)} | {sql_ms:.2f} | {wsgi[1]:.2f} | {asgi[1]:.2f} |"
        )
        if args.table:
            continue

        # CPU time of this process by default: other work on a shared machine does not land
        # in the figures (waiting on PostgreSQL does not either: see the SQL line for that).
        profile = cProfile.Profile(time.perf_counter if args.wall else time.process_time)
        profile.enable()
        for _ in range(args.n):
            fetch()
        profile.disable()
        if args.save:
            name = "song" if "songs" in path else "album"
            profile.dump_stats(Path(args.save) / f"{name}.prof")

        print(f"## GET {path}  ({args.n} requests)")
        print(f"- queries per request: {len(queries)}, {sql_ms:.2f} ms in SQL as the client saw it")
        for sql, ms in queries:
            print(f"  - {ms:.2f} ms: {sql[:400]}")
        for handler, (wall, cpu) in (("WSGI (test Client)", wsgi), ("ASGI (AsyncClient)", asgi)):
            print(f"- {handler}: {wall:.2f} ms wall, {cpu:.2f} ms CPU per request")
        print(f"- profile clock: {'wall' if args.wall else 'CPU of this process'}")
        if args.pyinstrument:
            # A sampling profiler: no per-call overhead, so many small calls (pydantic getters,
            # URL reversing) keep their true weight, which cProfile inflates.
            from pyinstrument import Profiler

            sampler = Profiler(interval=0.0005)
            sampler.start()
            for _ in range(args.n):
                fetch()
            sampler.stop()
            print(
                sampler.output_text(
                    unicode=False,
                    color=False,
                    time="percent_of_total",
                    processor_options={"filter_threshold": 0.015},
                )
            )
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        text = out.getvalue()
        for prefix in (*sorted(sys.path, key=len, reverse=True), str(ROOT)):
            if prefix and prefix != "/":
                text = text.replace(prefix.rstrip("/") + "/", "")
        print(text)
    if args.schema:
        print(f"- a page of 50 songs, rows to dict through SongOut: {schema_ms():.2f} ms CPU")
    print("| path | queries | SQL ms | WSGI CPU ms | ASGI CPU ms |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


def schema_ms(rounds: int = 7, n: int = 100) -> float:
    """CPU ms to turn the songs list's first 50 rows into the page's dict, the best of
    `rounds`: the response schema's share of a list page without the noise of the rest."""
    from django.test import RequestFactory

    from catalog.schemas import SongOut
    from catalog.selectors.songs import song_list
    from core.schemas import page_of

    request = RequestFactory().get("/api/songs/")
    rows = list(song_list()[:50])
    page = page_of(SongOut)

    def build() -> None:
        request.__dict__.pop("_file_urls", None)  # as a new request would have it
        body = {"items": rows, "count": len(rows), "next": None}
        page.model_validate(body, context={"request": request}).model_dump()

    for _ in range(50):
        build()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            build()
        best = min(best, (time.process_time() - started) * 1000 / n)
    return best


def hot_paths() -> list[str]:
    """The hot reads of issue 22, on ids picked as bench/serving.sh picks them."""
    from django.test import RequestFactory

    from catalog.models import Album, Artist, Song
    from core.pagination import Page

    order = ["-created_at", "-id"]
    songs = Song.objects.count()
    song = Song.objects.order_by("id")[songs * 42 // 100]
    album = Album.objects.order_by("id")[Album.objects.count() * 42 // 100]
    artist = Artist.objects.order_by("id")[Artist.objects.count() * 42 // 100]
    middle = Song.objects.order_by(*order)[songs // 2 - 1]
    cursor = Page._cursor(order, middle, RequestFactory().get("/api/songs/"))
    return [
        f"/api/songs/{song.pk}/",
        f"/api/albums/{album.pk}/",
        f"/api/artists/{artist.pk}/",
        "/api/songs/",
        f"/api/songs/?cursor={cursor}",
        "/api/songs/featured/",
        "/api/songs/trending/",
        "/api/songs/made-for-you/",
    ]


if __name__ == "__main__":
    main()
