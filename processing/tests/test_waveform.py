"""Waveform peaks in audiowaveform's JSON (version 2), loaded and resampled by the npm package
waveform-data (BBC's reader, written by no one here); the peaks against the signal's known
amplitude; memory flat on a long file. `make install-dev` installs waveform-data with `npm ci`
into processing/tests/node/ from the committed lock file; without Node.js those tests skip."""

import json
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from processing.ffmpeg import ffmpeg_binary
from processing.waveform import (
    MAX_POINTS,
    MIN_SAMPLES_PER_PIXEL,
    WAVEFORM_SAMPLE_RATE,
    samples_per_pixel_for,
    waveform,
)
from tests.audio_signals import RATE, tone
from tests.node_scripts import node_with, run_node_script

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    return node_with("waveform-data", NODE_DIR)


def test_the_waveform_is_audiowaveform_json_version_2(write_wav):
    peaks = waveform(write_wav("tone", tone(3, amplitude=0.5)))

    assert set(peaks) == {
        "version", "channels", "sample_rate", "samples_per_pixel", "bits", "length", "data"
    }  # fmt: skip
    assert (peaks["version"], peaks["channels"], peaks["bits"]) == (2, 1, 8)
    assert peaks["sample_rate"] == WAVEFORM_SAMPLE_RATE
    assert peaks["samples_per_pixel"] == MIN_SAMPLES_PER_PIXEL  # a short clip
    assert peaks["length"] == -(-3 * WAVEFORM_SAMPLE_RATE // MIN_SAMPLES_PER_PIXEL)
    assert len(peaks["data"]) == 2 * peaks["length"]
    minima, maxima = peaks["data"][0::2], peaks["data"][1::2]
    assert all(low <= high for low, high in zip(minima, maxima, strict=True))
    # 0.5 of full scale in 8 bits is 64 (127 up, -128 down); every block holds a whole cycle.
    assert max(maxima) == pytest.approx(63, abs=1)
    assert min(minima) == pytest.approx(-64, abs=1)
    assert json.loads(json.dumps(peaks)) == peaks  # plain JSON types


def test_quiet_and_loud_parts_show_where_they_are(write_wav):
    quiet, loud = tone(2, amplitude=0.05), tone(2, amplitude=0.9)
    peaks = waveform(write_wav("steps", np.concatenate([quiet, loud])))

    maxima = peaks["data"][1::2]
    half = len(maxima) // 2
    assert max(maxima[: half - 2]) <= 7
    assert min(maxima[half + 2 : -1]) >= 110  # the last block holds a few samples only


@pytest.mark.parametrize(
    ("seconds", "samples_per_pixel"),
    [(3, 256), (11.6, 256), (60, 1323), (180, 3969), (3600, 79380)],
)
def test_samples_per_pixel_keeps_a_song_within_the_seek_bar(seconds, samples_per_pixel):
    assert samples_per_pixel_for(seconds) == samples_per_pixel
    assert seconds * WAVEFORM_SAMPLE_RATE / samples_per_pixel <= MAX_POINTS


def long_flac(tmp_path: Path, seconds: int) -> Path:
    path = tmp_path / "long.flac"
    subprocess.run(
        [
            *(ffmpeg_binary(), "-nostdin", "-v", "error", "-f", "lavfi", "-i"),
            *(f"sine=frequency=220:sample_rate={RATE}:duration={seconds}", "-y", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


def test_a_long_file_gives_at_most_max_points_with_flat_memory(tmp_path):
    seconds = 240  # 21 MB of 16-bit PCM at 44.1 kHz, if it were ever held whole
    path = long_flac(tmp_path, seconds)

    tracemalloc.start()
    try:
        peaks = waveform(path)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peaks["length"] <= MAX_POINTS
    assert peaks["length"] * peaks["samples_per_pixel"] >= seconds * WAVEFORM_SAMPLE_RATE
    assert peak_bytes < 2 * 1024 * 1024  # a tenth of the decoded audio


def test_waveform_data_loads_and_resamples_the_json(node, write_wav, tmp_path):
    peaks = waveform(write_wav("tone", tone(4, amplitude=0.5)))
    path = tmp_path / "waveform.json"
    path.write_text(json.dumps(peaks))

    run = run_node_script(node, NODE_DIR / "resample.mjs", str(path), "100")

    assert run.returncode == 0, run.stderr
    read = json.loads(run.stdout)
    assert (read["channels"], read["bits"]) == (1, 8)
    assert read["sampleRate"] == WAVEFORM_SAMPLE_RATE
    assert read["scale"] == peaks["samples_per_pixel"]
    assert read["length"] == peaks["length"]
    assert read["duration"] == pytest.approx(4.0, abs=0.01)
    assert (read["min"], read["max"]) == (min(peaks["data"]), max(peaks["data"]))
    assert read["resampled"]["length"] in (100, 101)  # its scale is a whole number
    assert read["resampled"]["scale"] > peaks["samples_per_pixel"]
    assert (read["resampled"]["min"], read["resampled"]["max"]) == (read["min"], read["max"])
