"""Corrupt and hostile files: each processing function answers one typed error with a
sentence (never a traceback from ffmpeg, never a hang), well within the time limit, and
writes nothing."""

import os
import random
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.audio import AUDIO_NOT_READABLE, AUDIO_TRUNCATED
from core.files.uploads import FILE_EMPTY
from processing.errors import ProcessingFailed
from processing.loudness import measure_album_loudness, measure_loudness
from processing.renditions import RenditionFormat, make_rendition
from processing.source import DECODED_SHORT, SOURCE_MISSING, SOURCE_TOO_LONG
from processing.waveform import waveform
from tests.audio_signals import noise, tone

# Far under FFMPEG_TIMEOUT_SECONDS: a refusal is quick, not a timeout.
ANSWER_WITHIN_SECONDS = 10


def render(path: Path) -> object:
    return make_rendition(path, path.with_name("rendition.mp3"), RenditionFormat.MP3)


FUNCTIONS: dict[str, Callable[[Path], object]] = {
    "rendition": render,
    "loudness": measure_loudness,
    "album loudness": lambda path: measure_album_loudness([path, path]),
    "waveform": waveform,
}


def refusal(function: Callable[[Path], object], path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(ProcessingFailed) as failure:
        function(path)
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert not path.with_name("rendition.mp3").exists()
    assert [name for name in os.listdir(path.parent) if name.endswith(".part")] == []
    return failure.value.reason


def ogg_with_last_granule(path: Path, granule: int) -> None:
    """Rewrite the granule position (the length so far, in samples) of an Ogg's last page."""
    data = bytearray(path.read_bytes())
    last_page = data.rfind(b"OggS")
    data[last_page + 6 : last_page + 14] = struct.pack("<q", granule)
    path.write_bytes(bytes(data))


@pytest.fixture
def ogg(write_wav, encode) -> Path:
    return encode(write_wav("song", tone(3, amplitude=0.3)), "ogg")


@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=FUNCTIONS.keys())
class TestHostileInputs:
    def test_random_bytes(self, tmp_path, function):
        path = tmp_path / "random.mp3"
        path.write_bytes(random.Random(21).randbytes(200_000))

        assert refusal(function, path) == AUDIO_NOT_READABLE

    def test_random_bytes_behind_a_flac_signature(self, tmp_path, function):
        path = tmp_path / "random.flac"
        path.write_bytes(b"fLaC" + random.Random(21).randbytes(200_000))

        assert refusal(function, path) == AUDIO_NOT_READABLE

    def test_a_playlist_that_points_elsewhere_is_never_opened(self, tmp_path, function):
        path = tmp_path / "list.mp3"
        path.write_text("#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\nhttp://127.0.0.1:9/x.mp3\n")

        assert refusal(function, path) == AUDIO_NOT_READABLE

    def test_zero_length(self, tmp_path, function):
        path = tmp_path / "empty.wav"
        path.write_bytes(b"")

        assert refusal(function, path) == FILE_EMPTY

    def test_missing(self, tmp_path, function):
        assert refusal(function, tmp_path / "gone.wav") == SOURCE_MISSING.format(name="gone.wav")

    def test_a_truncated_mp3(self, write_wav, encode, function):
        path = encode(write_wav("song", noise(3, rms=0.1)), "mp3")
        path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3 + 7])

        assert refusal(function, path) == AUDIO_TRUNCATED

    def test_a_truncated_flac_decodes_short(self, write_wav, encode, function):
        path = encode(write_wav("song", noise(5, rms=0.1)), "flac")
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])

        assert refusal(function, path).startswith("Only ")

    def test_flac_frames_of_random_bytes(self, write_wav, encode, function):
        path = encode(write_wav("song", noise(5, rms=0.1)), "flac")
        data = path.read_bytes()
        path.write_bytes(data[:200] + random.Random(21).randbytes(len(data) - 200))

        reason = refusal(function, path)

        assert reason.startswith("Only 0.0 s of the ")  # 5 s, or 10 for the album of two
        assert reason.endswith(DECODED_SHORT.split(": ")[-1])

    def test_an_ogg_that_claims_ten_hours(self, ogg, settings, function):
        ogg_with_last_granule(ogg, 48000 * 36_000)

        assert refusal(function, ogg) == SOURCE_TOO_LONG.format(
            seconds=36_000, limit=settings.PROCESSING_MAX_DURATION_SECONDS
        )

    def test_a_long_claim_under_the_limit_decodes_short(self, ogg, function):
        ogg_with_last_granule(ogg, 48000 * 600)  # ten minutes claimed, three seconds held

        assert refusal(function, ogg).startswith("Only ")

    def test_an_mp3_whose_info_header_claims_a_million_frames(self, write_wav, encode, function):
        path = encode(write_wav("song", noise(3, rms=0.1)), "mp3")
        data = bytearray(path.read_bytes())
        header = data.find(b"Xing") if b"Xing" in data[:4096] else data.find(b"Info")
        assert 0 < header < 4096
        flags = struct.unpack(">I", data[header + 4 : header + 8])[0]
        assert flags & 1  # the frame count is present
        data[header + 8 : header + 12] = struct.pack(">I", 1_000_000)
        path.write_bytes(bytes(data))

        assert refusal(function, path) == AUDIO_TRUNCATED  # the catalog's frame walk
