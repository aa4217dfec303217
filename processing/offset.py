"""A stored audio file from some seconds in, made on the fly (Subsonic's `timeOffset`).

ffmpeg seeks the input (`-ss` before `-i`: to the packet at or before the offset) and copies
the audio packets unchanged (`-c copy`) into a container that can be written to a pipe, with
no index to patch at the end: MP3 stays MP3, Ogg stays Ogg, FLAC and WAV stay as they are, raw
AAC (ADTS) stays ADTS. MP4/M4A (AAC or ALAC) becomes fragmented MP4 (`empty_moov`: the index
first, then a fragment per keyframe), which players read as it comes. Nothing is re-encoded:
the cost is a read of the file.

The output has no known length: it is answered without Content-Length or Range. The run is
bounded as every ffmpeg run (processing/ffmpeg.py): wall-clock deadline, memory, threads. The
process group is killed as soon as the body is closed (the client went away, or the server
closes the response), and when the deadline passes.
"""

import logging
import subprocess
from collections.abc import Generator
from dataclasses import dataclass, replace

from django.core.files.storage import Storage

from core.files.content_types import audio_content_type
from processing.errors import ProcessingFailed
from processing.ffmpeg import Limits, ffmpeg_process
from processing.source import DEMUXERS

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True)
class Output:
    muxer: str
    content_type: str
    arguments: tuple[str, ...] = ()


# The demuxer that reads the stored file -> what its packets are written into.
OUTPUT_OF_DEMUXER = {
    "mp3": Output("mp3", "audio/mpeg"),
    "ogg": Output("ogg", "audio/ogg"),
    "flac": Output("flac", "audio/flac"),
    "wav": Output("wav", "audio/wav"),
    "aac": Output("adts", "audio/aac"),
    "mov": Output("mp4", "audio/mp4", ("-movflags", "frag_keyframe+empty_moov+default_base_moof")),
}


@dataclass(frozen=True)
class OffsetStream:
    content_type: str
    chunks: Generator[bytes, None, None]


def output_content_type(name: str) -> str:
    """The Content-Type of the stored file `name` streamed from an offset."""
    return OUTPUT_OF_DEMUXER[DEMUXERS[audio_content_type(name)]].content_type


def stream_from_offset(
    storage: Storage, name: str, offset_seconds: float, *, duration_seconds: float
) -> OffsetStream:
    """The stored file `name` (`duration_seconds` long) from `offset_seconds` in, as chunks
    read from ffmpeg's pipe.

    ffmpeg starts on the first chunk asked for; closing the iterator kills it. A player reads
    the stream at the pace it plays it (ffmpeg waits on the full pipe meanwhile), so the run
    may last as long as what is left of the song: its time limit is FFMPEG_TIMEOUT_SECONDS
    plus twice that (a player pausing, or reading at half speed, is not cut off)."""
    demuxer = DEMUXERS[audio_content_type(name)]
    output = OUTPUT_OF_DEMUXER[demuxer]
    # Local files only (storage.path raises NotImplementedError for a bucket), the demuxer
    # forced and the protocol limited to files: the name is never read as a URL.
    path = storage.path(name)
    arguments = [
        *("-ss", f"{offset_seconds:.3f}"),
        *("-protocol_whitelist", "file", "-f", demuxer, "-i", path),
        *("-map", "0:a:0", "-map_metadata", "-1", "-c", "copy"),
        *output.arguments,
        *("-f", output.muxer, "pipe:1"),
    ]
    base = Limits.from_settings()
    left = max(duration_seconds - offset_seconds, 0.0)
    limits = replace(base, timeout_seconds=base.timeout_seconds + 2 * left)
    return OffsetStream(output.content_type, _chunks(arguments, limits))


def _chunks(arguments: list[str], limits: Limits) -> Generator[bytes, None, None]:
    try:
        with ffmpeg_process(arguments, limits=limits, stdout=subprocess.PIPE) as run:
            stdout = run.process.stdout
            assert stdout is not None
            while chunk := stdout.read1(CHUNK_SIZE):
                yield chunk
    except ProcessingFailed as error:
        # The status and headers are sent: the client sees a body cut short.
        logger.warning("An offset stream stopped: %s", error)
