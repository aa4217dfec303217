"""The memory of the production server stays flat while it proxies streams from a bucket.

The server is gunicorn as deployed (`config.wsgi:application` with deploy/gunicorn.conf.py, sync
workers), started as a real process with STORAGE_BUCKET and MEDIA_STREAM_MODE=proxy: each
`GET /api/songs/{id}/stream/` is one ranged GetObject read 64 KiB at a time
(catalog/streaming.py). The bucket is moto's server in a process of its own (`moto_server`),
so that neither its memory nor this test's clients count in what is measured.

After a warm-up (every worker has served small ranges, so its boto3 client is built), 16
client threads each download the whole 50 MiB object at once as one ranged request, reading
and checking every byte, while the VmRSS of the gunicorn master and all its workers is read
from /proc every 20 ms; peak minus idle (their sums at one moment) must stay under 20 MB.
Sync workers serve WEB_CONCURRENCY (4) requests at a time, the other clients wait in the
listen backlog. The production server is what is measured: under uvicorn each worker grows
by about 22 MiB with 32 concurrent streams (per-request threads, docs/PERFORMANCE.md
"Streaming").

This caught a boto3 client built on every request (django-storages keeps one per thread,
and under WSGI the async view's blocking calls run in fresh threads): about 12 MB parsed a
request, +26 MiB over 4 workers. `BucketStorage.client` is now shared across threads.
"""

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest

from catalog.models import Song
from tests import live_servers as live
from tests.helpers import credited
from tests.live_servers import LiveServer
from tests.object_storage import ACCESS_KEY, PREFIX, REGION, SECRET_KEY, s3_client
from tests.ports import free_port

pytestmark = pytest.mark.django_db(transaction=True)

# The live-server fixture of the messaging tests: a database this process and gunicorn share.

MIB = 1024 * 1024
OBJECT_BYTES = 50 * MIB
CLIENTS = 16
WARMUP_RANGES = 2
WORKERS = 4
RSS_GROWTH_LIMIT = 20 * 1000 * 1000  # 20 MB
SAMPLE_SECONDS = 0.02
REQUEST_SECONDS = 60
START_SECONDS = 30

# --- The bucket: moto's server in its own process -------------------------------------------


@pytest.fixture
def moto_process(tmp_path) -> Iterator[str]:
    """`moto_server` on a free port; its URL. Stopped after the test."""
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"moto_server did not start:\n{(tmp_path / 'moto.log').read_text()}"
                    )
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


# --- The server: gunicorn as deployed -------------------------------------------------------


@pytest.fixture
def proxy_server(live_database_url, moto_process, tmp_path) -> Iterator[tuple[LiveServer, str]]:
    """gunicorn streaming from a new bucket of `moto_process` in proxy mode; (server, bucket)."""
    bucket = f"media-{uuid.uuid4().hex[:8]}"
    s3_client(moto_process).create_bucket(Bucket=bucket)
    env = live.server_env(
        database_url=live_database_url,
        redis_url="",
        env={
            "DEBUG": "False",  # production: no query log kept per request
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_CMD_ARGS": "",
            "STORAGE_BUCKET": bucket,
            "STORAGE_ENDPOINT_URL": moto_process,
            "STORAGE_ACCESS_KEY_ID": ACCESS_KEY,
            "STORAGE_SECRET_ACCESS_KEY": SECRET_KEY,
            "STORAGE_REGION": REGION,
            "STORAGE_PREFIX": PREFIX,
            "MEDIA_STREAM_MODE": "proxy",
            "MEDIA_ACCEL_REDIRECT": "",
        },
    )
    log_path = tmp_path / "gunicorn.log"
    server = live.start_gunicorn(env, log_path)
    try:
        deadline = time.monotonic() + START_SECONDS
        while len(server_pids(server.process.pid)) < WORKERS + 1:
            assert time.monotonic() < deadline, f"gunicorn forked too few workers:\n{server.log()}"
            time.sleep(0.1)
        yield server, bucket
    finally:
        server.stop()
        print(f"--- gunicorn {server.url} ---\n{server.log()}")  # shown when the test failed


# --- RSS sampling ---------------------------------------------------------------------------


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def server_pids(root: int) -> list[int]:
    """The master and every process below it (the workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
    found, queue = [root], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def vm_rss(pid: int) -> int:
    """Bytes of resident memory, 0 for a process that is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Sampler:
    """The VmRSS of each of the server's processes every SAMPLE_SECONDS, in a thread."""

    root: int
    ticks: list[dict[int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "Sampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            self.ticks.append({pid: vm_rss(pid) for pid in server_pids(self.root)})
            if self._stop.wait(SAMPLE_SECONDS):
                return

    def peak(self) -> int:
        """The largest sum over the processes at one moment."""
        return max(sum(tick.values()) for tick in self.ticks)

    def per_process(self) -> dict[int, int]:
        """Each process's largest RSS."""
        peaks: dict[int, int] = {}
        for tick in self.ticks:
            for pid, rss in tick.items():
                peaks[pid] = max(peaks.get(pid, 0), rss)
        return peaks


# --- Clients --------------------------------------------------------------------------------


def fetch(client: httpx.Client, url: str, content: bytes, start: int, end: int) -> int:
    """Download bytes start..end (inclusive) reading every byte; checks them; the count."""
    with client.stream("GET", url, headers={"Range": f"bytes={start}-{end}"}) as response:
        assert response.status_code == HTTPStatus.PARTIAL_CONTENT, response.read()[:300]
        assert response.headers["content-range"] == f"bytes {start}-{end}/{len(content)}"
        body = b"".join(response.iter_bytes(256 * 1024))
    assert len(body) == end - start + 1
    assert body == content[start : end + 1]
    return len(body)


def stream_client(url: str, content: bytes, seed: int, ranges: int, length: int) -> int:
    """`ranges` random ranges of `length` bytes (the whole object when it is its size);
    the bytes read."""
    rng = random.Random(seed)
    read = 0
    with httpx.Client(timeout=REQUEST_SECONDS) as client:
        for _ in range(ranges):
            start = rng.randrange(len(content) - length + 1)
            read += fetch(client, url, content, start, start + length - 1)
    return read


def run_clients(url: str, content: bytes, *, ranges: int, length: int) -> list[int]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        jobs = [
            pool.submit(stream_client, url, content, seed, ranges, length)
            for seed in range(CLIENTS)
        ]
        return [job.result() for job in jobs]


# --- The test -------------------------------------------------------------------------------


def test_gunicorn_rss_stays_flat_over_parallel_proxied_streams(proxy_server, moto_process):
    server, bucket = proxy_server
    content = random.Random(7).randbytes(OBJECT_BYTES)  # noise: a wrong offset shows
    s3_client(moto_process).put_object(
        Bucket=bucket, Key=f"{PREFIX}/songs/big.wav", Body=content, ContentType="audio/wav"
    )
    [song] = Song.objects.bulk_create(
        [Song(title="Big", **credited("Bench"), duration=297, audio="songs/big.wav")]
    )
    url = f"{server.url}/api/songs/{song.pk}/stream/"

    # Warm up: every worker has served ranges (its boto3 client and imports are built).
    for _ in range(2):
        warm = run_clients(url, content, ranges=WARMUP_RANGES, length=MIB)
        assert warm == [WARMUP_RANGES * MIB] * CLIENTS
    with Sampler(server.process.pid) as idle:
        time.sleep(1)
    started = time.monotonic()
    with Sampler(server.process.pid) as loaded:
        counts = run_clients(url, content, ranges=1, length=OBJECT_BYTES)
    seconds = time.monotonic() - started

    assert counts == [OBJECT_BYTES] * CLIENTS
    idle_rss, peak_rss = idle.peak(), loaded.peak()
    served = sum(counts) / MIB
    idle_each, peak_each = idle.per_process(), loaded.per_process()
    report = (
        f"gunicorn, {WORKERS} sync workers, {CLIENTS} clients: idle {idle_rss / MIB:.1f} MiB, "
        f"peak {peak_rss / MIB:.1f} MiB ({(peak_rss - idle_rss) / MIB:+.1f} MiB); each process "
        + ", ".join(
            f"{idle_each[pid] / MIB:.1f} -> {peak_each.get(pid, 0) / MIB:.1f}" for pid in idle_each
        )
        + f"; {served:.0f} MiB in {seconds:.1f} s ({served / seconds:.0f} MiB/s), "
        f"{len(loaded.ticks)} samples"
    )
    print(report)  # shown with -s, or when the test fails
    assert len(loaded.ticks) >= 10, report
    assert peak_rss - idle_rss < RSS_GROWTH_LIMIT, report
