"""`manage.py seed_scale`: the benchmark's catalog shape, written in SQL."""

from datetime import timedelta
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.utils import timezone

from catalog.management.commands.seed_scale import GENRES
from catalog.models import Album, Artist, Play, Song
from tests.helpers import asgi_request
from tests.media_samples import media_path
from users.models import User

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_scale", stdout=out, **options)
    return out.getvalue()


def test_fills_the_catalog_at_the_benchmark_shape():
    before = timezone.now()
    output = seed(songs=400, plays=300, artists=7, listeners=5)
    after = timezone.now()

    assert Song.objects.count() == 400
    singles = Song.objects.filter(album=None)
    assert singles.count() == 40  # one song in ten
    assert sorted(singles.values_list("pk", flat=True)) == list(range(10, 401, 10))
    assert Album.objects.count() == 18  # 360 album songs, 20 a piece
    sizes = Album.objects.annotate(n=Count("songs")).values_list("n", flat=True)
    assert set(sizes) == {20}
    artists = set(Song.objects.values_list("artist_name", flat=True))
    assert artists | set(Album.objects.values_list("artist_name", flat=True)) == {
        f"Artist {n}" for n in range(1, 8)
    }
    assert not Song.objects.exclude(album=None).exclude(artist=F("album__artist")).exists()
    # One artist row per name, linked from every song and album that credits it.
    assert Artist.objects.count() == 7
    assert not Song.objects.exclude(artist_name=F("artist__name")).exists()
    assert not Album.objects.exclude(artist_name=F("artist__name")).exists()

    assert Play.objects.count() == 300
    assert not Play.objects.filter(played_at__lt=before - timedelta(days=10)).exists()
    assert not Play.objects.filter(played_at__gt=after).exists()
    assert Play.objects.values("user").distinct().count() == 5  # the listeners it created
    assert User.objects.count() == 5
    oldest_play = Play.objects.order_by("played_at").first().played_at
    assert Song.objects.order_by("-created_at").first().created_at < oldest_play

    assert "400 songs (40 singles), 18 albums, 7 artists, 300 plays by 5 listeners" in output


def test_songs_and_albums_have_genres_years_and_track_numbers():
    seed(songs=400, plays=0)

    # Album j: GENRES[j % 20] from 1970 + j % 55, its songs numbered 1 to 20 on disc 1.
    album = Album.objects.get(pk=3)
    assert (album.genre, album.release_year) == (GENRES[3], 1973)
    tracks = album.songs.order_by("pk")
    assert [song.track_number for song in tracks] == list(range(1, 21))
    assert {(song.genre, song.year, song.disc_number) for song in tracks} == {(GENRES[3], 1973, 1)}
    # Single i: GENRES[(i / 10) % 20] from 1970 + i % 55, without numbers.
    single = Song.objects.get(pk=250)
    assert (single.genre, single.year) == (GENRES[5], 1970 + 250 % 55)
    assert (single.track_number, single.disc_number) == (None, None)
    # Every genre of the list is used, spelled as the list spells it.
    assert set(Song.objects.values_list("genre", flat=True)) == set(GENRES)
    assert not Album.objects.filter(genre=None).exists()


def test_the_last_album_takes_the_remainder_and_ids_continue_after_the_load(make_song):
    seed(songs=1001, plays=0)

    sizes = dict(Album.objects.annotate(n=Count("songs")).values_list("pk", "n"))
    assert len(sizes) == 46  # 901 album songs
    assert {n for pk, n in sizes.items() if pk != 46} == {20}
    assert sizes[46] == 1
    assert not Play.objects.exists()
    # The ids were given explicitly: the sequences were moved past them.
    assert make_song("Next").pk == 1002


def test_every_song_streams_the_one_stored_audio_file(settings):
    seed(songs=30, plays=10)

    assert set(Song.objects.values_list("audio", flat=True)) == {"songs/seed-scale.wav"}
    assert media_path(settings, "songs/seed-scale.wav").is_file()
    assert {song.duration for song in Song.objects.all()} == {5}  # the file's own length
    for song_id in (1, 30):
        response, body = asgi_request("GET", f"/api/songs/{song_id}/stream/")
        assert response.status_code == HTTPStatus.OK
        assert body[:4] == b"RIFF"
    response, _ = asgi_request("GET", "/api/albums/1/")
    assert response.status_code == HTTPStatus.OK


def test_plays_go_to_the_existing_listeners(make_user, admin_user):
    listeners = {make_user().pk, make_user().pk}

    seed(songs=50, plays=40)

    assert set(Play.objects.values_list("user", flat=True)) == listeners  # not the admin
    assert User.objects.count() == 3  # nobody created


def test_refuses_a_catalog_with_songs_unless_reset(make_song):
    mine = make_song("Mine")

    with pytest.raises(CommandError, match=r"not empty \(1 songs, 0 albums\).*--reset"):
        seed(songs=20, plays=5)
    assert list(Song.objects.all()) == [mine]

    seed(songs=20, plays=5, reset=True)

    assert Song.objects.count() == 20
    assert not Song.objects.filter(title="Mine").exists()
    assert Play.objects.count() == 5
