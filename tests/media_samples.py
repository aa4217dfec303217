"""Real files for uploads: encoded audio from catalog/tests/files, a generated WAV, a PNG."""

import io
from functools import cache
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.demo import melody_wav

FILES = Path(__file__).resolve().parent.parent / "catalog" / "tests" / "files"


@cache
def audio_bytes(name: str) -> bytes:
    """A real encoded file from `FILES` (tone.mp3, tone.ogg, tone.opus, tone.flac, tone.m4a)."""
    return (FILES / name).read_bytes()


@cache
def wav_bytes(seconds: float = 1.0) -> bytes:
    return melody_wav((0, 4), note_seconds=seconds / 2)


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type)


def stored_files(settings) -> list[Path]:
    return sorted(path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


def media_path(settings, name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name
