"""Smart playlists in Subsonic: listed and read with their songs as their rules take them now,
read-only to every client (their rules are the REST API's to edit)."""

from django.test import Client

from library import services
from library.models import Playlist, PlaylistItem
from library.services import SMART_PLAYLIST_READ_ONLY
from library.smart_schemas import SmartRules
from library.tests import smart_rows as rows
from subsonic import ids
from subsonic.tests.calls import answer, api_key, call, error_of

JAZZ = SmartRules.model_validate(
    {
        "match": "all",
        "rules": [{"field": "genre", "operator": "is", "value": "jazz"}],
        "sort": "year",
    }
)


def smart_playlist(owner, **fields) -> Playlist:
    return services.playlist_create(owner=owner, name="Jazz", rules=JAZZ, **fields)


def test_get_playlists_lists_a_smart_playlist_read_only(client: Client, secret, listener, db):
    playlist = smart_playlist(listener)

    listed = answer(call(client, "getPlaylists", api_key(secret)))["playlists"]["playlist"]

    assert [(each["id"], each["readonly"]) for each in listed] == [
        (ids.playlist_id(playlist.pk), True)
    ]


def test_get_playlist_reads_the_songs_its_rules_take_now(client: Client, secret, listener, db):
    playlist = smart_playlist(listener)
    late = rows.song("Blue Train", "John Coltrane", genre="Jazz", year=1957)
    early = rows.song("Round Midnight", "Thelonious Monk", genre="JAZZ", year=1947)
    rows.song("Creep", "Radiohead", genre="Rock", year=1992)

    body = answer(call(client, "getPlaylist", api_key(secret), id=ids.playlist_id(playlist.pk)))

    read = body["playlist"]
    assert [entry["id"] for entry in read["entry"]] == [ids.song_id(early.pk), ids.song_id(late.pk)]
    assert (read["songCount"], read["duration"], read["readonly"]) == (2, 400, True)


def test_update_and_create_with_its_id_refuse_a_smart_playlist(
    client: Client, secret, listener, db
):
    playlist = smart_playlist(listener)
    song = rows.song("Blue Train", "John Coltrane", genre="Jazz")
    before = Playlist.objects.values().get()
    playlist_id = ids.playlist_id(playlist.pk)

    updated = call(
        client, "updatePlaylist", api_key(secret), playlistId=playlist_id, name="Renamed"
    )
    added = call(
        client,
        "updatePlaylist",
        api_key(secret),
        playlistId=playlist_id,
        songIdToAdd=ids.song_id(song.pk),
    )
    replaced = call(
        client,
        "createPlaylist",
        api_key(secret),
        playlistId=playlist_id,
        songId=ids.song_id(song.pk),
    )

    refused = {"code": 0, "message": SMART_PLAYLIST_READ_ONLY}
    assert [error_of(each) for each in (updated, added, replaced)] == [refused] * 3
    assert Playlist.objects.values().get() == before
    assert not PlaylistItem.objects.exists()
