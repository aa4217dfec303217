"""The ffmpeg runner: which binary runs, and every run bounded in time and memory, as an
argument list (a name full of shell syntax is only a name)."""

import os
import shutil
import subprocess
import time

import pytest

from processing.errors import ProcessingFailed
from processing.ffmpeg import (
    FFMPEG_MISSING,
    FFMPEG_OUT_OF_MEMORY,
    FFMPEG_TIMED_OUT,
    ffmpeg_binary,
    ffmpeg_process,
    run_ffmpeg,
)
from processing.loudness import measure_loudness
from processing.renditions import RenditionFormat, make_rendition
from tests.audio_signals import noise, tone

ENDLESS_SILENCE = ["-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"]


def test_the_bundled_ffmpeg_runs_by_default(settings):
    settings.FFMPEG_BINARY = ""

    binary = ffmpeg_binary()

    assert "imageio_ffmpeg" in binary
    version = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30)
    assert version.stdout.startswith("ffmpeg version")


def test_a_setting_names_a_system_ffmpeg_instead(settings, write_wav):
    system = shutil.which("ffmpeg")
    if system is None:
        pytest.skip("no system ffmpeg (apt install ffmpeg)")
    settings.FFMPEG_BINARY = system
    path = write_wav("tone", tone(3, amplitude=0.1))

    measured = measure_loudness(path)

    assert ffmpeg_binary() == system
    # A stereo 997 Hz sine at 0.1 of full scale: 10 log10(2 x 0.1^2 / 2) = -20 LUFS (BS.1770's
    # -0.691 offset cancels the K-weighting's gain at 1 kHz).
    assert measured.integrated_lufs == pytest.approx(-20.0, abs=0.1)


def test_a_missing_binary_is_a_reason_not_a_traceback(settings, write_wav):
    settings.FFMPEG_BINARY = "/nowhere/ffmpeg"

    with pytest.raises(ProcessingFailed) as failure:
        measure_loudness(write_wav("tone", tone(1, amplitude=0.1)))

    assert failure.value.reason == FFMPEG_MISSING


def test_a_run_past_its_time_is_killed_with_its_process_group(settings):
    settings.FFMPEG_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()

    with pytest.raises(ProcessingFailed) as failure, ffmpeg_process(ENDLESS_SILENCE) as run:
        pid = run.process.pid

    assert failure.value.reason == FFMPEG_TIMED_OUT.format(seconds=0.5)
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


def test_a_run_blocked_on_its_reader_is_still_killed_on_time(settings):
    settings.FFMPEG_TIMEOUT_SECONDS = 0.5
    started = time.monotonic()

    realtime_silence = ["-re", "-f", "lavfi", "-i", "anullsrc", "-f", "s16le", "pipe:1"]

    with (  # noqa: PT012 - the blocked read is the point
        pytest.raises(ProcessingFailed) as failure,
        ffmpeg_process(realtime_silence, stdout=subprocess.PIPE) as run,
    ):
        while run.process.stdout.read(4096):
            pass

    assert failure.value.reason == FFMPEG_TIMED_OUT.format(seconds=0.5)
    assert time.monotonic() - started < 5


def test_a_run_over_its_memory_limit_stops_with_a_reason(settings):
    settings.FFMPEG_MEMORY_LIMIT_MB = 16

    with pytest.raises(ProcessingFailed) as failure:
        run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus", "-f", "null", "-"])

    assert failure.value.reason == FFMPEG_OUT_OF_MEMORY.format(megabytes=16)


def test_ffmpeg_errors_become_a_short_reason(settings):
    with pytest.raises(ProcessingFailed) as failure:
        run_ffmpeg(["-f", "lavfi", "-i", "no_such_filter", "-f", "null", "-"])

    reason = failure.value.reason
    assert reason.startswith("ffmpeg could not process the file: ")
    assert "no_such_filter" in reason
    assert "\n" not in reason


def test_a_name_full_of_shell_syntax_is_only_a_name(write_wav, tmp_path):
    source = write_wav("music", noise(2, rms=0.1))
    hostile = tmp_path / "$(touch pwned); `touch pwned2` | rm -rf x & -i.wav"
    source.rename(hostile)
    destination = tmp_path / "-y; touch pwned3.mp3"

    rendition = make_rendition(hostile, destination, RenditionFormat.MP3)

    assert rendition.path.exists()
    assert not any(path.name.startswith("pwned") for path in tmp_path.iterdir())
    assert not any(path.name.startswith("pwned") for path in tmp_path.parent.iterdir())


def test_a_relative_destination_that_reads_as_a_protocol_is_a_file(
    write_wav, tmp_path, monkeypatch
):
    source = write_wav("music", noise(2, rms=0.1))
    monkeypatch.chdir(tmp_path)

    rendition = make_rendition(source, "pipe:1", RenditionFormat.MP3)

    assert rendition.path == tmp_path / "pipe:1"
    assert (tmp_path / "pipe:1").stat().st_size == rendition.size_bytes > 10_000
