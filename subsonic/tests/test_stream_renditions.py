"""`stream` on the media pipeline's renditions: `format` and `maxBitRate` pick the file from
what is ready, `timeOffset` starts it some seconds in (ffmpeg, stream copy), and song Child
objects carry the ReplayGain. Songs are processed by the real pipeline; ffprobe reads what a
player would get."""

import json
import os
import shutil
import subprocess
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import Song
from processing import pipeline
from processing.pipeline import Outcome
from subsonic import ids
from subsonic.tests.calls import (
    CLIENT_NAME,
    XML_NAMESPACE,
    answer,
    api_key,
    call,
    error_of,
    xml_root,
)
from tests.audio_signals import RATE, decoded, encoded_as
from tests.helpers import asgi_request
from tests.media_samples import media_path, wav_bytes

pytestmark = pytest.mark.django_db

SECONDS = 3.0  # the WAV sample: 16 kHz mono 16-bit, 256 kbit/s


@pytest.fixture(scope="session")
def ffprobe_binary() -> str:
    binary = shutil.which("ffprobe")
    if binary is None:
        pytest.skip("ffprobe is not installed (apt install ffmpeg): it is the independent reader")
    return binary


@pytest.fixture
def probe(ffprobe_binary, tmp_path):
    def read(body: bytes) -> dict:
        path = tmp_path / "answer.bin"
        path.write_bytes(body)
        run = subprocess.run(
            [ffprobe_binary, "-v", "error", "-show_format", "-show_streams", "-of", "json", path],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(run.stdout)

    return read


@pytest.fixture
def processed(make_song):
    song = make_song("Sunrise", audio=wav_bytes(SECONDS))
    assert pipeline.process_song(song.pk) == Outcome.STORED
    song.refresh_from_db()
    return song


def stream(client: Client, secret: str, song, **options):
    return call(client, "stream", api_key(secret), f=None, id=ids.song_id(song.pk), **options)


def body_of(response) -> bytes:
    assert response.streaming, response.content
    return b"".join(response.streaming_content)


def codec_of(probe, response) -> str:
    return probe(body_of(response))["streams"][0]["codec_name"]


@pytest.mark.parametrize(
    ("options", "content_type", "codec"),
    [
        ({}, "audio/wav", "pcm_s16le"),
        ({"format": "raw"}, "audio/wav", "pcm_s16le"),
        ({"format": "opus"}, "audio/ogg", "opus"),
        ({"format": "mp3"}, "audio/mpeg", "mp3"),
        ({"format": "aac"}, "audio/mp4", "aac"),
        ({"format": "m4a"}, "audio/mp4", "aac"),
        ({"format": "flv"}, "audio/wav", "pcm_s16le"),  # unknown: no preference
        # The original is 256 kbit/s: within 320 it is answered as it is.
        ({"maxBitRate": "320"}, "audio/wav", "pcm_s16le"),
        # Above the limit: the ready rendition of the highest bit rate within it.
        ({"maxBitRate": "250"}, "audio/mpeg", "mp3"),
        ({"maxBitRate": "160"}, "audio/ogg", "opus"),
        # The format asked for is over the limit: the best one within it instead.
        ({"format": "mp3", "maxBitRate": "160"}, "audio/ogg", "opus"),
        ({"format": "aac", "maxBitRate": "320"}, "audio/mp4", "aac"),
        # Nothing within the limit, or raw asked for: the original.
        ({"maxBitRate": "64"}, "audio/wav", "pcm_s16le"),
        ({"format": "raw", "maxBitRate": "64"}, "audio/wav", "pcm_s16le"),
        ({"maxBitRate": "0", "format": "opus"}, "audio/ogg", "opus"),
    ],
)
def test_format_and_max_bit_rate_pick_the_file(
    client: Client, secret: str, processed, probe, options, content_type, codec
):
    response = stream(client, secret, processed, **options)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == content_type
    assert response["Accept-Ranges"] == "bytes"
    assert codec_of(probe, response) == codec


def test_a_rendition_is_answered_with_ranges_and_etag_as_the_original(
    client: Client, secret: str, processed, settings
):
    whole = media_path(settings, processed.opus_file.name).read_bytes()

    first = stream(client, secret, processed, format="opus")
    part = stream(client, secret, processed, format="opus", headers={"Range": "bytes=10-"})
    again = stream(
        client, secret, processed, format="opus", headers={"If-None-Match": first["ETag"]}
    )
    head = stream(client, secret, processed, method="head", format="opus")

    assert body_of(first) == whole
    assert part.status_code == HTTPStatus.PARTIAL_CONTENT
    assert body_of(part) == whole[10:]
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert head.status_code == HTTPStatus.OK
    assert head["Content-Length"] == str(len(whole))
    assert head.content == b""


def test_stale_renditions_are_never_streamed(client: Client, secret: str, processed, probe):
    Song.objects.filter(pk=processed.pk).update(processed_audio="songs/another.wav")

    response = stream(client, secret, processed, format="opus", maxBitRate="160")

    assert response["Content-Type"] == "audio/wav"
    assert codec_of(probe, response) == "pcm_s16le"


def test_download_is_the_original_whatever_is_asked(client: Client, secret: str, processed):
    response = call(
        client,
        "download",
        api_key(secret),
        f=None,
        id=ids.song_id(processed.pk),
        format="opus",
        maxBitRate="64",
    )

    assert response["Content-Type"] == "audio/wav"
    assert "attachment" in response["Content-Disposition"]


def test_stream_reads_the_song_in_one_query(client: Client, secret: str, processed):
    with CaptureQueriesContext(connection) as queries:
        body_of(stream(client, secret, processed, maxBitRate="160"))

    song_queries = [q for q in queries.captured_queries if "catalog_song" in q["sql"]]
    assert len(song_queries) == 1


@pytest.mark.parametrize(
    ("options", "content_type", "codec"),
    [
        ({"format": "raw"}, "audio/wav", "pcm_s16le"),
        ({"format": "opus"}, "audio/ogg", "opus"),
        ({"format": "mp3"}, "audio/mpeg", "mp3"),
        ({"format": "aac"}, "audio/mp4", "aac"),  # fragmented MP4
    ],
)
def test_a_time_offset_starts_the_file_that_far_in(
    client: Client, secret: str, processed, probe, options, content_type, codec
):
    response = stream(client, secret, processed, timeOffset="1", **options)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == content_type
    assert "Content-Length" not in response
    assert response["Accept-Ranges"] == "none"
    probed = probe(body_of(response))
    assert probed["streams"][0]["codec_name"] == codec
    assert float(probed["format"]["duration"]) == pytest.approx(SECONDS - 1, abs=0.1)


def test_a_flac_from_an_offset_does_not_claim_the_whole_songs_length(
    client: Client, secret: str, make_song, probe, tmp_path
):
    """FLAC's header gives the total sample count, copied from the stored file; to a pipe
    ffmpeg cannot correct it afterwards, so it is sent as unknown."""
    wav = tmp_path / "source.wav"
    wav.write_bytes(wav_bytes(SECONDS))
    song = make_song("Lossless", audio=encoded_as(wav, "flac").read_bytes())

    response = stream(client, secret, song, timeOffset="1", format="raw")

    assert response["Content-Type"] == "audio/flac"
    sent = tmp_path / "sent.flac"
    sent.write_bytes(body_of(response))
    probed = probe(sent.read_bytes())
    assert probed["streams"][0]["codec_name"] == "flac"
    claimed = probed["format"].get("duration")  # none: the header says "unknown"
    assert claimed is None or float(claimed) == pytest.approx(SECONDS - 1, abs=0.1)
    assert len(decoded(sent)) / RATE == pytest.approx(SECONDS - 1, abs=0.1)


def test_a_decimal_time_offset(client: Client, secret: str, processed, probe):
    response = stream(client, secret, processed, timeOffset="1.5", format="raw")

    duration = float(probe(body_of(response))["format"]["duration"])
    assert duration == pytest.approx(SECONDS - 1.5, abs=0.1)


def test_head_with_a_time_offset_starts_no_ffmpeg(client: Client, secret: str, processed):
    before = ffmpeg_children()
    response = stream(client, secret, processed, method="head", timeOffset="1", format="mp3")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "audio/mpeg"
    assert response.content == b""
    assert ffmpeg_children() == before


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        ("-1", "number of seconds"),
        ("1e3", "number of seconds"),
        ("x", "number of seconds"),
        ("\u0661", "number of seconds"),
    ],
)
def test_a_time_offset_that_is_not_seconds_is_error_0(
    client: Client, secret: str, processed, offset, message
):
    response = call(
        client, "stream", api_key(secret), id=ids.song_id(processed.pk), timeOffset=offset
    )

    error = error_of(response)
    assert error["code"] == 0
    assert message in error["message"]


@pytest.mark.parametrize("offset", ["3", "99.5", "4615622592012154382057472", "3.0000000001"])
def test_a_time_offset_at_or_past_the_end_is_an_empty_stream(
    client: Client, secret: str, processed, offset
):
    before = ffmpeg_children()

    response = stream(client, secret, processed, timeOffset=offset, format="aac")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "audio/mp4"
    assert response.content == b""
    assert ffmpeg_children() == before


def ffmpeg_children() -> set[int]:
    """The ffmpeg processes this test process started and that still exist (zombies too)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(os.getpid()) and "ffmpeg" in fields["Name"]:
            found.add(int(entry.name))
    return found


def test_closing_the_response_kills_ffmpeg(client: Client, secret: str, make_song):
    # 8 s of WAV from 1 s in: 224 kB, more than a pipe holds, so ffmpeg is still writing.
    song = make_song("Long", audio=wav_bytes(8.0))
    before = ffmpeg_children()

    response = stream(client, secret, song, timeOffset="1")
    chunks = iter(response.streaming_content)
    first = next(chunks)
    running = ffmpeg_children() - before
    response.close()  # what the server does when the client goes away

    assert first.startswith(b"RIFF")
    assert len(running) == 1
    assert ffmpeg_children() - before == set()


def test_song_children_carry_the_replay_gain(client: Client, secret: str, processed):
    rest = client.get(f"/api/songs/{processed.pk}/").json()["replay_gain"]

    child = answer(call(client, "getSong", api_key(secret), id=ids.song_id(processed.pk)))["song"]

    assert child["replayGain"] == {
        "trackGain": rest["track_gain"],
        "trackPeak": rest["track_peak"],
        "albumGain": rest["album_gain"],
        "albumPeak": rest["album_peak"],
    }
    # In XML an element of the song, its values as attributes (as Child.md's example).
    root = xml_root(call(client, "getSong", api_key(secret), f=None, id=child["id"]))
    element = root.find(f"{{{XML_NAMESPACE}}}song/{{{XML_NAMESPACE}}}replayGain")
    assert element is not None
    assert {name: float(value) for name, value in element.attrib.items()} == child["replayGain"]


def test_an_unmeasured_song_has_no_replay_gain(client: Client, secret: str, make_song):
    song = make_song("Raw", audio=wav_bytes(SECONDS))

    child = answer(call(client, "getSong", api_key(secret), id=ids.song_id(song.pk)))["song"]

    assert "replayGain" not in child


def test_under_asgi_a_time_offset_is_streamed_asynchronously(secret: str, processed, probe):
    query = urlencode(
        {"v": "1.16.1", "c": CLIENT_NAME, "apiKey": secret, "id": ids.song_id(processed.pk)}
    )

    response, body = asgi_request("GET", f"/rest/stream.view?{query}&timeOffset=2&format=mp3")

    assert response.status_code == HTTPStatus.OK
    assert response.is_async
    assert float(probe(body)["format"]["duration"]) == pytest.approx(SECONDS - 2, abs=0.1)


def test_an_offset_stream_may_last_as_long_as_the_rest_of_the_song(
    client: Client, secret: str, processed, settings, monkeypatch
):
    """A player reads at the pace it plays: ffmpeg's time limit grows with what is left of
    the song (FFMPEG_TIMEOUT_SECONDS plus twice the rest), so a long song is not cut off."""
    from processing import offset as offset_module

    settings.FFMPEG_TIMEOUT_SECONDS = 5.0
    seen = []
    real = offset_module.ffmpeg_process

    def recording(arguments, *, limits=None, **kwargs):
        seen.append(limits)
        return real(arguments, limits=limits, **kwargs)

    monkeypatch.setattr(offset_module, "ffmpeg_process", recording)
    song = Song.objects.get(pk=processed.pk)

    response = client.get(
        "/rest/stream?"
        + urlencode(
            {
                **api_key(secret),
                "v": "1.16.1",
                "c": "t",
                "f": "json",
                "id": ids.song_id(song.pk),
                "format": "raw",
                "timeOffset": "1",
            }
        )
    )
    b"".join(response.streaming_content)

    (limits,) = seen
    assert limits.timeout_seconds == pytest.approx(5.0 + 2 * (song.duration - 1))


@pytest.fixture
def processed_in_a_bucket(settings, moto_endpoint, make_song):
    """A processed song whose audio and renditions are objects of a bucket (moto's server)."""
    from tests.object_storage import use_bucket

    backend = use_bucket(settings, moto_endpoint)
    song = make_song("Cloudburst", audio=wav_bytes(SECONDS))
    assert pipeline.process_song(song.pk) == Outcome.STORED
    song.refresh_from_db()
    return song, backend


@pytest.mark.parametrize(
    ("options", "codec"),
    [
        ({"format": "raw"}, "pcm_s16le"),
        ({"format": "opus"}, "opus"),
        ({"format": "mp3"}, "mp3"),
        ({"format": "aac"}, "aac"),  # MP4: its index read first, then the packets from 1 s
    ],
)
def test_a_time_offset_starts_a_file_kept_in_a_bucket_that_far_in(
    client: Client, secret: str, processed_in_a_bucket, probe, options, codec
):
    song, _ = processed_in_a_bucket

    response = stream(client, secret, song, timeOffset="1", **options)

    assert response.status_code == HTTPStatus.OK
    assert response["Accept-Ranges"] == "none"
    probed = probe(body_of(response))
    assert probed["streams"][0]["codec_name"] == codec
    assert float(probed["format"]["duration"]) == pytest.approx(SECONDS - 1, abs=0.1)


def test_a_failed_offset_stream_from_a_bucket_never_logs_the_signed_url(
    client: Client, secret: str, processed_in_a_bucket, caplog
):
    song, backend = processed_in_a_bucket
    response = stream(client, secret, song, timeOffset="1", format="raw")
    backend.remove(song.audio.name)  # gone after the answer began, before ffmpeg reads it

    with caplog.at_level("WARNING", logger="processing.offset"):
        body = b"".join(response.streaming_content)

    assert body == b""  # the client sees a body cut short
    (record,) = [r for r in caplog.records if r.name == "processing.offset"]
    logged = record.getMessage()
    assert song.audio.name in logged
    assert "404" in logged  # ffmpeg's reason is kept, with the name instead of the URL
    assert "X-Amz-" not in logged  # no signature, credential or expiry
    assert backend.endpoint not in logged
