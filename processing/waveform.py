"""Waveform peaks in the BBC audiowaveform JSON format, version 2, for a seek bar.

ffmpeg decodes the file to mono 16-bit PCM at WAVEFORM_SAMPLE_RATE on a pipe; the samples are
read a bounded chunk at a time (memory stays flat however long the file), each block of
`samples_per_pixel` samples gives its minimum and maximum, scaled to 8 bits (the 16-bit value
shifted right by 8, as audiowaveform's `-b 8` does).

samples_per_pixel: the file's declared length over MAX_POINTS, and never under
MIN_SAMPLES_PER_PIXEL (audiowaveform's default, 256), so a song gives at most MAX_POINTS
points: a 3-minute song about 2,000 (4 KB of numbers), a 10-second clip about 1,700. If the
decoded audio turns out longer than declared, neighbouring blocks are merged (the minimum of
their minima, the maximum of their maxima) until it fits again.
"""

import math
import subprocess
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from processing.ffmpeg import ffmpeg_process
from processing.source import check_decoded_length, inspect_source

WAVEFORM_SAMPLE_RATE = 44100
MAX_POINTS = 2000
MIN_SAMPLES_PER_PIXEL = 256
# Blocks read from the pipe at a time: 512 KB of PCM at 4,096 samples per pixel.
BLOCKS_PER_READ = 64


def samples_per_pixel_for(seconds: float) -> int:
    return max(MIN_SAMPLES_PER_PIXEL, math.ceil(seconds * WAVEFORM_SAMPLE_RATE / MAX_POINTS))


def waveform(path: Path | str) -> dict[str, Any]:
    """The audiowaveform JSON (version 2, one channel, 8 bits) of an audio file, as a dict."""
    audio = inspect_source(path)
    samples_per_pixel = samples_per_pixel_for(audio.declared_seconds)
    minima: list[np.ndarray] = []
    maxima: list[np.ndarray] = []
    chunk_bytes = samples_per_pixel * BLOCKS_PER_READ * 2
    decoded_samples = 0
    with ffmpeg_process(
        [
            *audio.input_arguments(),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(WAVEFORM_SAMPLE_RATE),
            "-f",
            "s16le",
            "-c:a",
            "pcm_s16le",
            "pipe:1",
        ],
        stdout=subprocess.PIPE,
    ) as run:
        assert run.process.stdout is not None
        buffer = bytearray(chunk_bytes)  # one buffer, refilled: memory stays flat
        while filled := _fill(run.process.stdout, buffer):
            samples = np.frombuffer(buffer, dtype="<i2", count=filled // 2)
            decoded_samples += len(samples)
            blocks = _blocks(samples, samples_per_pixel)
            minima.append(blocks.min(axis=1))
            maxima.append(blocks.max(axis=1))
    check_decoded_length(
        decoded_seconds=decoded_samples / WAVEFORM_SAMPLE_RATE,
        declared_seconds=audio.declared_seconds,
    )
    low = np.concatenate(minima) if minima else np.zeros(0, dtype="<i2")
    high = np.concatenate(maxima) if maxima else np.zeros(0, dtype="<i2")
    if len(low) > MAX_POINTS:
        factor = math.ceil(len(low) / MAX_POINTS)
        low, high = _merge(low, factor, np.min), _merge(high, factor, np.max)
        samples_per_pixel *= factor
    data = np.empty(2 * len(low), dtype=np.int64)
    data[0::2] = low.astype(np.int64) >> 8
    data[1::2] = high.astype(np.int64) >> 8
    return {
        "version": 2,
        "channels": 1,
        "sample_rate": WAVEFORM_SAMPLE_RATE,
        "samples_per_pixel": samples_per_pixel,
        "bits": 8,
        "length": len(low),
        "data": data.tolist(),
    }


def _fill(stream: BinaryIO, buffer: bytearray) -> int:
    """Fill `buffer` from the pipe (which may answer a read with less before its end); answer
    how many bytes it holds, fewer than its size only at the end of the stream."""
    view, filled = memoryview(buffer), 0
    while filled < len(buffer):
        count = stream.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


def _blocks(samples: np.ndarray, samples_per_pixel: int) -> np.ndarray:
    """The samples as rows of samples_per_pixel (a view, no copy); a short last row is padded
    with its own last sample (which changes neither its minimum nor its maximum)."""
    if len(samples) % samples_per_pixel == 0:
        return samples.reshape(-1, samples_per_pixel)
    rows = math.ceil(len(samples) / samples_per_pixel)
    padded = np.resize(samples, rows * samples_per_pixel)
    padded[len(samples) :] = samples[-1]
    return padded.reshape(rows, samples_per_pixel)


def _merge(values: np.ndarray, factor: int, reduce) -> np.ndarray:
    rows = math.ceil(len(values) / factor)
    padded = np.resize(values, rows * factor)
    padded[len(values) :] = values[-1]
    return reduce(padded.reshape(rows, factor), axis=1)
