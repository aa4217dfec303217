"""A stored audio file from some seconds in, made on the fly (Subsonic's `timeOffset`).

ffmpeg seeks the input (`-ss` before `-i`: to the packet at or before the offset) and copies
the audio packets unchanged (`-c copy`) into a container that can be written to a pipe, with
no index to patch at the end: MP3 stays MP3, Ogg stays Ogg, FLAC and WAV stay as they are, raw
AAC (ADTS) stays ADTS. MP4/M4A (AAC or ALAC) becomes fragmented MP4 (`empty_moov`: the index
first, then a fragment per keyframe), which players read as it comes. Nothing is re-encoded:
the cost is a read of the file.

A file on disk is read by its path (the `file` protocol only). A file in a bucket is read
over HTTP from a presigned GET URL of its object, valid as long as the run may last: ffmpeg
seeks by ranged requests (WAV, FLAC, Ogg and MP4 jump near the offset; an MP4 reads its
index first), except MP3, whose accurate seek reads the frames from the start. Only
`http`/`https` (with the `tcp`/`tls` they run on) are allowed for that input, and the URL,
whose query string is the signature, is never logged: a failure's reason names the stored
file instead.

The output has no known length: it is answered without Content-Length or Range. The run is
bounded as every ffmpeg run (processing/ffmpeg.py): wall-clock deadline, memory, threads. The
process group is killed as soon as the body is closed (the client went away, or the server
closes the response), and when the deadline passes.
"""

import logging
import math
import re
import subprocess
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.files.storage import Storage

from core.files.content_types import audio_content_type
from core.files.object_storage import bucket_errors, is_bucket
from processing.errors import ProcessingFailed
from processing.ffmpeg import Limits, ffmpeg_process
from processing.source import DEMUXERS

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
# The protocols ffmpeg may use to read a bucket's presigned URL, by its scheme (http and https
# run on tcp, and https on tls too): never file, pipe, data, a playlist's, or another URL's.
URL_PROTOCOLS = {"http": "http,tcp", "https": "https,tls,tcp"}
# Whatever looks like a URL's query string or a signature in what ffmpeg printed.
_SECRETS = re.compile(r"\b(X-Amz-[A-Za-z-]+|Signature|AWSAccessKeyId)=[^&\s'\"]*")


# FLAC begins "fLaC", a 4-byte block header and the 34 bytes of STREAMINFO, in which the total
# sample count (36 bits: the low 4 of byte 21 of the stream and bytes 22-25) and the MD5 of the
# audio (bytes 26-41) are copied from the whole stored file. Written to a pipe, the muxer cannot
# go back to correct them: a player would take the rest of the song for all of it. Zero is
# "unknown" for both, as the format allows.
FLAC_HEAD_BYTES = 42


def flac_length_unknown(head: bytes) -> bytes:
    """The start of a FLAC stream with its total sample count and MD5 set to unknown."""
    if len(head) < FLAC_HEAD_BYTES or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return head  # not STREAMINFO first: left as it is
    patched = bytearray(head)
    patched[21] &= 0xF0
    patched[22:FLAC_HEAD_BYTES] = bytes(FLAC_HEAD_BYTES - 22)
    return bytes(patched)


@dataclass(frozen=True)
class Output:
    muxer: str
    content_type: str
    arguments: tuple[str, ...] = ()
    # A fix of the stream's first bytes (at least head_bytes of them) before they are sent.
    head_bytes: int = 0
    fix_head: Callable[[bytes], bytes] | None = None


# The demuxer that reads the stored file -> what its packets are written into.
OUTPUT_OF_DEMUXER = {
    "mp3": Output("mp3", "audio/mpeg"),
    "ogg": Output("ogg", "audio/ogg"),
    "flac": Output("flac", "audio/flac", (), FLAC_HEAD_BYTES, flac_length_unknown),
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
    base = Limits.from_settings()
    left = max(duration_seconds - offset_seconds, 0.0)
    limits = replace(base, timeout_seconds=base.timeout_seconds + 2 * left)
    source = _source(storage, name, valid_seconds=limits.timeout_seconds)
    arguments = [
        *("-ss", f"{offset_seconds:.3f}"),
        *source.options,
        *("-protocol_whitelist", source.protocols, "-f", demuxer, "-i", source.location),
        *("-map", "0:a:0", "-map_metadata", "-1", "-c", "copy"),
        *output.arguments,
        *("-f", output.muxer, "pipe:1"),
    ]
    return OffsetStream(output.content_type, _chunks(arguments, limits, source, output))


@dataclass(frozen=True)
class _Source:
    """Where ffmpeg reads the stored file: a path, or a presigned URL (a secret)."""

    name: str  # the stored name, what logs show
    location: str
    protocols: str
    options: tuple[str, ...] = ()

    def redacted(self, text: str) -> str:
        """`text` (ffmpeg's reason for a failure) without the URL or any signature."""
        return _SECRETS.sub(r"\1=[redacted]", text.replace(self.location, self.name))


def _source(storage: Storage, name: str, *, valid_seconds: float) -> _Source:
    if not is_bucket(storage):
        # The demuxer forced and the protocol limited to files: the name is never a URL.
        return _Source(name, storage.path(name), "file")
    # Signing reaches no bucket (StorageUnavailable only if the credentials' source is away).
    with bucket_errors(f"signing a URL of {name}"):
        url = storage.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": storage.bucket_name, "Key": storage.contained_key(name)},
            ExpiresIn=math.ceil(valid_seconds),
        )
    protocols = URL_PROTOCOLS.get(url.partition(":")[0].lower())
    if protocols is None:
        raise ProcessingFailed(f"The bucket's address of {name} is not http or https.")
    # A read that stalls fails after STORAGE_READ_TIMEOUT rather than at the deadline; a
    # connection the bucket closes while the player is paused is opened again (a ranged GET).
    read_timeout = str(int(settings.STORAGE_READ_TIMEOUT * 1_000_000))
    options = ("-rw_timeout", read_timeout, "-reconnect", "1", "-reconnect_delay_max", "5")
    return _Source(name, url, protocols, options)


def _chunks(
    arguments: list[str], limits: Limits, source: _Source, output: Output
) -> Generator[bytes, None, None]:
    head: bytes | None = b"" if output.fix_head is not None else None  # until it is fixed
    try:
        with ffmpeg_process(arguments, limits=limits, stdout=subprocess.PIPE) as run:
            stdout = run.process.stdout
            assert stdout is not None
            while chunk := stdout.read1(CHUNK_SIZE):
                if head is not None and output.fix_head is not None:
                    head += chunk
                    if len(head) < output.head_bytes:
                        continue
                    chunk, head = output.fix_head(head), None
                yield chunk
            if head and output.fix_head is not None:
                yield output.fix_head(head)
    except ProcessingFailed as error:
        # The status and headers are sent: the client sees a body cut short.
        logger.warning(
            "An offset stream of %s stopped: %s", source.name, source.redacted(str(error))
        )
