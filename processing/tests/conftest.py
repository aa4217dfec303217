"""Test audio for processing/: signals made with numpy at known levels and written by
soundfile (WAV, FLAC), or encoded by ffmpeg into the other accepted formats; and the system's
ffprobe (Debian's ffmpeg, not the wheel's binary under test) as an independent reader."""

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from processing.ffmpeg import ffmpeg_binary

RATE = 48000
# ffmpeg's arguments to encode a WAV into each accepted input format.
INPUT_ENCODINGS = {
    "wav": [],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "160k", "-f", "mp3"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"],
    "opus": ["-c:a", "libopus", "-b:a", "96k", "-f", "ogg"],
    "m4a": ["-c:a", "aac", "-b:a", "160k", "-f", "ipod"],
}


def tone(seconds: float, *, amplitude: float, frequency: float = 997.0, channels: int = 2):
    time = np.arange(int(seconds * RATE)) / RATE
    wave = amplitude * np.sin(2 * np.pi * frequency * time)
    return np.repeat(wave[:, None], channels, axis=1)


def noise(seconds: float, *, rms: float, channels: int = 2, seed: int = 21):
    generator = np.random.default_rng(seed)
    samples = generator.normal(0.0, rms, size=(int(seconds * RATE), channels))
    return np.clip(samples, -1.0, 1.0)


@pytest.fixture
def write_wav(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, samples: np.ndarray, *, subtype: str = "FLOAT") -> Path:
        path = tmp_path / f"{name}.wav"
        soundfile.write(path, samples, RATE, subtype=subtype)
        return path

    return write


def encoded_as(wav: Path, extension: str) -> Path:
    """A WAV encoded into one of INPUT_ENCODINGS beside it, by ffmpeg (the wheel's)."""
    if extension == "wav":
        return wav
    path = wav.with_suffix(f".{extension}")
    subprocess.run(
        [
            *(ffmpeg_binary(), "-nostdin", "-v", "error", "-i", str(wav)),
            *INPUT_ENCODINGS[extension],
            *("-y", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture
def encode() -> Callable[[Path, str], Path]:
    return encoded_as


@pytest.fixture(scope="session")
def ffprobe() -> Callable[[Path], dict]:
    binary = shutil.which("ffprobe")
    if binary is None:
        pytest.skip("ffprobe is not installed (apt install ffmpeg): it is the independent reader")

    def probe(path: Path) -> dict:
        run = subprocess.run(
            [binary, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(run.stdout)

    return probe


def decoded(path: Path) -> np.ndarray:
    """A file's samples as floats at RATE, as ffmpeg decodes them (channels kept)."""
    run = subprocess.run(
        [
            *(ffmpeg_binary(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0"),
            *("-ar", str(RATE), "-f", "wav", "-c:a", "pcm_f32le", "pipe:1"),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    samples, _ = soundfile.read(io.BytesIO(run.stdout))
    return samples
