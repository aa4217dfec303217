import hashlib
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.audio import verify_audio
from catalog.demo import DEMO_ALBUMS, DEMO_SINGLES
from catalog.models import Album, Song
from tests.helpers import asgi_request, run_command
from tests.media_samples import media_path, stored_files

pytestmark = pytest.mark.django_db

DEMO_SONGS = len(DEMO_SINGLES) + sum(len(album.songs) for album in DEMO_ALBUMS)


def test_seed_albums_adds_albums_with_covers_and_playable_songs_once(settings):
    first = run_command("seed_albums")
    files = stored_files(settings)
    second = run_command("seed_albums")

    assert "3 albums and 12 songs added" in first
    assert "0 albums and 0 songs added" in second
    assert stored_files(settings) == files  # the second run stored nothing
    assert sorted(Album.objects.values_list("title", flat=True)) == sorted(
        album.title for album in DEMO_ALBUMS
    )
    for album in Album.objects.all():
        assert album.songs.count() == 4
        with Image.open(media_path(settings, album.image.name)) as cover:
            assert cover.format == "JPEG"
    for song in Song.objects.all():
        path = media_path(settings, song.audio.name)
        verified = verify_audio(SimpleUploadedFile("check", path.read_bytes()))
        assert verified.content_type == "audio/wav"
        assert verified.duration == song.duration == 5


def test_seed_songs_adds_singles_with_their_own_covers_once(settings):
    first = run_command("seed_songs")
    second = run_command("seed_songs")

    assert f"{len(DEMO_SINGLES)} songs added" in first
    assert "0 songs added" in second
    singles = Song.objects.filter(album=None)
    assert singles.count() == len(DEMO_SINGLES)
    assert all(song.image.name.startswith("song_images/") for song in singles)


def test_every_demo_song_is_a_different_tune(settings):
    run_command("seed_demo_catalog")

    digests = {
        hashlib.sha256(media_path(settings, song.audio.name).read_bytes()).hexdigest()
        for song in Song.objects.all()
    }
    assert len(digests) == DEMO_SONGS


def test_demo_catalog_loads_only_into_an_empty_catalog(settings):
    loaded = run_command("seed_demo_catalog")
    again = run_command("seed_demo_catalog")

    assert Song.objects.count() == DEMO_SONGS
    assert Album.objects.count() == len(DEMO_ALBUMS)
    assert "no demo catalog loaded" not in loaded
    assert "no demo catalog loaded" in again
    assert Song.objects.count() == DEMO_SONGS


def test_the_demo_catalog_can_be_browsed_by_genre_year_and_track(client, settings):
    run_command("seed_demo_catalog")

    genres = client.get("/api/genres/").json()
    assert [genre["name"] for genre in genres] == ["Ambient", "Electronic", "Lo-fi", "Synth-pop"]
    assert sum(genre["song_count"] for genre in genres) == DEMO_SONGS
    assert sum(genre["album_count"] for genre in genres) == len(DEMO_ALBUMS)
    for album in Album.objects.all():
        tracks = client.get(f"/api/albums/{album.pk}/").json()["songs"]
        assert [song["track_number"] for song in tracks] == [1, 2, 3, 4]
        assert {song["genre"] for song in tracks} == {album.genre}
        assert 1000 <= album.release_year <= 2100
    assert not Song.objects.filter(album=None, year=None).exists()  # singles have their year


def test_demo_catalog_leaves_a_real_catalog_alone(make_song, settings):
    make_song("Mine")

    output = run_command("seed_demo_catalog")

    assert "no demo catalog loaded" in output
    assert list(Song.objects.values_list("title", flat=True)) == ["Mine"]


def test_a_demo_song_streams_right_away(settings):
    run_command("seed_songs")
    song = Song.objects.first()

    response, body = asgi_request("GET", f"/api/songs/{song.pk}/stream/")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "audio/wav"
    assert body[:4] == b"RIFF"
    assert body[8:12] == b"WAVE"
