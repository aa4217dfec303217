"""`catalog.audio.verify_audio`: formats told apart by their bytes, damage found, memory flat."""

import io
import tracemalloc
import wave
from pathlib import Path

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from catalog.audio import (
    AUDIO_NO_LENGTH,
    AUDIO_NOT_READABLE,
    AUDIO_TRUNCATED,
    _mpeg_frame,
    verify_audio,
)
from core.errors import DomainError
from core.files.content_types import audio_content_type
from tests.media_samples import audio_bytes, upload, wav_bytes


@pytest.mark.parametrize(
    ("file_name", "extension", "content_type"),
    [
        ("tone.mp3", "mp3", "audio/mpeg"),
        ("tone.ogg", "ogg", "audio/ogg"),
        ("tone.opus", "opus", "audio/ogg"),
        ("tone.flac", "flac", "audio/flac"),
        ("tone.m4a", "m4a", "audio/mp4"),
    ],
)
def test_each_format_is_read_with_its_length(file_name, extension, content_type):
    verified = verify_audio(upload("../../x.wav", audio_bytes(file_name)))

    assert verified.duration == 3
    assert verified.content_type == content_type
    assert verified.upload.name.endswith(f".{extension}")
    assert "x" not in verified.upload.name.removesuffix(f".{extension}").strip("0123456789abcdef")
    assert audio_content_type(f"songs/{verified.upload.name}") == content_type


def test_a_wav_is_read_with_its_length():
    verified = verify_audio(upload("a.mp3", wav_bytes(4.0)))

    assert (verified.duration, verified.content_type) == (4, "audio/wav")
    assert verified.upload.name.endswith(".wav")


def refusal(content: bytes) -> str:
    with pytest.raises(DomainError) as caught:
        verify_audio(upload("a.mp3", content))
    return caught.value.detail


def mp3_frame_ends() -> list[int]:
    """Where each frame of the fixture ends (its frames follow a 20-byte ID3 tag)."""
    mp3 = audio_bytes("tone.mp3")
    ends, position = [], 20
    while (frame := _mpeg_frame(mp3[position : position + 4])) is not None:
        position += frame[0]
        ends.append(position)
    assert position == len(mp3)
    return ends


def test_an_mp3_cut_inside_a_frame_is_truncated():
    mp3 = audio_bytes("tone.mp3")

    for cut in (len(mp3) - 1, len(mp3) // 2, 300):
        assert refusal(mp3[:cut]) == AUDIO_TRUNCATED


def test_an_mp3_cut_between_frames_is_truncated_by_its_own_frame_count():
    mp3 = audio_bytes("tone.mp3")
    ends = mp3_frame_ends()

    # Its first frame declares how many follow (a LAME "Info" header): fewer is truncated.
    assert refusal(mp3[: ends[len(ends) // 2]]) == AUDIO_TRUNCATED
    assert refusal(mp3[: ends[-12]]) == AUDIO_TRUNCATED
    assert verify_audio(upload("a.mp3", mp3[: ends[-1]])).duration == 3


def test_a_wav_in_a_codec_players_do_not_decode_is_refused():
    wav = bytearray(wav_bytes())
    assert wav[20:22] == b"\x01\x00"  # the format tag: PCM
    wav[20:22] = b"\x55\x00"  # MPEG layer 3 inside RIFF

    assert refusal(bytes(wav)) == AUDIO_NOT_READABLE


def test_a_wav_missing_samples_its_header_announces_is_truncated():
    wav = wav_bytes()

    assert refusal(wav[:44]) == AUDIO_TRUNCATED
    assert refusal(wav[: len(wav) // 2]) == AUDIO_TRUNCATED


def test_a_wav_without_samples_has_no_length():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as empty:
        empty.setnchannels(1)
        empty.setsampwidth(2)
        empty.setframerate(8000)
        empty.writeframes(b"")

    assert refusal(buffer.getvalue()) == AUDIO_NO_LENGTH


def test_an_mp3_with_an_id3v1_tag_after_its_frames_is_whole():
    tagged = audio_bytes("tone.mp3") + b"TAG" + b"\x00" * 125

    assert verify_audio(upload("a.mp3", tagged)).duration == 3


def test_an_mp4_without_an_audio_track_is_refused():
    assert refusal(audio_bytes("video-only.mp4")) == AUDIO_NOT_READABLE


@pytest.mark.parametrize(
    "content",
    [
        b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10,  # an ID3 tag and nothing after it
        b"OggS" + b"\x00" * 60,  # an Ogg page of no known codec
        b"fLaC" + b"\x00" * 60,  # a FLAC marker with no stream info
        b"RIFF\x24\x00\x00\x00WAVEjunk" + b"\x00" * 40,  # a RIFF WAVE with no fmt chunk
        b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 40,  # an M4A brand with no movie
        b"\xff\xfb" + b"\x00" * 100,  # one MPEG sync, no frames
        b"<html><body>hello</body></html>",
    ],
)
def test_headers_without_audio_are_refused(content):
    assert refusal(content) == AUDIO_NOT_READABLE


def test_a_large_mp3_is_checked_without_reading_it_into_memory(tmp_path: Path):
    # 75,000 silent MPEG-1 layer III frames (128 kbit/s, 44.1 kHz): 31 MB, 32 minutes.
    frame = b"\xff\xfb\x90\x00" + b"\x00" * 413
    big = TemporaryUploadedFile("big.mp3", "audio/mpeg", 0, None)
    for _ in range(75):
        big.write(frame * 1000)
    big.size = big.tell()
    tracemalloc.start()
    try:
        verified = verify_audio(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        big.close()

    assert verified.duration == round(75_000 * 1152 / 44100)
    assert peak < 2 * 1024 * 1024  # the file is 31 MB
