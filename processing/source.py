"""What a source file is, checked before ffmpeg sees it.

The file must pass the catalog's own verification (catalog/audio.py: the format from the bytes
alone, a truncated MP3 or WAV refused, a length required) and declare no more audio than
PROCESSING_MAX_DURATION_SECONDS. ffmpeg is then told the demuxer to use instead of guessing
from the content: a file that only looks like audio to ffmpeg's probe (a playlist that points
at other files or at URLs, say) is never opened as anything else.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File

from catalog.audio import verify_audio
from core.errors import DomainError
from processing.errors import ProcessingFailed

# The catalog's content type of a verified file -> the ffmpeg demuxer that reads it.
DEMUXERS = {
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/wav": "wav",
    "audio/mp4": "mov",
    "audio/aac": "aac",
}

SOURCE_MISSING = "The audio file {name} does not exist."
DECODED_SHORT = (
    "Only {decoded:.1f} s of the {declared:g} s the audio declares could be decoded: the file "
    "is truncated or damaged."
)
# How much less audio than declared a decoder may find (a declared length is rounded to whole
# seconds; encoders pad or trim a frame or two) before the file counts as damaged.
MISSING_SECONDS_TOLERATED = 1.5
MISSING_SHARE_TOLERATED = 0.01
SOURCE_TOO_LONG = "The audio declares {seconds} s, more than the {limit} s this server processes."


@dataclass(frozen=True)
class SourceAudio:
    path: Path
    demuxer: str  # ffmpeg's name for the container, from the bytes
    declared_seconds: int  # the length the file declares (whole seconds, at least 1)

    def input_arguments(self, *, start_seconds: float = 0.0) -> list[str]:
        """ffmpeg's arguments to read this file: local files only, the demuxer forced."""
        seek = ["-ss", f"{start_seconds:.3f}"] if start_seconds > 0 else []
        return [*seek, "-protocol_whitelist", "file", "-f", self.demuxer, "-i", str(self.path)]


def inspect_source(path: Path | str) -> SourceAudio:
    """Check a local audio file and say how ffmpeg is to read it; ProcessingFailed if not."""
    path = Path(path)
    if not path.is_file():
        raise ProcessingFailed(SOURCE_MISSING.format(name=path.name))
    with path.open("rb") as handle:
        try:
            verified = verify_audio(File(handle, name=path.name))
        except DomainError as error:
            raise ProcessingFailed(error.detail) from error
    if verified.duration > settings.PROCESSING_MAX_DURATION_SECONDS:
        raise ProcessingFailed(
            SOURCE_TOO_LONG.format(
                seconds=verified.duration, limit=settings.PROCESSING_MAX_DURATION_SECONDS
            )
        )
    return SourceAudio(
        path=path.resolve(),
        demuxer=DEMUXERS[verified.content_type],
        declared_seconds=verified.duration,
    )


def check_decoded_length(*, decoded_seconds: float, declared_seconds: float) -> None:
    """Refuse audio of which ffmpeg decoded much less than the file declares: ffmpeg skips
    damaged frames and ends a truncated file early, and exits 0 all the same."""
    missing = declared_seconds - decoded_seconds
    if missing > MISSING_SECONDS_TOLERATED + MISSING_SHARE_TOLERATED * declared_seconds:
        raise ProcessingFailed(
            DECODED_SHORT.format(decoded=max(0.0, decoded_seconds), declared=declared_seconds)
        )
