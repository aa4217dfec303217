"""Audio, told apart by its bytes and checked whole (its content types: core/files/content_types).

The format comes from the bytes alone (never the name or the client's content type); an MP3's
frames and a WAV's RIFF chunks are walked so that a truncated file is refused, reading a
chunk at a time so that memory stays flat for large uploads.
"""

import math
import struct
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from mutagen import FileType, MutagenError
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3, BitrateMode, MPEGInfo
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from core.errors import Invalid
from core.files.content_types import AUDIO_CONTENT_TYPES
from core.files.object_storage import is_bucket
from core.files.uploads import check_size, rename_upload

AUDIO_NOT_READABLE = (
    "The file is not audio in an accepted format (MP3, Ogg Vorbis, Opus, FLAC, WAV or M4A/AAC)."
)
AUDIO_TRUNCATED = "The audio file is truncated: its last frames are missing."
AUDIO_NO_LENGTH = "The audio has no length."

# WAVE format tags a player can decode: PCM, IEEE float and the extensible header.
WAVE_PLAYABLE_FORMATS = {0x0001, 0x0003, 0xFFFE}
# Bytes read at a time while walking MPEG frames: memory stays flat for large uploads.
_READ_CHUNK = 64 * 1024
# An MP3 may hold this much less audio than its Xing or VBRI header declares (encoders
# disagree by a frame or two); more, and frames are missing: it is truncated.
MPEG_LENGTH_TOLERANCE = 0.1
# Tags that may follow the last MPEG frame: ID3v1, APEv2, Lyrics3.
_MPEG_TRAILING_TAGS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN")


@dataclass(frozen=True)
class VerifiedAudio:
    upload: UploadedFile  # renamed to a generated name with the right extension
    duration: int  # whole seconds, at least 1
    content_type: str
    lyrics: str | None = None  # the file's own, as text (an LRC when they are synced)


def verify_audio(upload: UploadedFile, *, field: str = "audio_file") -> VerifiedAudio:
    """Accept an upload only if mutagen reads it as an allowed audio format with a length.

    The format is chosen from the bytes alone (never the name or the client's content type);
    mutagen reads headers through the file object, so a large upload stays on disk.
    """
    check_size(upload, limit_bytes=settings.AUDIO_MAX_BYTES, field=field)
    sniffed = _sniff_audio(upload)
    if sniffed is None:
        raise Invalid(field, AUDIO_NOT_READABLE)
    kind, extension = sniffed
    try:
        upload.seek(0)
        audio = kind(upload)
    # mutagen raises its own errors for most damage, and plain ones for some.
    except (MutagenError, OSError, EOFError, ValueError, struct.error, IndexError) as error:
        raise Invalid(field, AUDIO_NOT_READABLE) from error
    length = _checked_length(upload, audio, field=field)
    if not (math.isfinite(length) and length > 0):
        raise Invalid(field, AUDIO_NO_LENGTH)
    upload.seek(0)
    rename_upload(upload, extension)
    return VerifiedAudio(
        upload=upload,
        duration=max(1, round(length)),
        content_type=AUDIO_CONTENT_TYPES[extension],
        lyrics=embedded_lyrics(audio),
    )


# Vorbis comments that hold lyrics, by taggers' habits (Picard writes LYRICS).
_VORBIS_LYRICS_KEYS = ("lyrics", "unsyncedlyrics", "unsynced lyrics")
# SYLT's time stamp format 2: milliseconds (1 is MPEG frames, which no tagger writes).
_SYLT_MILLISECONDS = 2


def _lrc_time(milliseconds: int) -> str:
    minutes, rest = divmod(max(0, milliseconds), 60_000)
    return f"[{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 10:02d}]"


def embedded_lyrics(audio: FileType) -> str | None:
    """The lyrics a file carries in its tags, as text: ID3's synced SYLT (written out as LRC)
    before its plain USLT, a Vorbis comment (FLAC, Ogg), MP4's ©lyr. None without any.
    Never raises: lyrics are an extra, and a damaged tag must not refuse the audio."""
    try:
        tags = audio.tags
        if tags is None:
            return None
        if hasattr(tags, "getall"):  # ID3 (MP3, WAVE, AAC)
            for frame in tags.getall("SYLT"):
                if frame.format == _SYLT_MILLISECONDS and frame.text:
                    return "\n".join(f"{_lrc_time(ms)}{text}" for text, ms in frame.text)
            for frame in tags.getall("USLT"):
                if str(frame.text).strip():
                    return str(frame.text)
            return None
        if isinstance(audio, MP4):
            values = tags.get("\xa9lyr") or []
            return str(values[0]) if values and str(values[0]).strip() else None
        for key in _VORBIS_LYRICS_KEYS:  # Vorbis comments: case-insensitive keys
            values = tags.get(key) or []
            if values and str(values[0]).strip():
                return str(values[0])
    except (MutagenError, AttributeError, TypeError, ValueError, KeyError):
        return None
    return None


def _sniff_audio(upload: UploadedFile) -> tuple[type[FileType], str] | None:
    upload.seek(0)
    head = upload.read(64)
    if head.startswith(b"fLaC"):
        return FLAC, "flac"
    if head.startswith(b"OggS"):
        if b"\x01vorbis" in head:
            return OggVorbis, "ogg"
        if b"OpusHead" in head:
            return OggOpus, "opus"
        return None
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAVE, "wav"
    if head[4:8] == b"ftyp":
        return MP4, "m4a"
    if head.startswith(b"ADIF"):
        return AAC, "aac"
    upload.seek(_id3v2_end(head))
    sync = upload.read(2)
    if len(sync) == 2 and sync[0] == 0xFF and sync[1] & 0xE0 == 0xE0:
        layer_bits = (sync[1] >> 1) & 0b11
        return (AAC, "aac") if layer_bits == 0 else (MP3, "mp3")  # layer 0 is ADTS
    return None


def _id3v2_end(head: bytes) -> int:
    """Where the audio starts after a leading ID3v2 tag (0 when there is none)."""
    if len(head) < 10 or not head.startswith(b"ID3"):
        return 0
    size = 0
    for byte in head[6:10]:  # a "syncsafe" integer: 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _checked_length(upload: UploadedFile, audio: FileType, *, field: str) -> float:
    """The length in seconds, after the checks a format needs beyond what mutagen refuses."""
    info = audio.info
    if isinstance(audio, MP3):
        return _mp3_length(upload, info, field=field)
    if isinstance(audio, MP4) and not info.codec.startswith("mp4a"):
        # An MP4 with no audio track still has a length (the movie's): refuse it.
        raise Invalid(field, AUDIO_NOT_READABLE)
    if isinstance(audio, WAVE):
        if info.audio_format not in WAVE_PLAYABLE_FORMATS:
            raise Invalid(field, AUDIO_NOT_READABLE)
        # mutagen takes the length from the data chunk's header, not from the bytes.
        if not _riff_data_is_whole(upload):
            raise Invalid(field, AUDIO_TRUNCATED)
    return info.length


def _mp3_length(upload: UploadedFile, info: MPEGInfo, *, field: str) -> float:
    """mutagen takes an MP3's length from its first frame, so a cut file still reads as
    whole: the frames are walked to the end to find a missing tail, and counted."""
    if info.sketchy or info.frame_offset != _id3v2_end(_head(upload)):
        raise Invalid(field, AUDIO_NOT_READABLE)
    walk = _walk_mpeg_frames(upload, start=info.frame_offset)
    # A Xing or VBRI header in the first frame declares the length of the whole stream.
    declared = info.bitrate_mode != BitrateMode.UNKNOWN
    if walk.cut_short or (
        walk.to_the_end and declared and info.length - walk.seconds > MPEG_LENGTH_TOLERANCE
    ):
        raise Invalid(field, AUDIO_TRUNCATED)
    if walk.to_the_end and not declared:
        return walk.seconds  # counted frames beat an estimate from the first frame's bitrate
    return info.length


def _head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    return upload.read(64)


def _riff_data_is_whole(upload: UploadedFile) -> bool:
    """Whether the WAVE file holds every byte its data chunk header announces."""
    size, position = upload.size, 12  # after "RIFF", the RIFF size and "WAVE"
    while position + 8 <= size:
        header = _read_at(upload, position, 8)
        chunk_size = int.from_bytes(header[4:8], "little")
        if header[:4] == b"data":
            return position + 8 + chunk_size <= size
        position += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    return False


# (MPEG version, layer) -> bitrates in kbit/s by the header's 4-bit index (0 and 15 invalid).
_MPEG_BITRATES = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def _mpeg_frame(header: bytes) -> tuple[int, int, int] | None:
    """(frame length in bytes, samples, sample rate) of an MPEG audio frame header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version_bits = (header[1] >> 3) & 0b11
    layer = 4 - ((header[1] >> 1) & 0b11)
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0b11
    if version_bits == 0b01 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    version = {0b11: 1, 0b10: 2, 0b00: 25}[version_bits]  # 25 stands for MPEG 2.5
    bitrate = _MPEG_BITRATES[(min(version, 2), layer)][bitrate_index] * 1000
    sample_rate = _MPEG_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4, 384, sample_rate
    samples = 576 if layer == 3 and version != 1 else 1152
    return samples // 8 * bitrate // sample_rate + padding, samples, sample_rate


@dataclass(frozen=True)
class _MpegWalk:
    seconds: float  # the audio in the frames walked
    cut_short: bool  # the last frame (or its header) runs past the end of the file
    to_the_end: bool  # the frames reach the end of the file or a trailing tag


def _walk_mpeg_frames(upload: UploadedFile, *, start: int) -> _MpegWalk:
    """Follow the MPEG frames from `start`, reading a chunk at a time (memory stays flat)."""
    size, position, seconds = upload.size, start, 0.0
    buffer, buffer_start = b"", position
    while position < size:
        offset = position - buffer_start
        if offset + 4 > len(buffer):
            buffer, buffer_start, offset = _read_at(upload, position, _READ_CHUNK), position, 0
        frame = _mpeg_frame(buffer[offset : offset + 4])
        if frame is None:
            rest = buffer[offset : offset + 16]
            header_cut = size - position < 4 and rest.startswith(b"\xff")
            # Junk after the audio: the walk cannot tell what is missing, so it says nothing.
            return _MpegWalk(seconds, header_cut, rest.startswith(_MPEG_TRAILING_TAGS))
        length, samples, sample_rate = frame
        if position + length > size:
            return _MpegWalk(seconds, cut_short=True, to_the_end=True)
        position += length
        seconds += samples / sample_rate
    return _MpegWalk(seconds, cut_short=False, to_the_end=True)


def _read_at(fileobj: UploadedFile, position: int, size: int) -> bytes:
    fileobj.seek(position)
    return fileobj.read(size)


STORED_FILE_MISSING = "No file named {name} in storage."
STORED_NAME_UNSAFE = "The file name {name} is not a plain path inside the storage."


def verify_stored_audio(
    name: str, *, folder: str = "songs/", field: str = "audio_file"
) -> tuple[str, VerifiedAudio]:
    """Check an audio file that is already in storage (bulk loads copy files first).

    A bare file name is looked up in `folder`; names that climb out of the storage (or of a
    bucket's prefix) are refused. Answers the storage name and what verification read (the
    duration). In a bucket the object is read by byte ranges (`BucketStorage.open_ranged`):
    the checks read headers and frames, never a download of the whole file.
    """
    name = name.strip().replace("\\", "/")
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise Invalid(field, STORED_NAME_UNSAFE.format(name=name or "''"))
    if "/" not in name:
        name = f"{folder}{name}"
    if is_bucket(default_storage):
        try:
            stored = default_storage.open_ranged(name)
        except SuspiciousFileOperation as error:
            raise Invalid(field, STORED_NAME_UNSAFE.format(name=name)) from error
        except FileNotFoundError as error:
            raise Invalid(field, STORED_FILE_MISSING.format(name=name)) from error
    elif default_storage.exists(name):
        stored = default_storage.open(name, "rb")
    else:
        raise Invalid(field, STORED_FILE_MISSING.format(name=name))
    with stored:
        verified = verify_audio(stored, field=field)
    return name, verified
