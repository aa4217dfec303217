"""Test audio for processing/: signals made with numpy at known levels and written by
soundfile (WAV, FLAC), or encoded by ffmpeg into the other accepted formats; and the system's
ffprobe (Debian's ffmpeg, not the wheel's binary under test) as an independent reader."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.audio_signals import RATE, encoded_as


@pytest.fixture
def write_wav(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, samples: np.ndarray, *, subtype: str = "FLOAT") -> Path:
        path = tmp_path / f"{name}.wav"
        soundfile.write(path, samples, RATE, subtype=subtype)
        return path

    return write


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
