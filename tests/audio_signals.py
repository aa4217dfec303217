"""Test audio for processing/'s tests (and others that need signals at known levels):
signals made with numpy at known levels, encoded by ffmpeg (the wheel's) into the other
accepted formats, and decoded back to samples."""

import io
import subprocess
from pathlib import Path

import numpy as np
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
