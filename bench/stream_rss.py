"""Memory (RSS) of the server processes while 32 clients stream ranges of a 50 MB song.

    .venv/bin/python bench/stream_rss.py [--server both|gunicorn|uvicorn]
        [--clients 32] [--seconds 10] [--pattern random|sequential] [--database-url URL]

Prepares its own data (a scratch SQLite database, or the PostgreSQL database given by
--database-url, migrated; one song whose audio is a 50 MiB WAV created through
`services.song_create`, so it passes the upload checks), then for each server:

1. starts it as a real process (gunicorn with deploy/gunicorn.conf.py, or uvicorn
   --workers 2) with production settings (DEBUG=False, no SERVE_MEDIA, no X-Accel),
2. samples the RSS (VmRSS, split into RssAnon and RssFile), threads and CPU time of the
   master and every worker every 100 ms: just started ("cold"), after a few small warm-up
   requests ("idle"), during the load ("peak") and after it ("after"),
3. runs the clients for a fixed time: each one sends `Range: bytes=start-end` GETs to
   /api/songs/{id}/stream/ and reads every byte, checking status, Content-Range, the byte
   count and the first and last bytes against the file.

Prints two Markdown tables (one row per server, then one per process) and exits non-zero if
any request failed. Every wait is bounded in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.ports import free_port  # noqa: E402 - the one the test servers use
from tests.processes import descendants, run_python  # noqa: E402

MIB = 1024 * 1024
# The default AUDIO_MAX_BYTES: the largest song the API accepts, header included.
FILE_BYTES = 50 * MIB
SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH = 44_100, 2, 2  # CD audio: about 5 minutes in 50 MiB
WAV_HEADER_BYTES = 44
PROBE_BYTES = 16  # first and last bytes of each body compared with the file
WARMUP_REQUESTS = 16  # small ranges, so each worker has imported and built what it lazily can
SERVERS = ("gunicorn", "uvicorn")


# --- Data ----------------------------------------------------------------------------------


def write_wav(path: Path, total_bytes: int, seed: int = 1) -> None:
    """A valid stereo 16-bit PCM WAV of exactly `total_bytes`: quiet noise (about -42 dBFS).

    Noise, not a repeated tone, so no two offsets hold the same bytes and a body served from
    the wrong offset fails the probe check.
    """
    frame_bytes = CHANNELS * SAMPLE_WIDTH
    frames = (total_bytes - WAV_HEADER_BYTES) // frame_bytes
    assert WAV_HEADER_BYTES + frames * frame_bytes == total_bytes, "size must fit whole frames"
    # High byte of each little-endian sample 0x00 or 0xFF: samples stay within -256..255.
    quiet = bytes(0x00 if value < 128 else 0xFF for value in range(256))
    rng = random.Random(seed)  # noqa: S311 - a fixture, not a secret: reproducible on purpose
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(SAMPLE_RATE)
        wav.setnframes(frames)  # the header is written once, with its final size
        remaining = frames * frame_bytes
        while remaining:
            block = bytearray(rng.randbytes(min(8 * MIB, remaining)))
            block[1::2] = bytes(block[1::2]).translate(quiet)
            wav.writeframesraw(block)
            remaining -= len(block)
    assert path.stat().st_size == total_bytes


def django_env(database_url: str, media_root: Path) -> dict[str, str]:
    """The environment of migrate, the song helper and the servers: production settings.

    Every variable that changes how a stream is served is set here, so neither the caller's
    environment nor the project's .env (which only fills unset variables) can change it.
    """
    env = {key: value for key, value in os.environ.items() if key != "GUNICORN_CMD_ARGS"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        SERVE_MEDIA="False",
        MEDIA_ACCEL_REDIRECT="",  # the app streams the file itself, which is what is measured
        REDIS_URL="",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(media_root),
        AUDIO_MAX_BYTES=str(FILE_BYTES),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_django(args: list[str], env: dict[str, str], timeout: float) -> str:
    """Run this script's Django helper or manage.py; stdout, or exit with its stderr."""
    return run_python(args, env=env, timeout=timeout)


@dataclass(frozen=True)
class Song:
    id: int
    path: Path  # the stored file the server streams
    size: int


def prepare_song(env: dict[str, str], scratch: Path) -> Song:
    run_django(["manage.py", "migrate", "--noinput", "-v0"], env, timeout=300)
    wav_path = scratch / "bench.wav"
    write_wav(wav_path, FILE_BYTES)
    out = run_django([__file__, "--create-song", str(wav_path)], env, timeout=120)
    wav_path.unlink()  # the upload was copied into MEDIA_ROOT
    created = json.loads(out.strip().splitlines()[-1])
    path = Path(created["path"])
    return Song(id=created["id"], path=path, size=path.stat().st_size)


def create_song(wav_path: Path) -> None:
    """In a child process with django_env: the song made as the API would make it."""
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    from django.core.files.uploadedfile import UploadedFile

    from catalog import services

    with wav_path.open("rb") as handle:
        upload = UploadedFile(
            handle, name="bench.wav", content_type="audio/wav", size=wav_path.stat().st_size
        )
        song = services.song_create(title="Stream bench", artist="Bench", audio_file=upload)
    print(json.dumps({"id": song.pk, "path": song.audio.path}))


def delete_song(song_id: int) -> None:
    """In a child process: take the bench song out of a database that outlives the run."""
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()
    from django.db import transaction

    from catalog import services

    with transaction.atomic():
        services.song_delete(song_id=song_id)


# --- Server processes ----------------------------------------------------------------------


def server_command(server: str, port: int, workers: int) -> tuple[list[str], dict[str, str]]:
    """argv and extra environment of each server, as deployed."""
    if server == "gunicorn":
        argv = ["-m", "gunicorn", "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
        return argv, {"WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    argv = [
        *("-m", "uvicorn", "config.asgi:application", "--workers", str(workers)),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"),
    ]
    return argv, {}


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def start_server(
    name: str, env: dict[str, str], scratch: Path, workers: int, timeout: float
) -> Server:
    port = free_port()
    argv, extra = server_command(name, port, workers)
    log_path = scratch / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=PROJECT,
            env={**env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop_server can end all of it
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited at startup:\n{server.log_tail()}")
        try:
            answered = httpx.get(f"{server.base_url}/api/health/", timeout=1).status_code == 200
            # One worker answering is not enough: wait until all of them are forked.
            if answered and len(server_pids(process.pid)) >= workers + 1:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"{name} did not answer /api/health/ within {timeout:.0f} s")


def stop_server(server: Server, timeout: float = 15) -> None:
    """SIGTERM to the master (a graceful stop), then SIGKILL to its group if it lingers."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
    process.wait(timeout=5)


def server_pids(root: int) -> list[int]:
    """The master and all its descendants (workers, and any helper they start)."""
    return [root, *descendants(root)]


def process_role(pid: int, root: int) -> str:
    if pid == root:
        return "master"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    # uvicorn's multiprocessing may start a resource tracker: it serves no request.
    return "helper" if "resource_tracker" in cmdline else "worker"


# --- RSS sampling --------------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    """One process at one moment, from /proc/<pid>/status and /proc/<pid>/stat."""

    rss: int  # bytes: anonymous + file-backed + shared memory
    anon: int  # heap, thread stacks, buffers: where a leak would show
    file: int  # mapped files (code, libraries)
    threads: int
    cpu: float  # user + system seconds since the process started


def read_sample(pid: int) -> ProcSample | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # exited between the scan and the read
    fields = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
            fields[key] = int(value.split()[0])
    if "VmRSS" not in fields:
        return None  # a zombie has no memory lines
    return ProcSample(
        rss=fields["VmRSS"] * 1024,  # status reports kB
        anon=fields.get("RssAnon", 0) * 1024,
        file=fields.get("RssFile", 0) * 1024,
        threads=fields.get("Threads", 0),
        cpu=(int(stat[11]) + int(stat[12])) / CLOCK_TICKS,  # utime, stime (fields 14, 15)
    )


@dataclass(frozen=True)
class Tick:
    at: float
    phase: str
    processes: dict[int, ProcSample]

    @property
    def total(self) -> int:
        return sum(sample.rss for sample in self.processes.values())


@dataclass
class Sampler:
    """Reads the RSS of every server process every `interval` seconds, in a thread."""

    root: int
    interval: float = 0.1
    phase: str = "cold"
    ticks: list[Tick] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            processes = {}
            # Rescanned every time: a worker that is replaced (max_requests) is still counted.
            for pid in server_pids(self.root):
                sample = read_sample(pid)
                if sample is not None:
                    processes[pid] = sample
                    if pid not in self.roles:
                        self.roles[pid] = process_role(pid, self.root)
            self.ticks.append(Tick(time.monotonic(), self.phase, processes))
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def in_phase(self, phase: str) -> list[Tick]:
        return [tick for tick in self.ticks if tick.phase == phase]


# --- Load ----------------------------------------------------------------------------------


@dataclass
class ClientStats:
    requests: int = 0
    bytes: int = 0
    errors: int = 0
    examples: list[str] = field(default_factory=list)

    def fail(self, error: str) -> None:
        self.errors += 1
        if len(self.examples) < 3:  # enough to see what went wrong
            self.examples.append(error)


@dataclass(frozen=True)
class LoadPlan:
    pattern: str  # "random": windows anywhere; "sequential": a player reading end to end
    min_window: int
    max_window: int
    request_timeout: float


def windows(song: Song, plan: LoadPlan, rng: random.Random) -> Iterator[tuple[int, int]]:
    """Endless (start, end) byte ranges, end inclusive as in the Range header."""
    position = rng.randrange(song.size)
    while True:
        length = rng.randint(plan.min_window, plan.max_window)
        if plan.pattern == "random":
            start = rng.randrange(song.size - length + 1)
        else:
            start = position if position < song.size else 0
        end = min(start + length, song.size) - 1
        position = end + 1
        yield start, end


def fetch_range(
    client: httpx.Client, url: str, song: Song, file_fd: int, start: int, end: int, plan: LoadPlan
) -> tuple[int, str | None]:
    """Download one range, reading every byte; (bytes read, the error or None)."""
    expected = end - start + 1
    head, tail, received = b"", b"", 0
    give_up_at = time.monotonic() + plan.request_timeout
    with client.stream("GET", url, headers={"Range": f"bytes={start}-{end}"}) as response:
        for chunk in response.iter_raw():
            received += len(chunk)
            if len(head) < PROBE_BYTES:
                head += chunk[: PROBE_BYTES - len(head)]
            tail = (tail + chunk[-PROBE_BYTES:])[-PROBE_BYTES:]
            if time.monotonic() > give_up_at:
                return received, f"timeout: {received} of {expected} bytes"
        status, content_range = response.status_code, response.headers.get("Content-Range")
    if status not in (200, 206):
        return received, f"status {status}"
    if status == 200 and (start, end) != (0, song.size - 1):
        return received, "status 200 (whole file) for a partial range"
    if status == 206 and content_range != f"bytes {start}-{end}/{song.size}":
        return received, f"Content-Range {content_range!r} for bytes={start}-{end}"
    if received != expected:
        return received, f"wrong byte count: {received} for bytes={start}-{end}"
    probe = min(PROBE_BYTES, expected)
    if head != os.pread(file_fd, probe, start) or tail != os.pread(file_fd, probe, end + 1 - probe):
        return received, f"wrong bytes for bytes={start}-{end}"
    return received, None


def client_loop(
    base_url: str, song: Song, plan: LoadPlan, stop_at: float, seed: int, stats: ClientStats
) -> None:
    """One listener with a connection of its own: ranged GETs until `stop_at`."""
    rng = random.Random(seed)  # noqa: S311 - ranges to ask for, not secrets
    url = f"/api/songs/{song.id}/stream/"
    timeout = httpx.Timeout(plan.request_timeout, connect=5)
    with (
        httpx.Client(base_url=base_url, timeout=timeout) as client,
        song.path.open("rb") as file,
    ):
        for start, end in windows(song, plan, rng):
            if time.monotonic() >= stop_at:
                return
            try:
                received, error = fetch_range(client, url, song, file.fileno(), start, end, plan)
            except httpx.HTTPError as exc:
                received, error = 0, f"{type(exc).__name__}: {exc}"
            stats.requests += 1
            stats.bytes += received
            if error is not None:
                stats.fail(error)


@dataclass(frozen=True)
class LoadResult:
    seconds: float
    stats: list[ClientStats]
    client_cpu: float  # share of one CPU this script used: near 1.0, the client is the limit

    @property
    def requests(self) -> int:
        return sum(stats.requests for stats in self.stats)

    @property
    def bytes(self) -> int:
        return sum(stats.bytes for stats in self.stats)

    @property
    def errors(self) -> int:
        return sum(stats.errors for stats in self.stats)


def run_load(base_url: str, song: Song, plan: LoadPlan, clients: int, seconds: float) -> LoadResult:
    stats = [ClientStats() for _ in range(clients)]
    started, cpu_started = time.monotonic(), time.process_time()
    stop_at = started + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(base_url, song, plan, stop_at, index, stats[index]),
            name=f"client-{index}",
            daemon=True,  # a client stuck past its timeouts cannot keep the script alive
        )
        for index in range(clients)
    ]
    for thread in threads:
        thread.start()
    # Requests in flight at stop_at finish (each is bounded by request_timeout).
    join_by = stop_at + plan.request_timeout + 5
    for thread in threads:
        thread.join(timeout=max(0.0, join_by - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        stats[0].fail(f"{stuck} client threads still running")
    seconds = time.monotonic() - started
    return LoadResult(seconds, stats, (time.process_time() - cpu_started) / seconds)


def warm_up(base_url: str, song: Song) -> None:
    """Small ranges from several connections, so both workers serve a stream before 'idle'."""
    url = f"{base_url}/api/songs/{song.id}/stream/"

    def one() -> None:
        # The load phase counts errors; warm-up only primes the workers.
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, headers={"Range": "bytes=0-65535"}, timeout=10)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(WARMUP_REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)


# --- One run and its report ----------------------------------------------------------------


@dataclass(frozen=True)
class ProcessReport:
    pid: int
    role: str
    cold: int
    idle: int
    peak: int
    after: int
    idle_anon: int
    peak_anon: int
    idle_file: int
    peak_file: int
    idle_threads: int
    peak_threads: int
    load_cpu: float  # share of one CPU during the load


@dataclass(frozen=True)
class RunReport:
    server: str
    idle_total: int
    peak_total: int
    after_total: int
    processes: list[ProcessReport]
    load: LoadResult


def _median(values: list[int]) -> int:
    return int(statistics.median(values)) if values else 0


def summarize(server: str, sampler: Sampler, load: LoadResult) -> RunReport:
    cold, idle, during, after = (sampler.in_phase(p) for p in ("cold", "idle", "load", "after"))
    processes = []
    for pid in sorted({pid for tick in sampler.ticks for pid in tick.processes}):

        def series(ticks: list[Tick], attribute: str, pid: int = pid) -> list[int]:
            return [getattr(t.processes[pid], attribute) for t in ticks if pid in t.processes]

        cpu = [(t.at, t.processes[pid].cpu) for t in during if pid in t.processes]
        span = cpu[-1][0] - cpu[0][0] if len(cpu) > 1 else 0

        processes.append(
            ProcessReport(
                pid=pid,
                role=sampler.roles.get(pid, "?"),
                cold=_median(series(cold, "rss")),
                idle=_median(series(idle, "rss")),
                peak=max(series(during, "rss"), default=0),
                after=(series(after, "rss") or [0])[-1],
                idle_anon=_median(series(idle, "anon")),
                peak_anon=max(series(during, "anon"), default=0),
                idle_file=_median(series(idle, "file")),
                peak_file=max(series(during, "file"), default=0),
                idle_threads=_median(series(idle, "threads")),
                peak_threads=max(series(during, "threads"), default=0),
                load_cpu=(cpu[-1][1] - cpu[0][1]) / span if span else 0.0,
            )
        )
    return RunReport(
        server=server,
        # Totals per tick, so the peak is one moment's sum, not a sum of separate peaks.
        idle_total=_median([tick.total for tick in idle]),
        peak_total=max((tick.total for tick in during), default=0),
        after_total=after[-1].total if after else 0,
        processes=processes,
        load=load,
    )


def measure(
    server_name: str, env: dict[str, str], scratch: Path, song: Song, args: argparse.Namespace
) -> RunReport:
    server = start_server(server_name, env, scratch, args.workers, timeout=args.start_timeout)
    sampler = Sampler(server.process.pid, interval=args.interval)
    try:
        sampler.start()
        time.sleep(args.idle_seconds)  # "cold": just started
        warm_up(server.base_url, song)
        sampler.phase = "idle"
        time.sleep(args.idle_seconds)
        sampler.phase = "load"
        plan = LoadPlan(
            pattern=args.pattern,
            min_window=int(args.min_window_mb * MIB),
            max_window=int(args.max_window_mb * MIB),
            request_timeout=args.request_timeout,
        )
        load = run_load(server.base_url, song, plan, args.clients, args.seconds)
        sampler.phase = "after"
        time.sleep(args.after_seconds)
    finally:
        sampler.stop()
        stop_server(server)
    return summarize(server_name, sampler, load)


def mib(value: int) -> str:
    return f"{value / MIB:.1f}"


def signed_mib(value: int) -> str:
    return f"{value / MIB:+.1f}"


def print_tables(reports: list[RunReport]) -> None:
    print(
        "| server | idle RSS total (MiB) | peak RSS total (MiB) | peak - idle (MiB) "
        "| after RSS total (MiB) | per-worker peak growth (MiB) | MB/s | requests | errors |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for report in reports:
        workers = [p for p in report.processes if p.role == "worker"]
        growth = ", ".join(signed_mib(p.peak - p.idle) for p in workers) or "-"
        load = report.load
        print(
            f"| {report.server} | {mib(report.idle_total)} | {mib(report.peak_total)} "
            f"| {signed_mib(report.peak_total - report.idle_total)} | {mib(report.after_total)} "
            f"| {growth} | {load.bytes / load.seconds / 1e6:.0f} | {load.requests} "
            f"| {load.errors} |"
        )
    # Where growth is: anonymous memory (heap, buffers) or file pages mapped by the process.
    print()
    print(
        "| server | pid | role | cold RSS | idle RSS | peak RSS | after RSS "
        "| anon peak - idle | file peak - idle | threads idle/peak | CPU % in load |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for report in reports:
        for p in report.processes:
            print(
                f"| {report.server} | {p.pid} | {p.role} | {mib(p.cold)} | {mib(p.idle)} "
                f"| {mib(p.peak)} | {mib(p.after)} | {signed_mib(p.peak_anon - p.idle_anon)} "
                f"| {signed_mib(p.peak_file - p.idle_file)} | {p.idle_threads}/{p.peak_threads} "
                f"| {p.load_cpu * 100:.0f} |"
            )
    print()
    for report in reports:
        print(f"{report.server}: the client used {report.load.client_cpu * 100:.0f}% of a CPU")
    for report in reports:
        examples = [example for stats in report.load.stats for example in stats.examples]
        for example in examples[:10]:  # a sample of what went wrong, not every failure
            print(f"{report.server} error: {example}", file=sys.stderr)


# --- Entry point ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10, help="load duration")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--pattern", choices=["random", "sequential"], default="random")
    parser.add_argument("--min-window-mb", type=float, default=1, help="MiB per range, least")
    parser.add_argument("--max-window-mb", type=float, default=8, help="MiB per range, most")
    parser.add_argument("--interval", type=float, default=0.1, help="RSS sampling, seconds")
    parser.add_argument("--idle-seconds", type=float, default=1.5, help="cold and idle phases")
    parser.add_argument("--after-seconds", type=float, default=2, help="sampling after load")
    parser.add_argument("--request-timeout", type=float, default=30, help="per request")
    parser.add_argument("--start-timeout", type=float, default=60, help="server startup")
    parser.add_argument(
        "--database-url", help="an existing database (e.g. PostgreSQL) instead of scratch SQLite"
    )
    # Internal: run inside a Django process with the benchmark's environment.
    parser.add_argument("--create-song", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--delete-song", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 0 < args.min_window_mb <= args.max_window_mb <= FILE_BYTES / MIB:
        parser.error("need 0 < --min-window-mb <= --max-window-mb <= 50")
    return args


def main() -> int:
    args = parse_args()
    if args.create_song:
        create_song(args.create_song)
        return 0
    if args.delete_song:
        delete_song(args.delete_song)
        return 0

    servers = SERVERS if args.server == "both" else (args.server,)
    reports = []
    with tempfile.TemporaryDirectory(prefix="stream-rss-") as scratch_name:
        scratch = Path(scratch_name)
        database_url = args.database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
        env = django_env(database_url, scratch / "media")
        song = prepare_song(env, scratch)
        try:
            print(
                f"song {song.id}: {song.size} bytes WAV; {args.clients} clients x "
                f"{args.seconds:g} s, {args.pattern} ranges of {args.min_window_mb:g}-"
                f"{args.max_window_mb:g} MiB; {args.workers} workers; "
                f"{database_url.split(':')[0]}; {os.cpu_count()} CPUs",
                flush=True,
            )
            for name in servers:
                reports.append(measure(name, env, scratch, song, args))
                print(f"{name}: done", file=sys.stderr, flush=True)
        finally:
            if args.database_url:  # the scratch SQLite goes with the temp dir
                run_django([__file__, "--delete-song", str(song.id)], env, timeout=60)
    print()
    print_tables(reports)
    failed = sum(report.load.errors for report in reports)
    if failed:
        print(f"\n{failed} requests failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
