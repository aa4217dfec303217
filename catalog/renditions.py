"""What a song can be streamed as, and its ReplayGain, from what the media pipeline stored.

The pipeline (processing/) writes each rendition, the loudness and the waveform onto the song
once they are complete, with the name of the audio file they were made from
(`processed_audio`). An output made from another file than the song's current `audio` (the
audio was replaced since) is stale and never served: the original streams until the new
outputs are ready.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db.models.fields.files import FieldFile

from catalog.models import Album, Song

# ReplayGain 2.0's reference loudness: a gain brings the track (or album) to -18 LUFS.
REPLAY_GAIN_REFERENCE_LUFS = -18.0


class StreamFormat(StrEnum):
    """`?format=` of a stream: the file as uploaded, or one of the renditions."""

    ORIGINAL = "original"
    OPUS = "opus"
    AAC = "aac"
    MP3 = "mp3"


@dataclass(frozen=True)
class Rendition:
    format: StreamFormat
    field_name: str  # the Song field holding the file
    bit_rate: int  # kbit/s
    suffix: str  # the file name's, as Subsonic clients read it


RENDITIONS = (
    Rendition(StreamFormat.OPUS, "opus_file", 128, "opus"),
    Rendition(StreamFormat.AAC, "aac_file", 256, "m4a"),
    Rendition(StreamFormat.MP3, "mp3_file", 192, "mp3"),
)
RENDITION_OF = {rendition.format: rendition for rendition in RENDITIONS}
# The fields a stream reads: the original, each rendition and what they were made from.
STREAM_FIELDS = ("id", "audio", "processed_audio", *(r.field_name for r in RENDITIONS))
# Every file the pipeline stores for a song, and every file a song holds.
PIPELINE_FILE_FIELDS = (*(r.field_name for r in RENDITIONS), "waveform_file")
SONG_FILE_FIELDS = ("audio", "image", *PIPELINE_FILE_FIELDS)


def outputs_current(song: Song) -> bool:
    """Whether what the pipeline stored was made from the song's current audio file."""
    return bool(song.processed_audio) and song.processed_audio == song.audio.name


def ready_renditions(song: Song) -> list[Rendition]:
    """The renditions stored for the song's current audio, in RENDITIONS' order."""
    if not outputs_current(song):
        return []
    return [rendition for rendition in RENDITIONS if getattr(song, rendition.field_name)]


def ready_formats(song: Song) -> list[StreamFormat]:
    """What `?format=` can pick right now: the original always, then the ready renditions."""
    return [StreamFormat.ORIGINAL, *(rendition.format for rendition in ready_renditions(song))]


def stream_file(song: Song, wanted: StreamFormat) -> FieldFile:
    """The file to stream: the rendition asked for when it is ready, else the original."""
    for rendition in ready_renditions(song):
        if rendition.format == wanted:
            return getattr(song, rendition.field_name)
    return song.audio


@dataclass(frozen=True)
class ReplayGain:
    """ReplayGain 2.0: gains in dB to the reference loudness, peaks as linear amplitudes
    (1.0 is full scale; a true peak may exceed it)."""

    track_gain: float
    track_peak: float
    album_gain: float
    album_peak: float


def gain_db(loudness: float) -> float:
    return round(REPLAY_GAIN_REFERENCE_LUFS - loudness, 2)


def peak_amplitude(true_peak_db: float) -> float:
    return round(10 ** (true_peak_db / 20), 6)


def replay_gain(song: Song, album: Album | None) -> ReplayGain | None:
    """The song's ReplayGain, None until its loudness is measured. A song without an album,
    or whose album is not measured yet, is its own album (as ReplayGain scanners do)."""
    if song.loudness is None or song.true_peak is None or not outputs_current(song):
        return None
    if album is not None and album.loudness is not None and album.true_peak is not None:
        album_loudness, album_peak = album.loudness, album.true_peak
    else:
        album_loudness, album_peak = song.loudness, song.true_peak
    return ReplayGain(
        track_gain=gain_db(song.loudness),
        track_peak=peak_amplitude(song.true_peak),
        album_gain=gain_db(album_loudness),
        album_peak=peak_amplitude(album_peak),
    )


def original_bit_rate(song: Song) -> int:
    """The original's average bit rate in kbit/s, from its size and the song's duration (a
    stat of the file: no read of its bytes, and exact enough to compare with a limit)."""
    try:
        size = song.audio.size
    except FileNotFoundError:
        return 0  # the stream then answers the original's absence
    return size * 8 // (max(song.duration, 1) * 1000)


def pick_stream(song: Song, wanted: StreamFormat | None, max_bit_rate: int) -> FieldFile:
    """The file a stream asked for `wanted` (None: no preference) under `max_bit_rate`
    kbit/s (0: no limit) answers, from what is ready.

    ORIGINAL is the original whatever the limit. The rendition asked for, when ready and
    within the limit; else, when the original is above the limit, the ready rendition of the
    highest bit rate within it; else the original (as a server that cannot transcode does).
    The original's size is read only when a limit has to be compared with it."""
    if wanted is StreamFormat.ORIGINAL:
        return song.audio
    ready = ready_renditions(song)
    within = [r for r in ready if max_bit_rate <= 0 or r.bit_rate <= max_bit_rate]
    for rendition in within:
        if rendition.format == wanted:
            return getattr(song, rendition.field_name)
    if max_bit_rate <= 0 or not within or original_bit_rate(song) <= max_bit_rate:
        return song.audio
    best = max(within, key=lambda rendition: rendition.bit_rate)
    return getattr(song, best.field_name)
