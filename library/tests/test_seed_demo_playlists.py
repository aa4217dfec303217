import pytest
from django.test import Client

from catalog.models import Song
from library.demo import DEMO_LISTENER_EMAIL, DEMO_PLAYLISTS
from library.models import Playlist
from tests.helpers import bearer, run_command
from users.models import User

pytestmark = pytest.mark.django_db


def test_two_public_demo_playlists_of_demo_songs_are_made_once(client: Client, make_user):
    run_command("seed_demo_catalog")

    first = run_command("seed_demo_playlists")
    second = run_command("seed_demo_playlists")

    listener = User.objects.get(email=DEMO_LISTENER_EMAIL)
    assert not listener.has_usable_password()
    assert "2 demo playlists made" in first
    assert "no demo playlists made" in second
    playlists = list(Playlist.objects.order_by("pk"))
    assert [p.name for p in playlists] == [demo.name for demo in DEMO_PLAYLISTS]
    for playlist, demo in zip(playlists, DEMO_PLAYLISTS, strict=True):
        assert (playlist.owner, playlist.is_public) == (listener, True)
        titles = list(
            playlist.items.order_by("position").values_list("song__title", "song__artist_name")
        )
        assert titles == list(demo.songs)
        # Anyone can open them, and each has a cover from its first song's album or art.
        body = client.get(f"/api/playlists/{playlist.pk}/").json()
        assert body["song_count"] == len(demo.songs)
        assert body["image_url"] is not None
    listed = client.get(f"/api/playlists/?owner={listener.pk}", headers=bearer(make_user()))
    assert listed.json()["count"] == 2


def test_nothing_is_made_without_demo_songs(db):
    output = run_command("seed_demo_playlists")

    assert "no demo playlists made" in output
    assert not Playlist.objects.exists()
    assert not User.objects.filter(email=DEMO_LISTENER_EMAIL).exists()
    assert not Song.objects.exists()


def test_nothing_is_made_when_playlists_exist(user, make_playlist):
    run_command("seed_demo_catalog")
    make_playlist(user)

    output = run_command("seed_demo_playlists")

    assert "There are playlists already" in output
    assert Playlist.objects.count() == 1
