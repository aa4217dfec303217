"""getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist: who may see and
change what (the REST API's object-level rules), all-or-nothing changes, query counts."""

import pytest
from django.test import Client

from catalog.selectors.songs import SONG_NOT_FOUND
from library import services
from library.models import Playlist, PlaylistItem
from library.selectors import PLAYLIST_NOT_FOUND
from library.services import NOT_YOUR_PLAYLIST, no_item_at_message
from subsonic import ids
from subsonic.tests.calls import LISTENER_EMAIL, answer, api_key, call, error_of
from users import services as user_services

NOT_AUTHORIZED = {"code": 50, "message": "User is not authorized for the given operation."}


def not_found(message: str) -> dict:
    return {"code": 70, "message": message}


def generic(message: str) -> dict:
    return {"code": 0, "message": message}


@pytest.fixture
def songs(make_song, make_album):
    album = make_album()
    return [make_song(f"Song {n}", album=album if n % 2 else None) for n in range(4)]


@pytest.fixture
def other(make_user):
    return make_user(email="bo@example.com", full_name="Bo Other")


def playlist_of(owner, name="Mix", songs=(), **fields) -> Playlist:
    return services.playlist_create(
        owner=owner, name=name, song_ids=[song.pk for song in songs], **fields
    )


def song_ids_of(playlist: Playlist) -> list[int]:
    items = PlaylistItem.objects.filter(playlist=playlist).order_by("position")
    return list(items.values_list("song_id", flat=True))


def snapshot(playlist: Playlist) -> tuple:
    """Everything a write could change: fields, changed time and songs."""
    row = Playlist.objects.get(pk=playlist.pk)
    return (row.name, row.description, row.is_public, row.updated_at, song_ids_of(row))


def sid(song) -> str:
    return ids.song_id(song.pk)


def pid(playlist: Playlist) -> str:
    return ids.playlist_id(playlist.pk)


# --- getPlaylists -------------------------------------------------------------------------


def test_the_list_is_yours_then_others_public_ones(
    client: Client, secret: str, listener, other, songs
):
    mine = playlist_of(listener, "Mine", songs[:2])
    theirs = playlist_of(other, "Theirs", songs[1:], is_public=True, description="Bo's")
    playlist_of(other, "Hidden")

    listed = answer(call(client, "getPlaylists", api_key(secret)))["playlists"]["playlist"]

    assert [(p["id"], p["name"]) for p in listed] == [(pid(mine), "Mine"), (pid(theirs), "Theirs")]
    own, others = listed
    # Your own under your username; someone else's under their name, never their email.
    assert (own["owner"], own["readonly"], own["public"]) == (LISTENER_EMAIL, False, False)
    assert (others["owner"], others["readonly"], others["public"]) == ("Bo Other", True, True)
    assert (own["songCount"], others["songCount"], others["comment"]) == (2, 3, "Bo's")
    assert own["duration"] == sum(song.duration for song in songs[:2])
    assert "comment" not in own


def test_the_list_costs_three_queries_whatever_its_length(
    client: Client, secret: str, listener, other, songs, django_assert_num_queries
):
    for n in range(3):
        playlist_of(listener, f"Mine {n}", songs)
        playlist_of(other, f"Theirs {n}", songs, is_public=True)
    call(client, "ping", api_key(secret))  # the key's first use is recorded: one write

    with django_assert_num_queries(3):  # sign-in, yours, others' public ones
        response = call(client, "getPlaylists", api_key(secret))

    assert len(answer(response)["playlists"]["playlist"]) == 6


def test_another_users_playlists_are_for_admins(client: Client, secret: str, listener, other):
    playlist_of(other, "Theirs", is_public=True)

    refused = call(client, "getPlaylists", api_key(secret), username=other.email)
    own = call(client, "getPlaylists", api_key(secret), username=LISTENER_EMAIL.upper())

    assert error_of(refused) == NOT_AUTHORIZED
    assert answer(own)["playlists"]["playlist"][0]["name"] == "Theirs"


def test_an_admin_gets_another_users_public_playlists(client: Client, admin_user, other):
    secret = user_services.app_password_create(user=admin_user, name="Admin").secret
    public = playlist_of(other, "Theirs", is_public=True)
    playlist_of(other, "Hidden")
    playlist_of(admin_user, "The admin's")

    listed = answer(call(client, "getPlaylists", api_key(secret), username=other.email))
    unknown = call(client, "getPlaylists", api_key(secret), username="nobody@example.com")

    # Only the public ones, as the REST API's ?owner= shows them; an admin sees the email.
    assert [(p["id"], p["owner"]) for p in listed["playlists"]["playlist"]] == [
        (pid(public), other.email)
    ]
    assert error_of(unknown)["code"] == 70


# --- getPlaylist --------------------------------------------------------------------------


def test_a_playlist_comes_with_its_songs_in_order(client: Client, secret: str, listener, songs):
    a, b, c, _ = songs
    playlist = playlist_of(listener, "Mix", [c, a, c, b])

    body = answer(call(client, "getPlaylist", api_key(secret), id=pid(playlist)))["playlist"]

    assert [entry["id"] for entry in body["entry"]] == [sid(c), sid(a), sid(c), sid(b)]
    assert (body["id"], body["songCount"], body["readonly"]) == (pid(playlist), 4, False)
    # Each song as the Child every endpoint answers: with its album when it has one.
    assert body["entry"][3]["albumId"] == ids.album_id(b.album_id)
    assert "albumId" not in body["entry"][0]


def test_a_playlist_costs_five_queries_whatever_its_length(
    client: Client, secret: str, listener, songs, django_assert_num_queries
):
    playlist = playlist_of(listener, "Long", songs * 10)
    call(client, "ping", api_key(secret))  # the key's first use is recorded: one write

    # Sign-in, the playlist with its summary, may I see it, its songs with their albums, the
    # listener's stars and ratings of them (one query).
    with django_assert_num_queries(5):
        response = call(client, "getPlaylist", api_key(secret), id=pid(playlist))

    assert len(answer(response)["playlist"]["entry"]) == 40


def test_someone_elses_public_playlist_is_readable(client: Client, secret: str, other, songs):
    public = playlist_of(other, "Theirs", songs[:1], is_public=True)

    body = answer(call(client, "getPlaylist", api_key(secret), id=pid(public)))["playlist"]

    assert (body["owner"], body["readonly"], len(body["entry"])) == ("Bo Other", True, 1)


@pytest.mark.parametrize("playlist_id", ["hidden", "pl-999999", "al-1", "7", "pl-x"])
def test_a_private_playlist_of_someone_else_is_not_found(
    client: Client, secret: str, other, playlist_id: str
):
    hidden = playlist_of(other, "Hidden")
    if playlist_id == "hidden":
        playlist_id = pid(hidden)

    error = error_of(call(client, "getPlaylist", api_key(secret), id=playlist_id))

    assert error["code"] == 70
    if playlist_id == pid(hidden):  # the same answer as a playlist that does not exist
        assert error == not_found(PLAYLIST_NOT_FOUND)


def test_get_playlist_needs_an_id(client: Client, secret: str):
    assert error_of(call(client, "getPlaylist", api_key(secret))) == {
        "code": 10,
        "message": "Required parameter is missing: id.",
    }


# --- createPlaylist -----------------------------------------------------------------------


def test_a_new_playlist_is_made_with_its_songs(client: Client, secret: str, listener, songs):
    a, b, *_ = songs

    response = call(
        client,
        "createPlaylist",
        api_key(secret),
        name=" Road Trip ",
        songId=[sid(b), sid(a), sid(b)],
    )

    body = answer(response)["playlist"]
    made = Playlist.objects.get()
    assert (made.owner, made.name, made.is_public) == (listener, "Road Trip", False)
    assert song_ids_of(made) == [b.pk, a.pk, b.pk]
    assert body["id"] == pid(made)
    assert [entry["id"] for entry in body["entry"]] == [sid(b), sid(a), sid(b)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "Road Trip", "songId": ["tr-999999"]}, not_found(SONG_NOT_FOUND)),
        ({"name": "Road Trip", "songId": ["al-1"]}, not_found("No such item: al-1.")),
        ({"name": "x" * 101}, generic("name: String should have at most 100 characters")),
        ({"name": "a\x07b"}, generic("name: This field may not contain control characters.")),
        ({"songId": ["tr-1"]}, {"code": 10, "message": "Required parameter is missing: name."}),
    ],
)
def test_a_refused_new_playlist_is_not_made(
    client: Client, secret: str, songs, params: dict, expected: dict
):
    assert error_of(call(client, "createPlaylist", api_key(secret), **params)) == expected
    assert not Playlist.objects.exists()


def test_create_with_an_id_replaces_the_owners_songs(client: Client, secret: str, listener, songs):
    a, b, c, d = songs
    playlist = playlist_of(listener, "Mix", [a, b])

    response = call(
        client, "createPlaylist", api_key(secret), playlistId=pid(playlist), songId=[sid(d), sid(c)]
    )

    assert [entry["id"] for entry in answer(response)["playlist"]["entry"]] == [sid(d), sid(c)]
    assert song_ids_of(playlist) == [d.pk, c.pk]
    assert Playlist.objects.count() == 1


# --- updatePlaylist -----------------------------------------------------------------------


def test_an_update_changes_fields_removes_by_index_and_appends(
    client: Client, secret: str, listener, songs
):
    a, b, c, d = songs
    playlist = playlist_of(listener, "Mix", [a, b, c], description="Old")

    response = call(
        client,
        "updatePlaylist",
        api_key(secret),
        method="post",
        playlistId=pid(playlist),
        name="Renamed",
        comment="",
        public="true",
        songIndexToRemove=["2", "0"],
        songIdToAdd=[sid(d), sid(a)],
    )

    assert answer(response)["status"] == "ok"
    row = Playlist.objects.get(pk=playlist.pk)
    assert (row.name, row.description, row.is_public) == ("Renamed", "", True)
    assert song_ids_of(row) == [b.pk, d.pk, a.pk]
    assert list(
        PlaylistItem.objects.filter(playlist=row)
        .order_by("position")
        .values_list("position", flat=True)
    ) == [0, 1, 2]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"songIndexToRemove": ["1", "3"]}, generic(no_item_at_message(3))),
        (
            {"songIndexToRemove": ["-1"]},
            generic("songIndexToRemove must be a whole number of at most 18 digits."),
        ),
        (
            {"songIndexToRemove": ["one"]},
            generic("songIndexToRemove must be a whole number of at most 18 digits."),
        ),
        ({"songIdToAdd": ["tr-999999"]}, not_found(SONG_NOT_FOUND)),
        ({"public": "yes"}, generic("public: Input should be a valid boolean")),
        ({"name": ""}, generic("name: This field may not be blank.")),
        ({"comment": "x" * 301}, generic("comment: String should have at most 300 characters")),
    ],
)
def test_a_refused_update_changes_nothing(
    client: Client, secret: str, listener, songs, params: dict, expected: dict
):
    a, b, c, d = songs
    playlist = playlist_of(listener, "Mix", [a, b, c])
    before = snapshot(playlist)
    # Every other change of the same call is valid: none of them is made either.
    valid = {"name": "Renamed", "public": "true", "songIdToAdd": [sid(d)]}

    response = call(
        client, "updatePlaylist", api_key(secret), playlistId=pid(playlist), **{**valid, **params}
    )

    assert error_of(response) == expected
    assert snapshot(playlist) == before


# --- Someone else's playlists: read a public one, change neither -------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("updatePlaylist", {"name": "Mine now", "songIndexToRemove": ["0"]}),
        ("createPlaylist", {"songId": []}),
        ("deletePlaylist", {}),
    ],
)
@pytest.mark.parametrize("public", [True, False])
def test_someone_elses_playlist_is_not_changed(
    client: Client, secret: str, other, songs, name: str, params: dict, public: bool
):
    theirs = playlist_of(other, "Theirs", songs[:2], is_public=public)
    before = snapshot(theirs)
    key = "id" if name == "deletePlaylist" else "playlistId"

    error = error_of(call(client, name, api_key(secret), **{key: pid(theirs)}, **params))

    # Public: seen, not yours (50). Private: not seen at all (70), as the REST API answers.
    expected = (
        {"code": 50, "message": NOT_YOUR_PLAYLIST} if public else not_found(PLAYLIST_NOT_FOUND)
    )
    assert error == expected
    assert snapshot(theirs) == before


# --- deletePlaylist -----------------------------------------------------------------------


def test_the_owner_deletes_a_playlist(client: Client, secret: str, listener, songs):
    playlist = playlist_of(listener, "Mix", songs)
    kept = playlist_of(listener, "Kept", songs)

    response = call(client, "deletePlaylist", api_key(secret), id=pid(playlist))
    again = call(client, "deletePlaylist", api_key(secret), id=pid(playlist))

    assert answer(response)["status"] == "ok"
    assert error_of(again) == not_found(PLAYLIST_NOT_FOUND)
    assert list(Playlist.objects.values_list("pk", flat=True)) == [kept.pk]
    assert PlaylistItem.objects.filter(playlist_id=playlist.pk).count() == 0
