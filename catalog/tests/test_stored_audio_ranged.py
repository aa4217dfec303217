"""Audio already in a bucket is checked through ranged reads, not by downloading it whole.

`verify_stored_audio` reads a bucket object through `BucketStorage.open_ranged`: a seekable
file that fetches only the byte ranges read (a 64 KiB read-ahead block per GetObject), and
counts what it fetched (`fetched_bytes`, `requests`). The bucket is moto's server over HTTP
(tests/object_storage.py); the readers are caught by wrapping `open_ranged`, nothing in boto3 is
patched.
"""

import io
import wave

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage

from catalog.audio import (
    AUDIO_TRUNCATED,
    STORED_FILE_MISSING,
    STORED_NAME_UNSAFE,
    _id3v2_end,
    _mpeg_frame,
    verify_stored_audio,
)
from core.errors import Invalid
from core.files.object_storage import RANGED_BLOCK_BYTES, BucketStorage, RangedObjectFile
from tests.media_samples import audio_bytes
from tests.object_storage import PREFIX, use_bucket

WAV_SECONDS = 120
WAV_RATE, WAV_CHANNELS, WAV_WIDTH = 44_100, 2, 2  # CD audio: 176,400 bytes a second


def long_wav(seconds: int = WAV_SECONDS) -> bytes:
    """About 21 MB of stereo 16-bit PCM (silence, which is as valid as any other)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(WAV_CHANNELS)
        wav.setsampwidth(WAV_WIDTH)
        wav.setframerate(WAV_RATE)
        wav.writeframes(bytes(seconds * WAV_RATE * WAV_CHANNELS * WAV_WIDTH))
    return buffer.getvalue()


@pytest.fixture
def bucket(settings, moto_endpoint):
    return use_bucket(settings, moto_endpoint)


@pytest.fixture
def readers(monkeypatch) -> list[RangedObjectFile]:
    """Every ranged reader the code under test opens; whole-object opens fail the test."""
    opened: list[RangedObjectFile] = []
    open_ranged = BucketStorage.open_ranged

    def recording(storage, name, **options):
        reader = open_ranged(storage, name, **options)
        opened.append(reader)
        return reader

    def whole(storage, name, mode="rb"):
        raise AssertionError(f"{name} was opened whole (downloaded) instead of by ranges")

    monkeypatch.setattr(BucketStorage, "open_ranged", recording)
    monkeypatch.setattr(BucketStorage, "open", whole)
    return opened


def test_a_long_wav_is_verified_from_a_few_ranges(bucket, readers):
    content = long_wav()
    assert len(content) > 20 * 1024 * 1024
    bucket.put("songs/long.wav", content)

    name, verified = verify_stored_audio("long.wav")

    assert name == "songs/long.wav"
    assert verified.duration == WAV_SECONDS
    assert verified.content_type == "audio/wav"
    [reader] = readers
    assert reader.size == len(content)
    assert reader.closed
    # The RIFF header, the chunk headers and mutagen's look at the end: a few blocks.
    assert 0 < reader.fetched_bytes <= 4 * RANGED_BLOCK_BYTES
    assert reader.fetched_bytes < len(content) / 50
    assert reader.requests <= 4


def test_an_mp3_is_verified_by_ranges_reading_each_byte_at_most_once(bucket, readers):
    # The frame walk (the truncation check) reads every frame header, and frames are
    # contiguous: all of an MP3 is read, but a block at a time and never twice over.
    content = audio_bytes("tone.mp3")
    bucket.put("songs/tone.mp3", content)

    name, verified = verify_stored_audio("songs/tone.mp3")

    assert name == "songs/tone.mp3"
    assert verified.duration == 3
    assert verified.content_type == "audio/mpeg"
    [reader] = readers
    assert reader.fetched_bytes <= len(content) + 2 * 128  # ID3v1/APE probes at the end
    assert reader.requests <= 4


def test_a_long_mp3_is_walked_a_block_at_a_time(bucket, readers):
    """tone.mp3's audio frames repeated to about 2 MB (constant bitrate, without its ID3 tag
    and its Xing header frame: the length is counted from the frames walked)."""
    tone = audio_bytes("tone.mp3")
    xing = _id3v2_end(tone[:64])
    frames = tone[xing + _frame(tone, xing)[0] :]
    content = frames * 170
    bucket.put("songs/long.mp3", content)
    expected = 170 * _seconds_in(frames)

    _, verified = verify_stored_audio("long.mp3")

    assert len(content) > 2_000_000
    assert verified.duration == round(expected)
    [reader] = readers
    assert len(content) <= reader.fetched_bytes <= len(content) + 4 * RANGED_BLOCK_BYTES
    assert reader.requests <= len(content) // RANGED_BLOCK_BYTES + 6


def _frame(data: bytes, position: int) -> tuple[int, int, int]:
    frame = _mpeg_frame(data[position : position + 4])
    assert frame is not None, position
    return frame


def _seconds_in(data: bytes) -> float:
    position, seconds = 0, 0.0
    while position < len(data):
        length, samples, rate = _frame(data, position)
        position += length
        seconds += samples / rate
    assert position == len(data)
    return seconds


def test_truncated_audio_in_the_bucket_is_still_refused(bucket, readers):
    wav = long_wav(10)
    bucket.put("songs/cut.wav", wav[: len(wav) - 1000])
    mp3 = audio_bytes("tone.mp3")
    bucket.put("songs/cut.mp3", mp3[: len(mp3) - 100])

    with pytest.raises(Invalid) as cut_wav:
        verify_stored_audio("cut.wav")
    with pytest.raises(Invalid) as cut_mp3:
        verify_stored_audio("cut.mp3")

    assert _reasons(cut_wav.value) == [AUDIO_TRUNCATED]
    assert _reasons(cut_mp3.value) == [AUDIO_TRUNCATED]
    wav_reader, _ = readers
    assert wav_reader.fetched_bytes < len(wav) / 10


def _reasons(error: Invalid) -> list[str]:
    return [item["msg"] for item in error.items]


def test_names_outside_the_prefix_or_absent_are_refused(bucket, readers):
    # An object beside the prefix, which a climbing name would reach.
    bucket.client.put_object(Bucket=bucket.bucket, Key="outside.wav", Body=long_wav(1))
    bucket.put("songs/inside.wav", long_wav(1))

    for name in ("../outside.wav", "songs/../../outside.wav", "/outside.wav", "", ".."):
        with pytest.raises(Invalid) as refused:
            verify_stored_audio(name)
        assert _reasons(refused.value) == [STORED_NAME_UNSAFE.format(name=name or "''")], name
    with pytest.raises(Invalid) as absent:
        verify_stored_audio("absent.wav")
    assert STORED_FILE_MISSING.format(name="songs/absent.wav") in str(absent.value)
    assert readers == []  # nothing was opened for any of them

    for name in ("../outside.wav", "songs/../../outside.wav", ".", f"../{PREFIX}"):
        with pytest.raises(SuspiciousFileOperation):
            default_storage.open_ranged(name)
    assert verify_stored_audio("inside.wav")[1].duration == 1


def test_the_ranged_file_seeks_reads_and_refuses_a_replaced_object(bucket):
    content = bytes(range(256)) * 1024  # 256 KiB: four blocks
    bucket.put("songs/data.bin", content)
    reader = default_storage.open_ranged("songs/data.bin")

    assert (reader.size, reader.tell()) == (len(content), 0)
    assert reader.read(10) == content[:10]
    assert reader.seek(-5, io.SEEK_END) == len(content) - 5
    assert reader.read() == content[-5:]
    assert reader.read(10) == b""  # at the end
    reader.seek(RANGED_BLOCK_BYTES - 3)
    assert reader.read(6) == content[RANGED_BLOCK_BYTES - 3 : RANGED_BLOCK_BYTES + 3]
    assert reader.requests == 3
    assert reader.fetched_bytes == RANGED_BLOCK_BYTES + 5 + RANGED_BLOCK_BYTES

    bucket.put("songs/data.bin", content[::-1])  # another object under the same name
    reader.seek(3 * RANGED_BLOCK_BYTES)
    with pytest.raises(OSError, match=r"songs/data\.bin"):
        reader.read(1)
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        reader.read(1)
    with pytest.raises(FileNotFoundError):
        default_storage.open_ranged("songs/absent.bin")
