"""Latency and throughput of the hot read paths on a live uvicorn: prints figures only.

    .venv/bin/python bench/api_under_load.py [--requests 400] [--concurrency 16]

Starts uvicorn on a free 127.0.0.1 port over a scratch SQLite database with the demo catalog
(or the database in DATABASE_URL, if set), then sends a bounded number of requests to each
path from one asyncio client and reports requests per second and latency percentiles.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.ports import free_port  # noqa: E402 - the one the test servers use


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed_demo_catalog"], cwd=PROJECT, env=env, check=True)
    server = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health/", timeout=1).raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("uvicorn did not start")


async def measure(
    client: httpx.AsyncClient,
    label: str,
    path: str,
    total: int,
    workers: int,
    headers: dict[str, str] | None = None,
) -> None:
    latencies: list[float] = []
    received = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(index)

    async def worker() -> None:
        nonlocal received
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            received += len(response.content)
            assert response.status_code in (200, 206), (path, response.status_code)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"{label:<28} {total / elapsed:8.0f} req/s   p50 {statistics.median(latencies):6.1f} ms"
        f"   p95 {p95:6.1f} ms   {received / elapsed / 1e6:7.1f} MB/s"
    )


async def run(base: str, total: int, workers: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        songs = (await client.get("/api/songs/", params={"limit": 1})).json()["items"]
        albums = (await client.get("/api/albums/", params={"limit": 1})).json()["items"]
        song_id, album_id = songs[0]["id"], albums[0]["id"]
        # The framework's floor: one query, no serialization to speak of.
        await measure(client, "GET /api/health/", "/api/health/", total, workers)
        await measure(client, "GET /api/songs/?limit=50", "/api/songs/", total, workers)
        await measure(client, "GET /api/songs/featured/", "/api/songs/featured/", total, workers)
        await measure(client, "GET /api/songs/trending/", "/api/songs/trending/", total, workers)
        await measure(client, "GET /api/albums/{id}/", f"/api/albums/{album_id}/", total, workers)
        stream = f"/api/songs/{song_id}/stream/"
        await measure(
            client,
            "stream, Range 64 KiB",
            stream,
            total,
            workers,
            headers={"Range": "bytes=0-65535"},
        )
        await measure(client, "stream, whole file", stream, total, workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per path")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DEBUG": "False",
            "SECRET_KEY": "benchmark-only-" + "x" * 40,
            "SECURE_SSL_REDIRECT": "False",
            "SERVE_MEDIA": "True",
            "MEDIA_ROOT": f"{scratch}/media",
        }
        env.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
        port = free_port()
        server = start_server(env, port)
        try:
            print(
                f"uvicorn, 1 process, {env['DATABASE_URL'].split(':')[0]}, "
                f"{args.requests} requests per path, {args.concurrency} at a time"
            )
            asyncio.run(run(f"http://127.0.0.1:{port}", args.requests, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
