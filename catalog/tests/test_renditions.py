"""What the media pipeline stores for a song, as the catalog keeps and serves it: renditions
picked by `?format=`, the waveform, ReplayGain, and outputs that go stale when the audio is
replaced. The pipeline itself (processing/) is tested on its own; here its outputs are stored
through the same service it calls."""

import json
from http import HTTPStatus

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client

from catalog import services
from catalog.models import ProcessingState, Song
from catalog.renditions import StreamFormat, gain_db, peak_amplitude
from catalog.selectors.songs import SONG_NOT_FOUND, WAVEFORM_NOT_READY
from catalog.signals import album_tracks_changed, audio_changed
from tests.media_samples import media_path, stored_files, upload, wav_bytes

pytestmark = pytest.mark.django_db

# Stand-ins for the pipeline's files: the catalog serves bytes as stored, by their suffix.
OPUS, AAC, MP3 = b"OggS opus bytes", b"\x00\x00\x00\x18ftypM4A aac bytes", b"ID3 mp3 bytes"
WAVEFORM = {"version": 2, "channels": 1, "sample_rate": 44100, "samples_per_pixel": 256}


def outputs_of(song: Song, *, loudness=-20.0, true_peak=-1.0, made_from=None):
    return services.PipelineOutputs(
        made_from=made_from or song.audio.name,
        renditions={
            StreamFormat.OPUS: ContentFile(OPUS),
            StreamFormat.AAC: ContentFile(AAC),
            StreamFormat.MP3: ContentFile(MP3),
        },
        waveform=ContentFile(json.dumps(WAVEFORM).encode()),
        loudness=loudness,
        true_peak=true_peak,
    )


@pytest.fixture
def song(make_song):
    return make_song(audio=wav_bytes(0.5))


@pytest.fixture
def processed(song, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.song_outputs_store(song_id=song.pk, outputs=outputs_of(song))
    song.refresh_from_db()
    return song


def song_json(client: Client, song: Song) -> dict:
    response = client.get(f"/api/songs/{song.pk}/")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def stream(client: Client, song: Song, query: str = "", **headers) -> tuple:
    response = client.get(f"/api/songs/{song.pk}/stream/{query}", headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_a_new_song_streams_its_original_whatever_format_is_asked(client, song, settings):
    original = media_path(settings, song.audio.name).read_bytes()

    described = song_json(client, song)
    response, body = stream(client, song, "?format=opus")

    assert described["formats"] == ["original"]
    assert described["replay_gain"] is None
    assert described["waveform_url"] is None
    assert song.processing_state == ProcessingState.PENDING
    assert (response.status_code, response["Content-Type"], body) == (
        HTTPStatus.OK,
        "audio/wav",
        original,
    )


@pytest.mark.parametrize(
    ("query", "content_type", "content"),
    [
        ("?format=opus", "audio/ogg", OPUS),
        ("?format=aac", "audio/mp4", AAC),
        ("?format=mp3", "audio/mpeg", MP3),
    ],
)
def test_a_ready_rendition_is_streamed_when_asked(client, processed, query, content_type, content):
    response, body = stream(client, processed, query)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == content_type
    assert response["Content-Length"] == str(len(content))
    assert body == content


def test_a_rendition_answers_ranges_like_the_original(client, processed):
    response, body = stream(client, processed, "?format=mp3", Range="bytes=4-")

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    assert response["Content-Range"] == f"bytes 4-{len(MP3) - 1}/{len(MP3)}"
    assert body == MP3[4:]


def test_original_and_no_format_stream_the_upload(client, processed, settings):
    original = media_path(settings, processed.audio.name).read_bytes()

    assert stream(client, processed)[1] == original
    assert stream(client, processed, "?format=original")[1] == original


def test_an_unknown_format_is_422_and_names_the_choices(client, processed):
    response = client.get(f"/api/songs/{processed.pk}/stream/?format=flac")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "format" in json.dumps(response.json())
    assert "opus" in json.dumps(response.json())


def test_the_song_lists_what_is_ready_and_its_replay_gain(client, processed):
    described = song_json(client, processed)

    assert described["formats"] == ["original", "opus", "aac", "mp3"]
    # No album: the song is its own album.
    assert described["replay_gain"] == {
        "track_gain": 2.0,
        "track_peak": 0.891251,
        "album_gain": 2.0,
        "album_peak": 0.891251,
    }
    assert described["waveform_url"] == f"http://testserver/api/songs/{processed.pk}/waveform/"
    assert processed.processing_state == ProcessingState.READY


def test_album_gain_comes_from_the_album_once_measured(client, make_album, make_song):
    album = make_album()
    song = make_song(album=album, audio=wav_bytes(0.5))
    services.song_outputs_store(song_id=song.pk, outputs=outputs_of(song, loudness=-12.5))
    services.album_loudness_store(album_id=album.pk, loudness=-14.0, true_peak=0.5)

    gain = song_json(client, song)["replay_gain"]

    assert gain["track_gain"] == gain_db(-12.5) == -5.5
    assert (gain["album_gain"], gain["album_peak"]) == (-4.0, peak_amplitude(0.5))
    assert gain["album_peak"] > 1  # a true peak over full scale stays as measured


def test_the_waveform_is_served_with_validators(client, processed):
    url = f"/api/songs/{processed.pk}/waveform/"

    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first["ETag"]})

    assert first.status_code == HTTPStatus.OK
    assert first["Content-Type"] == "application/json"
    assert json.loads(b"".join(first.streaming_content)) == WAVEFORM
    assert again.status_code == HTTPStatus.NOT_MODIFIED


def test_no_waveform_yet_and_no_song_are_404_that_say_which(client, song):
    not_ready = client.get(f"/api/songs/{song.pk}/waveform/")
    missing = client.get("/api/songs/987654/waveform/")

    assert (not_ready.status_code, not_ready.json()) == (
        HTTPStatus.NOT_FOUND,
        {"detail": WAVEFORM_NOT_READY},
    )
    assert (missing.status_code, missing.json()) == (
        HTTPStatus.NOT_FOUND,
        {"detail": SONG_NOT_FOUND},
    )


def test_work_on_a_replaced_audio_is_stale_and_stores_nothing(song, settings):
    before = stored_files(settings)

    stored = services.song_outputs_store(
        song_id=song.pk, outputs=outputs_of(song, made_from="songs/an-older-file.wav")
    )

    song.refresh_from_db()
    assert stored is False
    assert stored_files(settings) == before
    assert (song.processing_state, song.loudness, song.opus_file.name) == ("pending", None, "")


def test_storing_twice_keeps_one_set_of_files(
    processed, settings, django_capture_on_commit_callbacks
):
    files_once = len(stored_files(settings))

    with django_capture_on_commit_callbacks(execute=True):
        services.song_outputs_store(song_id=processed.pk, outputs=outputs_of(processed))

    assert len(stored_files(settings)) == files_once


def test_replacing_the_audio_forgets_the_outputs_and_removes_their_files(
    client, processed, settings, django_capture_on_commit_callbacks
):
    old_files = [processed.opus_file.name, processed.waveform_file.name]

    with django_capture_on_commit_callbacks(execute=True):
        services.song_update(song_id=processed.pk, audio_file=upload("new.wav", wav_bytes(0.75)))

    processed.refresh_from_db()
    assert song_json(client, processed)["formats"] == ["original"]
    assert (processed.processing_state, processed.loudness, processed.processed_audio) == (
        ProcessingState.PENDING,
        None,
        "",
    )
    assert not any(media_path(settings, name).exists() for name in old_files)
    assert client.get(f"/api/songs/{processed.pk}/waveform/").status_code == 404


def test_deleting_a_song_or_its_album_removes_every_file_it_had(
    make_album, make_song, settings, django_capture_on_commit_callbacks
):
    album = make_album()
    songs = [make_song(album=album, audio=wav_bytes(0.5)) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        for song in songs:
            services.song_outputs_store(song_id=song.pk, outputs=outputs_of(song))
    assert len(stored_files(settings)) == 2 * 5  # audio, three renditions, a waveform

    with django_capture_on_commit_callbacks(execute=True):
        services.song_delete(song_id=songs[0].pk)
    assert len(stored_files(settings)) == 5
    with django_capture_on_commit_callbacks(execute=True):
        services.album_delete(album_id=album.pk)
    assert stored_files(settings) == []


def test_a_failure_is_recorded_for_the_current_audio_only(song):
    assert not services.song_processing_failed(
        song_id=song.pk, made_from="songs/old.wav", reason="Not audio."
    )
    assert services.song_processing_failed(
        song_id=song.pk, made_from=song.audio.name, reason="Not audio."
    )

    song.refresh_from_db()
    assert (song.processing_state, song.processing_error) == ("failed", "Not audio.")


class Heard:
    """Receivers of the catalog's signals, noting whether each came inside a transaction."""

    def __init__(self):
        self.audio: list[tuple[int, bool]] = []
        self.albums: list[tuple[set, bool]] = []

    def on_audio(self, sender, *, song_id, **kwargs):
        self.audio.append((song_id, transaction.get_connection().in_atomic_block))

    def on_albums(self, sender, *, album_ids, **kwargs):
        self.albums.append((album_ids, transaction.get_connection().in_atomic_block))


@pytest.fixture
def heard():
    listener = Heard()
    audio_changed.connect(listener.on_audio)
    album_tracks_changed.connect(listener.on_albums)
    yield listener
    audio_changed.disconnect(listener.on_audio)
    album_tracks_changed.disconnect(listener.on_albums)


@pytest.mark.django_db(transaction=True)  # to see the services' own transactions
def test_new_or_replaced_audio_and_album_moves_are_announced_inside_their_transaction(
    heard, make_album
):
    first, second = make_album(), make_album("Giant Steps")
    song = services.song_create(
        title="Naima",
        artist="John Coltrane",
        audio_file=upload("a.wav", wav_bytes(0.5)),
        album_id=first.pk,
    )
    services.song_update(song_id=song.pk, title="Naima (take 2)")  # neither audio nor album
    services.song_update(song_id=song.pk, album_id=second.pk)
    services.song_update(song_id=song.pk, audio_file=upload("b.wav", wav_bytes(0.5)))
    services.song_delete(song_id=song.pk)

    assert heard.audio == [(song.pk, True), (song.pk, True)]
    assert heard.albums == [
        ({first.pk}, True),
        ({first.pk, second.pk}, True),
        ({second.pk}, True),
        ({second.pk}, True),
    ]


def test_a_refused_upload_announces_nothing(heard):
    with pytest.raises(Exception):  # noqa: B017, PT011 (the upload check's own error)
        services.song_create(
            title="Noise", artist="Nobody", audio_file=upload("a.wav", b"not audio")
        )

    assert (heard.audio, heard.albums) == ([], [])
