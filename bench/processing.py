"""ffmpeg's cost per minute of audio for each job of processing/ (docs/PROCESSING.md).

    .venv/bin/python bench/processing.py [--seconds 120] [--input flac|mp3|wav] [--runs 3]

Makes its own input in a temporary folder: `--seconds` of a stereo 44.1 kHz tone under noise
(nothing an encoder can skip), encoded as `--input`. Then runs each job `--runs` times, each
time in a fresh forked process, and reads that process's children's resource usage
(getrusage(RUSAGE_CHILDREN)): the CPU seconds (user + system) ffmpeg spent; and the peak
resident memory of the ffmpeg child (VmHWM sampled from /proc every 10 ms), and of the
forked Python process (which holds the waveform's buffer; most of it is Django, imported).
Prints a Markdown table with the median run: CPU seconds per minute of audio, wall seconds,
peak RSS. FFMPEG_THREADS and FFMPEG_BINARY apply as in the app.
"""

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-bench-secret-key-bench-0123456789")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from processing.ffmpeg import ffmpeg_binary  # noqa: E402
from processing.loudness import measure_album_loudness, measure_loudness  # noqa: E402
from processing.renditions import RenditionFormat, make_rendition  # noqa: E402
from processing.waveform import waveform  # noqa: E402

ENCODINGS = {
    "flac": ["-c:a", "flac"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "256k"],
    "wav": ["-c:a", "pcm_s16le"],
}


@dataclass(frozen=True)
class Usage:
    ffmpeg_cpu_seconds: float
    wall_seconds: float
    ffmpeg_max_rss_mb: float
    python_max_rss_mb: float


def make_input(folder: Path, seconds: int, kind: str) -> Path:
    path = folder / f"input.{kind}"
    source = (
        f"sine=frequency=330:sample_rate=44100:duration={seconds}[tone];"
        f"anoisesrc=color=pink:amplitude=0.2:sample_rate=44100:duration={seconds}[hiss];"
        "[tone][hiss]amix=inputs=2,aformat=channel_layouts=stereo"
    )
    subprocess.run(
        [ffmpeg_binary(), "-nostdin", "-v", "error", "-filter_complex", source]
        + ENCODINGS[kind]
        + ["-y", str(path)],
        check=True,
        timeout=600,
    )
    return path


class ChildPeakMemory(threading.Thread):
    """Samples the peak RSS (VmHWM) of this process's children every 10 ms. getrusage's
    ru_maxrss would count the forked Python before it became ffmpeg (subprocess forks for
    preexec_fn), so /proc is read instead; VmHWM starts afresh at exec."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        parent = str(os.getpid())
        while not self.stopped.wait(0.01):
            for status in Path("/proc").glob("[0-9]*/status"):
                with contextlib.suppress(OSError):
                    fields = dict(
                        line.split(":", 1)
                        for line in status.read_text().splitlines()
                        if ":" in line
                    )
                    if fields.get("PPid", "").strip() == parent and "VmHWM" in fields:
                        self.peak_kb = max(self.peak_kb, int(fields["VmHWM"].split()[0]))


def measured(job: Callable[[], object]) -> Usage:
    """Runs in a fresh forked process: its children are the job's ffmpeg runs alone."""
    sampler = ChildPeakMemory()
    sampler.start()
    started = time.monotonic()
    job()
    wall = time.monotonic() - started
    sampler.stopped.set()
    sampler.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return Usage(
        ffmpeg_cpu_seconds=children.ru_utime + children.ru_stime,
        wall_seconds=wall,
        ffmpeg_max_rss_mb=sampler.peak_kb / 1024,
        python_max_rss_mb=own.ru_maxrss / 1024,
    )


def in_fresh_process(job: Callable[[], object]) -> Usage:
    """Fork, run the job in the child and read its Usage back through a pipe."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        try:
            usage = measured(job)
            os.write(writer, json.dumps(asdict(usage)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as answer:
        payload = answer.read()
    os.waitpid(pid, 0)
    if not payload:
        raise SystemExit("a job failed in its forked process (its error is above)")
    return Usage(**json.loads(payload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--input", choices=sorted(ENCODINGS), default="flac")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        source = make_input(Path(folder), arguments.seconds, arguments.input)
        jobs: dict[str, Callable[[], object]] = {
            f"rendition {rendition_format.name.lower()}": (
                lambda rendition_format=rendition_format: make_rendition(
                    source,
                    Path(folder) / f"out.{rendition_format.value.extension}",
                    rendition_format,
                )
            )
            for rendition_format in RenditionFormat
        }
        jobs["loudness (track)"] = lambda: measure_loudness(source)
        jobs["loudness (album of 2, twice the audio)"] = lambda: measure_album_loudness(
            [source, source]
        )
        jobs["waveform"] = lambda: waveform(source)

        minutes = arguments.seconds / 60
        print(
            f"{arguments.seconds} s of {arguments.input} input, FFMPEG_THREADS="
            f"{settings.FFMPEG_THREADS}, ffmpeg {ffmpeg_binary()}, median of {arguments.runs} "
            "runs\n"
        )
        print(
            "| job | ffmpeg CPU s per minute of audio | wall s | ffmpeg peak RSS MB "
            "| Python peak RSS MB |"
        )
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, job in jobs.items():
            runs = [in_fresh_process(job) for _ in range(arguments.runs)]
            audio_minutes = minutes * (2 if "album" in name else 1)
            cpu = statistics.median(run.ffmpeg_cpu_seconds for run in runs) / audio_minutes
            wall = statistics.median(run.wall_seconds for run in runs)
            rss = statistics.median(run.ffmpeg_max_rss_mb for run in runs)
            python_rss = statistics.median(run.python_max_rss_mb for run in runs)
            print(f"| {name} | {cpu:.2f} | {wall:.2f} | {rss:.0f} | {python_rss:.0f} |")


if __name__ == "__main__":
    main()
