"""What other deletions do to playlists: a song or an album leaves, an account goes."""

from django.test import Client

from catalog import services as catalog_services
from library import services
from library.models import Playlist, PlaylistItem
from tests.helpers import song_ids
from tests.media_samples import png_bytes, upload
from users.models import User
from users.services import users_delete


def test_deleting_a_song_takes_it_out_of_every_playlist_and_closes_the_gaps(
    user, make_user, make_playlist, make_song
):
    a, b, c = make_song("A"), make_song("B"), make_song("C")
    first = make_playlist(user, "First", songs=[a, b, a, c, b])
    second = make_playlist(make_user(), "Second", songs=[b, b, c])
    untouched = make_playlist(user, "Untouched", songs=[a, c])
    untouched_updated = untouched.updated_at

    catalog_services.song_delete(song_id=b.pk)

    assert song_ids(first) == [a.pk, a.pk, c.pk]
    assert song_ids(second) == [c.pk]
    assert song_ids(untouched) == [a.pk, c.pk]
    first_updated = first.updated_at
    first.refresh_from_db()
    untouched.refresh_from_db()
    assert first.updated_at > first_updated
    assert untouched.updated_at == untouched_updated


def test_deleting_an_album_takes_its_songs_out_of_playlists(
    user, make_playlist, make_song, make_album
):
    album = make_album()
    in_album = [make_song("One", album=album), make_song("Two", album=album)]
    single = make_song("Single")
    playlist = make_playlist(user, songs=[in_album[0], single, in_album[1], single, in_album[0]])

    catalog_services.album_delete(album_id=album.pk)

    assert song_ids(playlist) == [single.pk, single.pk]


def test_deleting_the_last_song_of_a_playlist_leaves_it_empty(user, make_playlist, make_song):
    song = make_song()
    playlist = make_playlist(user, songs=[song, song])

    song.delete()  # as the ORM does it anywhere, not only through the service

    assert song_ids(playlist) == []
    assert Playlist.objects.filter(pk=playlist.pk).exists()


def test_after_a_song_is_deleted_the_api_reads_and_writes_the_renumbered_playlist(
    auth_client: Client, user, make_playlist, make_song
):
    a, b, c = make_song("A"), make_song("B"), make_song("C")
    playlist = make_playlist(user, songs=[a, b, c])
    catalog_services.song_delete(song_id=b.pk)

    moved = auth_client.post(
        f"/api/playlists/{playlist.pk}/songs/move/",
        {"from_position": 1, "to_position": 0},
        "application/json",
    )
    listed = auth_client.get(f"/api/playlists/{playlist.pk}/").json()

    assert moved.status_code == 204
    assert song_ids(playlist) == [c.pk, a.pk]
    assert (listed["song_count"], listed["duration"]) == (2, a.duration + c.duration)


def test_a_deleted_account_takes_its_playlists_and_their_images(
    user, make_user, make_playlist, make_song, django_capture_on_commit_callbacks, settings
):
    song = make_song()
    other = make_user()
    mine = make_playlist(user, songs=[song])
    theirs = make_playlist(other, songs=[song])
    services.playlist_update(
        playlist_id=mine.pk, user=user, image_file=upload("p.png", png_bytes())
    )
    mine.refresh_from_db()
    image = settings.MEDIA_ROOT / mine.image.name
    assert image.exists()

    with django_capture_on_commit_callbacks(execute=True):
        users_delete(users=User.objects.filter(pk=user.pk))

    assert list(Playlist.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert list(PlaylistItem.objects.values_list("playlist", flat=True)) == [theirs.pk]
    assert not image.exists()
