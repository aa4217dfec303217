"""Renditions read back by the system's ffprobe (Debian's, not the wheel's ffmpeg under test):
duration within 50 ms of the original, codec, container and bitrate; the AAC's index before
its audio; the MP3's Xing/Info header; nothing at the destination when a run fails."""

import struct
from pathlib import Path

import pytest
import soundfile
from mutagen.mp3 import MP3, BitrateMode

from processing.errors import ProcessingFailed
from processing.renditions import RenditionFormat, make_rendition
from tests.audio_signals import INPUT_ENCODINGS, RATE, encoded_as, noise, tone

DURATION_TOLERANCE_SECONDS = 0.05
EXPECTED = {
    RenditionFormat.OPUS: ("opus", "ogg", 128_000),
    RenditionFormat.AAC: ("aac", "mov,mp4,m4a,3gp,3g2,mj2", 256_000),
    RenditionFormat.MP3: ("mp3", "mp3", 192_000),
}


@pytest.fixture
def music(write_wav):
    """Five seconds that encoders cannot shrink much: a tone under noise."""
    return write_wav("music", tone(5, amplitude=0.3) + noise(5, rms=0.1), subtype="PCM_16")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """The music in each accepted input format, encoded once for the module."""
    folder = tmp_path_factory.mktemp("sources")
    wav = folder / "music.wav"
    soundfile.write(wav, tone(5, amplitude=0.3) + noise(5, rms=0.1), RATE, subtype="PCM_16")
    return {extension: encoded_as(wav, extension) for extension in INPUT_ENCODINGS}


def probed_duration(probe: dict) -> float:
    return float(probe["format"]["duration"])


@pytest.mark.parametrize("extension", list(INPUT_ENCODINGS))
@pytest.mark.parametrize("rendition_format", list(RenditionFormat))
def test_each_rendition_of_each_input_format_keeps_the_duration(
    sources, ffprobe, tmp_path, extension, rendition_format
):
    source = sources[extension]
    destination = tmp_path / f"out.{rendition_format.value.extension}"

    rendition = make_rendition(source, destination, rendition_format)

    original, written = ffprobe(source), ffprobe(destination)
    assert probed_duration(written) == pytest.approx(
        probed_duration(original), abs=DURATION_TOLERANCE_SECONDS
    )
    codec, container, bitrate = EXPECTED[rendition_format]
    [stream] = written["streams"]  # the audio alone: no cover, no data
    assert stream["codec_name"] == codec
    assert written["format"]["format_name"] == container
    assert int(written["format"]["bit_rate"]) == pytest.approx(bitrate, rel=0.2)
    assert rendition.size_bytes == destination.stat().st_size
    assert rendition.duration_seconds == pytest.approx(probed_duration(written), abs=0.05)
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".part"] == []


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order."""
    boxes, data = [], path.read_bytes()
    position = 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size == 1:  # a 64-bit size follows the type
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - position
        boxes.append(kind.decode("latin-1"))
        position += size
    return boxes


def test_the_aac_rendition_has_its_index_before_its_audio(music, tmp_path):
    destination = tmp_path / "out.m4a"

    make_rendition(music, destination, RenditionFormat.AAC)

    boxes = top_level_boxes(destination)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_the_mp3_rendition_carries_its_xing_info_header(music, tmp_path):
    destination = tmp_path / "out.mp3"

    make_rendition(music, destination, RenditionFormat.MP3)

    head = destination.read_bytes()[:4096]
    info = MP3(destination).info
    first_frame = info.frame_offset
    # A CBR stream's header is named Info, a VBR one's Xing; it sits in the first frame.
    assert head[first_frame : first_frame + 200].find(b"Info") > 0
    assert info.bitrate_mode == BitrateMode.CBR  # mutagen read the header, not a guess
    assert info.bitrate == 192_000


def test_a_rendition_can_start_at_an_offset(music, ffprobe, tmp_path):
    destination = tmp_path / "later.opus"

    make_rendition(music, destination, RenditionFormat.OPUS, start_seconds=2.0)

    assert probed_duration(ffprobe(destination)) == pytest.approx(3.0, abs=0.05)


def test_a_failed_rendition_leaves_the_destination_as_it_was(tmp_path, write_wav):
    renditions = tmp_path / "renditions"
    renditions.mkdir()
    destination = renditions / "out.mp3"
    destination.write_bytes(b"the previous rendition")
    broken = tmp_path / "broken.wav"
    whole = write_wav("whole", noise(2, rms=0.1), subtype="PCM_16").read_bytes()
    broken.write_bytes(whole[: len(whole) // 2])  # its data chunk announces twice as much

    with pytest.raises(ProcessingFailed):
        make_rendition(broken, destination, RenditionFormat.MP3)

    assert destination.read_bytes() == b"the previous rendition"
    assert [path.name for path in renditions.iterdir()] == ["out.mp3"]


def test_an_ffmpeg_failure_mid_encoding_leaves_no_partial_file(music, tmp_path, settings):
    settings.FFMPEG_TIMEOUT_SECONDS = 0.001  # stopped before it can finish
    renditions = tmp_path / "renditions"
    renditions.mkdir()

    with pytest.raises(ProcessingFailed) as failure:
        make_rendition(music, renditions / "out.m4a", RenditionFormat.AAC)

    assert "took longer than" in failure.value.reason
    assert list(renditions.iterdir()) == []
