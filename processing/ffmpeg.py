"""Running ffmpeg: which binary, and every run bounded in time, memory, threads and output.

The binary is the one shipped in the imageio-ffmpeg wheel (a dependency of the project, so a
fresh install needs nothing from the system) unless FFMPEG_BINARY names another. Every command
is an argument list (never a shell string); the child gets an address-space cap (RLIMIT_AS), a
file-size cap (RLIMIT_FSIZE), no core dumps, small thread stacks and two malloc arenas (so
that the address-space cap counts memory, not reservations), and its own process group, killed whole
when the wall-clock deadline passes. stderr goes to a temporary file (never a pipe that could
fill up and stall the child), and its tail becomes the reason of a failure.
"""

import os
import resource
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from typing import IO

from django.conf import settings

from processing.errors import ProcessingFailed

# The largest file ffmpeg may write (a rendition of the longest accepted audio at 256 kbit/s
# is about 460 MB): a runaway encoder is stopped by the kernel, not by the disk filling up.
OUTPUT_MAX_BYTES = 1024 * 1024 * 1024
# Under RLIMIT_AS what counts is address space reserved, not memory used: each thread's stack
# (glibc sizes it by RLIMIT_STACK, 8 MB by default) and each malloc arena (64 MB, one per
# thread by default) count whole. ffmpeg runs a few threads per input, and an album is
# measured with one input per track: at 8 MB and an arena per thread an album of 6 tracks
# could pass 1 GB, with these an album of 100 tracks stays under it.
THREAD_STACK_BYTES = 2 * 1024 * 1024
MALLOC_ARENAS = "2"
# How much of stderr's end is kept to explain a failure.
STDERR_TAIL_BYTES = 16 * 1024
# The lines of stderr quoted in a failure's reason.
REASON_LINES = 3

# What ffmpeg prints when an allocation or a thread's stack did not fit under RLIMIT_AS.
_OUT_OF_MEMORY_SIGNS = ("Cannot allocate memory", "pthread_create() failed")

FFMPEG_MISSING = "ffmpeg is not available: install imageio-ffmpeg or set FFMPEG_BINARY."
FFMPEG_TIMED_OUT = "ffmpeg took longer than {seconds:g} s and was stopped."
FFMPEG_OUT_OF_MEMORY = "ffmpeg needed more than {megabytes} MB of memory and was stopped."
FFMPEG_NOT_STARTED = "ffmpeg could not be started: {error}."
FFMPEG_FAILED = "ffmpeg could not process the file: {detail}"


@cache
def _bundled_ffmpeg() -> str:
    import imageio_ffmpeg  # imported late: only a run needs it

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_binary() -> str:
    """The ffmpeg that runs: FFMPEG_BINARY when set, else the wheel's."""
    configured = settings.FFMPEG_BINARY
    if configured:
        if not os.access(configured, os.X_OK):
            raise ProcessingFailed(FFMPEG_MISSING)
        return configured
    try:
        return _bundled_ffmpeg()
    except (ImportError, RuntimeError) as error:
        raise ProcessingFailed(FFMPEG_MISSING) from error


def base_arguments(loglevel: str = "error") -> list[str]:
    """What starts every command: no stdin (a child never waits on a terminal), no banner, no
    progress lines, only the messages of `loglevel` and up, and the thread count bounded."""
    return [
        ffmpeg_binary(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        loglevel,
        "-threads",
        str(settings.FFMPEG_THREADS),
    ]


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float
    memory_megabytes: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            timeout_seconds=settings.FFMPEG_TIMEOUT_SECONDS,
            memory_megabytes=settings.FFMPEG_MEMORY_LIMIT_MB,
        )


def _limit_child(memory_bytes: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_MAX_BYTES, OUTPUT_MAX_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _, stack_hard = resource.getrlimit(resource.RLIMIT_STACK)
        if stack_hard == resource.RLIM_INFINITY or stack_hard >= THREAD_STACK_BYTES:
            resource.setrlimit(resource.RLIMIT_STACK, (THREAD_STACK_BYTES, stack_hard))

    return apply


@dataclass
class FfmpegRun:
    process: subprocess.Popen
    stderr: str = ""  # the tail of what ffmpeg printed, once it has finished


@contextmanager
def ffmpeg_process(
    arguments: Sequence[str],
    *,
    limits: Limits | None = None,
    loglevel: str = "error",
    stdout: int | None = None,
) -> Iterator[FfmpegRun]:
    """Start ffmpeg with `arguments` (after base_arguments) under `limits`; on leaving, wait
    for it and raise ProcessingFailed if it failed, overran its time or ran out of memory.

    With stdout=subprocess.PIPE the caller reads the output as it comes: the deadline kills
    the process group even while the caller is blocked on a read.
    """
    limits = limits or Limits.from_settings()
    command = [*base_arguments(loglevel), *arguments]
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(  # noqa: S603 - an argument list, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=stdout if stdout is not None else subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=_limit_child(limits.memory_megabytes * 1024 * 1024),
                env={**os.environ, "MALLOC_ARENA_MAX": MALLOC_ARENAS},
                start_new_session=True,
            )
        except MemoryError as error:  # exec itself did not fit under RLIMIT_AS
            raise ProcessingFailed(
                FFMPEG_OUT_OF_MEMORY.format(megabytes=limits.memory_megabytes)
            ) from error
        except OSError as error:
            raise ProcessingFailed(FFMPEG_NOT_STARTED.format(error=error.strerror)) from error
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            _kill_group(process)

        watchdog = threading.Timer(limits.timeout_seconds, stop)
        watchdog.daemon = True
        watchdog.start()
        run = FfmpegRun(process)
        try:
            yield run
            if process.stdout is not None:
                _drain(process.stdout)
            returncode = process.wait()
        except BaseException:
            _kill_group(process)
            process.wait()
            raise
        finally:
            watchdog.cancel()
            if process.stdout is not None:
                process.stdout.close()
        run.stderr = _tail(stderr)
    if timed_out.is_set():
        raise ProcessingFailed(FFMPEG_TIMED_OUT.format(seconds=limits.timeout_seconds))
    if returncode != 0:
        raise ProcessingFailed(_failure_reason(run.stderr, returncode, limits))


def run_ffmpeg(
    arguments: Sequence[str], *, limits: Limits | None = None, loglevel: str = "error"
) -> str:
    """Run ffmpeg to completion; answer the tail of its stderr (where filters print summaries)."""
    with ffmpeg_process(arguments, limits=limits, loglevel=loglevel) as run:
        pass
    return run.stderr


def _kill_group(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _drain(stream: IO[bytes]) -> None:
    while stream.read(64 * 1024):
        pass


def _tail(log: IO[bytes]) -> str:
    log.seek(0, os.SEEK_END)
    size = log.tell()
    log.seek(max(0, size - STDERR_TAIL_BYTES))
    return log.read().decode("utf-8", errors="replace")


def _failure_reason(stderr: str, returncode: int, limits: Limits) -> str:
    # Past RLIMIT_AS an allocation fails: ffmpeg says so, or dies of the signal it causes.
    if any(sign in stderr for sign in _OUT_OF_MEMORY_SIGNS) or returncode in (
        -signal.SIGSEGV,
        -signal.SIGABRT,
    ):
        return FFMPEG_OUT_OF_MEMORY.format(megabytes=limits.memory_megabytes)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    detail = " / ".join(lines[-REASON_LINES:]) or "it stopped without saying why."
    return FFMPEG_FAILED.format(detail=detail)
