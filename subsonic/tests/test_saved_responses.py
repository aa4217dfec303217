"""Every implemented endpoint's answer, in XML and JSON, against the one saved in
responses/ (as Gonic's tests do). After a deliberate change: `UPDATE_SAVED=1 pytest
subsonic/tests/test_saved_responses.py`, then review the diff of responses/."""

from typing import Any

import pytest
from django.test import Client

from catalog.models import Song
from library import services as library_services
from subsonic import ids
from subsonic.registry import ENDPOINTS
from subsonic.tests.calls import LISTENER_EMAIL, api_key, assert_saved, call, xml_root
from users.models import User

# Each implemented endpoint, with the parameters of its saved call.
CALLS = {
    "ping": {},
    "getLicense": {},
    "getOpenSubsonicExtensions": {},
    "getMusicFolders": {},
    "getScanStatus": {},
    "getUser": {"username": LISTENER_EMAIL},
    "tokenInfo": {},
    # The listener's collections: "{name}" is filled from the scene (_collections below).
    "getPlaylists": {},
    "getPlaylist": {"id": "{playlist}"},
    "createPlaylist": {"name": "Road Trip", "songId": ["{song}", "{other_song}", "{song}"]},
    "updatePlaylist": {
        "playlistId": "{playlist}",
        "name": "Later Night",
        "public": "false",
        "songIndexToRemove": "0",
        "songIdToAdd": "{song}",
    },
    "deletePlaylist": {"id": "{playlist}"},
    "getPlayQueue": {},
    "savePlayQueue": {"id": ["{other_song}", "{song}"], "current": "{song}", "position": "1000"},
    "getBookmarks": {},
    "createBookmark": {"id": "{other_song}", "position": "5000", "comment": "Bridge"},
    "deleteBookmark": {"id": "{song}"},
}


def _collections(listener: User, other: User, song: Song, other_song: Song) -> dict[str, str]:
    """The listener's playlist, someone else's public one, a play queue and a bookmark; the
    ids the calls name."""
    playlist = library_services.playlist_create(
        owner=listener,
        name="Late Night",
        description="Slow songs for after midnight.",
        is_public=True,
        song_ids=[other_song.pk, song.pk],
    )
    library_services.playlist_create(
        owner=other, name="Bo's Mix", is_public=True, song_ids=[song.pk]
    )
    library_services.play_queue_save(
        user=listener,
        song_ids=[other_song.pk, song.pk],
        current_id=song.pk,
        position_ms=61_500,
        client="DSub",
    )
    library_services.bookmark_save(
        user=listener, song_id=song.pk, position_ms=12_000, comment="Chapter 2"
    )
    return {
        "song": ids.song_id(song.pk),
        "other_song": ids.song_id(other_song.pk),
        "playlist": ids.playlist_id(playlist.pk),
    }


def _filled(params: dict[str, Any], scene: dict[str, str]) -> dict[str, Any]:
    return {
        key: [item.format(**scene) for item in value]
        if isinstance(value, list)
        else value.format(**scene)
        for key, value in params.items()
    }


def test_every_implemented_endpoint_has_a_saved_call():
    assert set(CALLS) == set(ENDPOINTS)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", CALLS)
def test_the_answer_is_the_saved_one(
    client: Client, secret: str, listener, make_user, make_song, name: str, form: str
):
    song = make_song()
    other_song = make_song(title="Lazy Bird")
    other = make_user(email="bo@example.com", full_name="Bo Other")
    scene = _collections(listener, other, song, other_song)

    response = call(client, name, api_key(secret), f=form, **_filled(CALLS[name], scene))

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
    assert_saved(response, name, form)


@pytest.mark.parametrize("form", ["xml", "json"])
def test_an_error_is_the_saved_one(client: Client, db, form: str):
    response = call(client, "ping", api_key("not-a-key"), f=form)

    if form == "xml":
        assert xml_root(response).get("status") == "failed"
    assert_saved(response, "error_invalid_api_key", form)
