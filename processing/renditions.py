"""Renditions: a source file re-encoded for streaming, each a complete file or none at all.

- Opus 128 kbit/s in Ogg;
- AAC-LC 256 kbit/s in MP4 (M4A) with `+faststart`: the index (moov) before the audio (mdat),
  so a player can seek from the first bytes it gets;
- MP3 192 kbit/s with its Xing/Info header (ffmpeg's mp3 muxer writes it when the output is
  seekable: a file, never a pipe), so a player knows its length and can seek.

ffmpeg writes to a temporary file beside the destination, which is moved into place only once
ffmpeg has finished and the result reads as audio: a failure leaves nothing at the destination.
"""

import enum
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from mutagen import File as MutagenFile
from mutagen import MutagenError

from processing.errors import ProcessingFailed
from processing.ffmpeg import run_ffmpeg
from processing.source import check_decoded_length, inspect_source

RENDITION_UNREADABLE = "ffmpeg finished but its {format} rendition cannot be read back."


@dataclass(frozen=True)
class Encoding:
    extension: str
    content_type: str
    arguments: tuple[str, ...]  # codec, bitrate and muxer


class RenditionFormat(enum.Enum):
    OPUS = Encoding("opus", "audio/ogg", ("-c:a", "libopus", "-b:a", "128k", "-f", "ogg"))
    AAC = Encoding(
        "m4a",
        "audio/mp4",
        ("-c:a", "aac", "-b:a", "256k", "-movflags", "+faststart", "-f", "ipod"),
    )
    MP3 = Encoding(
        "mp3",
        "audio/mpeg",
        # MPEG-1 Layer III at 44.1 kHz whatever the source rate: 192k is beyond MPEG-2's rates
        # (sources under 32 kHz), whose frames ffprobe then counts 100 ms long.
        ("-c:a", "libmp3lame", "-b:a", "192k", "-ar", "44100", "-write_xing", "1", "-f", "mp3"),
    )


@dataclass(frozen=True)
class Rendition:
    path: Path
    format: RenditionFormat
    duration_seconds: float  # as the written file declares it
    size_bytes: int


def make_rendition(
    source: Path | str,
    destination: Path | str,
    rendition_format: RenditionFormat,
    *,
    start_seconds: float = 0.0,
) -> Rendition:
    """Encode `source` into `destination` (replaced if present) in `rendition_format`.

    `start_seconds` starts the rendition that far into the source (a Subsonic `timeOffset`).
    Raises ProcessingFailed with a reason; then `destination` is as it was.
    """
    audio = inspect_source(source)
    # Absolute, so ffmpeg never reads a name such as "pipe:x" or "tcp:x" as a protocol.
    destination = Path(destination).resolve()
    encoding = rendition_format.value
    handle, partial_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    os.close(handle)
    partial = Path(partial_name)
    try:
        run_ffmpeg(
            [
                *audio.input_arguments(start_seconds=start_seconds),
                # The first audio stream only: no cover art (a video stream), no subtitles.
                "-map",
                "0:a:0",
                "-vn",
                "-sn",
                "-dn",
                *encoding.arguments,
                "-y",
                str(partial),
            ]
        )
        duration = _written_duration(partial, rendition_format)
        check_decoded_length(
            decoded_seconds=duration, declared_seconds=audio.declared_seconds - start_seconds
        )
        # mkstemp makes the file private; a rendition is served like any upload.
        os.chmod(partial, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Rendition(
        path=destination,
        format=rendition_format,
        duration_seconds=duration,
        size_bytes=destination.stat().st_size,
    )


def _written_duration(path: Path, rendition_format: RenditionFormat) -> float:
    try:
        written = MutagenFile(path)
    except (MutagenError, OSError, ValueError) as error:
        raise ProcessingFailed(RENDITION_UNREADABLE.format(format=rendition_format.name)) from error
    if written is None:
        raise ProcessingFailed(RENDITION_UNREADABLE.format(format=rendition_format.name))
    return float(written.info.length or 0.0)
