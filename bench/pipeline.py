"""The media pipeline end to end on PostgreSQL: how fast K real workers process uploaded songs,
their memory, and what the pipeline does to the upload's own latency (docs/PERFORMANCE.md).

    .venv/bin/python bench/pipeline.py [--database pipeline_bench] [--songs 12] [--seconds 180]
        [--workers 1,2,3,4] [--concurrency 1] [--uploads 20] [--skip-throughput] [--skip-latency]

Makes (drops first) the PostgreSQL database `--database` at PGHOST/PGUSER (default
127.0.0.1/postgres), migrates it, and keeps every file in a temporary MEDIA_ROOT; drops the
database and the folder at the end (`--keep` keeps the database).

Throughput: for each K in `--workers`, starts K `manage.py procrastinate worker` processes
(JOBS_WORKER_CONCURRENCY=`--concurrency`, MEDIA_PIPELINE on), creates `--songs` songs of
`--seconds` of stereo 44.1 kHz FLAC through `catalog.services.song_create` (the upload's own
service: the job row commits with the song), and waits until none is `pending`. Reports the wall
time from the first upload to the last song done, songs and audio minutes per wall minute, the
workers' CPU seconds per audio minute (their own and their ffmpeg children's, from wait4, Django's
start included), the peak RSS (VmHWM) of each worker and of the largest ffmpeg child (sampled
from /proc every 100 ms), and the load average.

Latency: production's gunicorn (deploy/gunicorn.conf.py, 2 workers, DEBUG off) on `--port`;
`--uploads` sequential multipart POST /api/songs/ of one song of `--seconds` as an admin (JWT),
after 2 untimed ones, under three conditions: MEDIA_PIPELINE off; on with no worker running (the
jobs only queue); on with 2 workers busy on the backlog. Median, p95 and max of the client's
time per request. No assertions: it prints Markdown tables.
"""

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
sys.path.insert(0, str(ROOT))


def sh(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=600, stdout=subprocess.DEVNULL)


def make_song_file(path: Path, seconds: int, frequency: int) -> None:
    """A tone under pink noise (nothing an encoder can skip), stereo 44.1 kHz FLAC."""
    source = (
        f"sine=frequency={frequency}:sample_rate=44100:duration={seconds}[tone];"
        f"anoisesrc=color=pink:amplitude=0.2:sample_rate=44100:duration={seconds}[hiss];"
        "[tone][hiss]amix=inputs=2,aformat=channel_layouts=stereo"
    )
    from processing.ffmpeg import ffmpeg_binary

    subprocess.run(
        [
            *[ffmpeg_binary(), "-nostdin", "-v", "error", "-filter_complex", source],
            *["-c:a", "flac", "-y", str(path)],
        ],
        check=True,
        timeout=600,
    )


def status_fields(pid: int) -> dict[str, str]:
    with contextlib.suppress(OSError):
        text = Path(f"/proc/{pid}/status").read_text()
        return {k: v.strip() for k, v in (line.split(":", 1) for line in text.splitlines())}
    return {}


def kb(fields: dict[str, str], name: str) -> int:
    return int(fields.get(name, "0 kB").split()[0])


def descendants(roots: set[int]) -> set[int]:
    """Every live process under `roots` (ffmpeg runs in its own process group, so a group
    signal would miss it: walk the parent links instead)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = status_fields(int(entry.name))
        if "PPid" in fields:
            parents[int(entry.name)] = int(fields["PPid"])
    found: set[int] = set()
    frontier = set(roots)
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


class PeakMemory(threading.Thread):
    """Samples every 100 ms the VmHWM of the workers and of their children (ffmpeg)."""

    def __init__(self, workers: list[int]) -> None:
        super().__init__(daemon=True)
        self.workers = workers
        self.worker_peak_kb: dict[int, int] = {}
        self.child_peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            for pid in self.workers:
                peak = kb(status_fields(pid), "VmHWM")
                self.worker_peak_kb[pid] = max(self.worker_peak_kb.get(pid, 0), peak)
            for pid in descendants(set(self.workers)):
                # ffmpeg only: a child caught between fork and exec is still the worker's copy.
                fields = status_fields(pid)
                if fields.get("Name", "").startswith("ffmpeg"):
                    self.child_peak_kb = max(self.child_peak_kb, kb(fields, "VmHWM"))


def start_workers(
    count: int, env: dict[str, str], logs: Path, niceness: int = 0
) -> list[subprocess.Popen]:
    workers = []
    for number in range(count):
        log = (logs / f"worker-{len(list(logs.iterdir()))}-{number}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [PYTHON, "manage.py", "procrastinate", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
            )
        )
    return workers


def wait_for_workers(count: int, timeout: float = 60) -> None:
    """Until `count` workers have registered in procrastinate's table."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM procrastinate_workers")
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.2)
    raise SystemExit(f"{count} workers did not start in {timeout:.0f} s")


def stop_workers(workers: list[subprocess.Popen], grace: float = 60) -> float:
    """SIGTERM (a worker finishes its jobs), then SIGKILL for the worker and its ffmpeg.
    Returns the CPU seconds of the workers and of the children they waited for (wait4)."""
    children = descendants({worker.pid for worker in workers})
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            worker.send_signal(signal.SIGTERM)
    cpu = 0.0
    deadline = time.monotonic() + grace
    for worker in workers:
        while True:
            pid, _status, usage = os.wait4(worker.pid, os.WNOHANG)
            if pid:
                worker.returncode = 0
                cpu += usage.ru_utime + usage.ru_stime
                break
            if time.monotonic() > deadline:
                for straggler in {worker.pid} | children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(straggler, signal.SIGKILL)
            time.sleep(0.1)
    for straggler in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(straggler, signal.SIGKILL)
    return cpu


def kill_workers(workers: list[subprocess.Popen]) -> None:
    """Killed, not drained (a backlog kept them busy), with their ffmpeg children; the rows of
    the killed workers are removed so that the next ones are counted alone."""
    from django.db import connection

    pids = {worker.pid for worker in workers}
    for pid in pids | descendants(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for worker in workers:
        worker.wait()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers")


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def create_songs(files: list[Path], count: int, prefix: str) -> list[int]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog import services

    ids = []
    for number in range(count):
        path = files[number % len(files)]
        upload = SimpleUploadedFile(f"{prefix}-{number}.flac", path.read_bytes(), "audio/flac")
        song = services.song_create(title=f"{prefix} {number}", artist="Bench", audio_file=upload)
        ids.append(song.pk)
    return ids


def wait_until_done(ids: list[int], timeout: float = 3600) -> tuple[int, int]:
    from catalog.models import ProcessingState, Song

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = Song.objects.filter(pk__in=ids, processing_state=ProcessingState.PENDING)
        if not pending.exists():
            failed = Song.objects.filter(pk__in=ids, processing_state=ProcessingState.FAILED)
            return len(ids) - failed.count(), failed.count()
        time.sleep(0.25)
    raise SystemExit(f"songs still pending after {timeout:.0f} s")


def forget_songs(media_root: Path) -> None:
    from catalog.models import Song

    Song.objects.all().delete()
    for folder in ("songs", "renditions", "waveforms"):
        shutil.rmtree(media_root / folder, ignore_errors=True)


def throughput(arguments, env: dict[str, str], files: list[Path], media: Path, logs: Path):
    minutes = arguments.seconds / 60
    print(
        f"\n### Throughput: {arguments.songs} songs of {arguments.seconds} s FLAC, "
        f"JOBS_WORKER_CONCURRENCY={arguments.concurrency}, "
        f"FFMPEG_THREADS={env.get('FFMPEG_THREADS', '2 (default)')}\n"
    )
    print(
        "| workers | jobs at once | wall s | songs / min | audio min / wall min "
        "| CPU s per audio min | worker peak RSS MB | ffmpeg peak RSS MB | failed "
        "| load before → after |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |")
    for count in arguments.workers:
        forget_songs(media)
        load_before = load_average()
        workers = start_workers(count, env, logs)
        try:
            wait_for_workers(count)
            sampler = PeakMemory([worker.pid for worker in workers])
            sampler.start()
            started = time.monotonic()
            ids = create_songs(files, arguments.songs, f"k{count}")
            _done, failed = wait_until_done(ids)
            wall = time.monotonic() - started
            sampler.stopped.set()
            sampler.join()
        finally:
            cpu = stop_workers(workers)
        from django.db import connection

        with connection.cursor() as cursor:  # the stopped workers' rows, if any are left
            cursor.execute("DELETE FROM procrastinate_workers")
        worker_rss = ", ".join(f"{peak / 1024:.0f}" for peak in sampler.worker_peak_kb.values())
        audio_minutes = minutes * arguments.songs
        print(
            f"| {count} | {count * arguments.concurrency} | {wall:.1f} "
            f"| {arguments.songs / wall * 60:.2f} | {audio_minutes / wall * 60:.1f} "
            f"| {cpu / audio_minutes:.2f} | {worker_rss} | {sampler.child_peak_kb / 1024:.0f} "
            f"| {failed} | {load_before} → {load_average()} |",
            flush=True,
        )


def start_server(env: dict[str, str], port: int, logs: Path) -> subprocess.Popen:
    import httpx

    server = subprocess.Popen(
        [
            *[GUNICORN, "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"],
            *["-w", "2", "-b", f"127.0.0.1:{port}"],
        ],
        cwd=ROOT,
        env=env,
        stdout=(logs / f"gunicorn-{port}-{time.monotonic_ns()}.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/api/health/", timeout=2).status_code == 200:
                return server
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer on port {port} (logs: {logs})")


def stop_server(server: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def timed_uploads(port: int, token: str, song: Path, count: int) -> list[float]:
    import httpx

    body = song.read_bytes()
    times = []
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ) as client:
        for number in range(count + 2):
            started = time.perf_counter()
            answer = client.post(
                "/api/songs/",
                data={"title": f"Upload {number}", "artist": "Bench"},
                files={"audio_file": (f"upload-{number}.flac", body, "audio/flac")},
            )
            elapsed = time.perf_counter() - started
            if answer.status_code != 201:
                raise SystemExit(f"upload answered {answer.status_code}: {answer.text[:300]}")
            if number >= 2:  # the first two warm the workers up
                times.append(elapsed)
    return times


def latency(arguments, env: dict[str, str], files: list[Path], media: Path, logs: Path):
    from ninja_jwt.tokens import RefreshToken

    from catalog.models import Song
    from users.models import User

    forget_songs(media)
    admin = User.objects.create_superuser(
        email="bench-admin@example.com", password=None, full_name="Bench Admin"
    )
    token = str(RefreshToken.for_user(admin).access_token)
    size_mb = files[0].stat().st_size / 1e6
    print(
        f"\n### Upload latency: POST /api/songs/ of one {arguments.seconds} s FLAC "
        f"({size_mb:.1f} MB), {arguments.uploads} sequential uploads after 2 untimed, "
        "gunicorn 2 sync workers\n"
    )
    print("| MEDIA_PIPELINE | workers | median ms | p95 ms | max ms | jobs queued | load |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")

    def jobs_queued() -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s",
                ["processing.process_song"],
            )
            return cursor.fetchone()[0]

    # (pipeline, workers' label, MEDIA_PIPELINE, workers, their niceness)
    conditions = [("off", "none", "false", 0, 0), ("on", "none running", "true", 0, 0)]
    conditions.append(("on", "2 busy on the backlog", "true", 2, 0))
    conditions.append(("on", "2 busy on the backlog, nice 10", "true", 2, 10))
    workers: list[subprocess.Popen] = []
    try:
        for label, worker_label, pipeline, worker_count, niceness in conditions:
            server_env = {**env, "MEDIA_PIPELINE": pipeline}
            kill_workers(workers)
            workers = []
            if worker_count:
                workers = start_workers(worker_count, env, logs, niceness)
                wait_for_workers(worker_count)
            before = jobs_queued()
            server = start_server(server_env, arguments.port, logs)
            try:
                times = timed_uploads(arguments.port, token, files[0], arguments.uploads)
            finally:
                stop_server(server)
            times_ms = sorted(t * 1000 for t in times)
            p95 = times_ms[min(len(times_ms) - 1, round(0.95 * (len(times_ms) - 1)))]
            print(
                f"| {label} | {worker_label} | {statistics.median(times_ms):.0f} | {p95:.0f} "
                f"| {times_ms[-1]:.0f} | {jobs_queued() - before} | {load_average()} |",
                flush=True,
            )
    finally:
        kill_workers(workers)
    print(f"\nsongs stored by the uploads: {Song.objects.count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="pipeline_bench")
    parser.add_argument("--songs", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--workers", default="1,2,3,4")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--port", type=int, default=8802)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the temporary folder"
    )
    arguments = parser.parse_args()
    arguments.workers = [int(count) for count in arguments.workers.split(",")]

    host = os.environ.get("PGHOST", "127.0.0.1")
    user = os.environ.get("PGUSER", "postgres")
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    media, logs = work / "media", work / "logs"
    media.mkdir()
    logs.mkdir()
    # Production's settings, set explicitly so the project's .env cannot change them.
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{host}:5432/{arguments.database}",
        "MEDIA_ROOT": str(media),
        "MEDIA_PIPELINE": "true",
        "JOBS_WORKER_CONCURRENCY": str(arguments.concurrency),
        "DEBUG": "False",
        "SECURE_SSL_REDIRECT": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SERVE_MEDIA": "False",
        "MEDIA_ACCEL_REDIRECT": "",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    createdb = ["-h", host, "-U", user]
    sh(["dropdb", "--if-exists", *createdb, arguments.database], env)
    sh(["createdb", *createdb, arguments.database], env)
    try:
        sh([PYTHON, "manage.py", "migrate", "-v", "0"], env)
        import django

        django.setup()
        from django.db import connection

        files = []
        for number in range(4):  # four different songs, uploaded in turn
            files.append(work / f"song-{number}.flac")
            make_song_file(files[-1], arguments.seconds, 220 + 110 * number)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
        print(f"{version}, {os.cpu_count()} CPUs, load {load_average()}")
        if not arguments.skip_throughput:
            throughput(arguments, env, files, media, logs)
        if not arguments.skip_latency:
            latency(arguments, env, files, media, logs)
        connection.close()
    finally:
        if not arguments.keep:
            sh(["dropdb", "--if-exists", "--force", *createdb, arguments.database], env)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
