"""Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist.

The REST API's playlists with its rules (library's selectors and services): a listener sees
their own playlists and everyone's public ones; someone else's private playlist is not found
(error 70), someone else's public one may be read but not changed (error 50). A smart
playlist is listed and read (its songs as its rules take them now) and `readonly` to all:
changing it here is error 0, its rules are the REST API's to edit. A name and a
comment follow the REST API's schema (library.schemas). Every change is made whole or not at
all: an index out of range or an unknown song writes nothing.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import pydantic

from core.errors import validation_items
from library import selectors, services
from library.schemas import PlaylistIn, PlaylistPatch
from subsonic import ids, listener, shapes
from subsonic.errors import SubsonicError
from subsonic.registry import Body, Call, endpoint
from subsonic.spec import ErrorCode
from users.models import User
from users.selectors import active_users

# getPlaylists answers at most this many (the specification's largest page elsewhere).
MAX_LISTED = 500
# The REST API's field names as Subsonic's parameters, for the messages of a refusal.
_PARAMETER_OF_FIELD = {"name": "name", "description": "comment", "is_public": "public"}


def _playlist_pk(text: str) -> int:
    return ids.parse_as(text, ids.Kind.PLAYLIST).pk


def _song_pks(texts: Iterable[str]) -> list[int]:
    return [ids.parse_as(text, ids.Kind.SONG).pk for text in texts]


def _fields(schema: type[pydantic.BaseModel], data: Mapping[str, str]) -> dict[str, Any]:
    """`data` checked by the REST API's schema: the same rules (a name's length, no control
    characters, true or false); error 0 naming the parameter otherwise."""
    try:
        checked = schema.model_validate(dict(data), context={"form": True})
    except pydantic.ValidationError as error:
        item = validation_items(error, location="query")[0]
        field = str(item["loc"][-1])
        name = _PARAMETER_OF_FIELD.get(field, field)
        raise SubsonicError(ErrorCode.GENERIC, f"{name}: {item['msg']}") from None
    return checked.model_dump(exclude_unset=True)


def _with_songs(playlist_pk: int, viewer: User) -> dict[str, Any]:
    """The playlist as `PlaylistWithSongs`: three queries whatever its length (a smart one's
    songs as its rules take them now: one more, for its figures)."""
    playlist = selectors.playlist_get(playlist_id=playlist_pk, user=viewer)
    songs = listener.song_children(
        viewer, selectors.playlist_songs(playlist_id=playlist_pk, user=viewer)
    )
    return shapes.playlist(playlist, viewer=viewer, songs=songs)


@endpoint("getPlaylists")
def get_playlists(call: Call) -> Body:
    """The caller's playlists and everyone's public ones. With `username`, another user's:
    for admins only (error 50), and only the public ones, as the REST API's `?owner=`
    shows them to anyone; their own username is the same as none."""
    caller = call.user
    username = (call.params.get("username") or caller.email).strip().lower()
    if username == caller.email:
        playlists = selectors.playlists_visible(user=caller, limit=MAX_LISTED)
    elif not caller.is_admin:
        raise SubsonicError(ErrorCode.NOT_AUTHORIZED)
    else:
        owner = active_users().filter(email=username).first()
        if owner is None:
            raise SubsonicError(ErrorCode.NOT_FOUND)
        playlists = selectors.playlists_of(user=caller, owner_id=owner.pk)[:MAX_LISTED]
    return {"playlists": {"playlist": [shapes.playlist(each, viewer=caller) for each in playlists]}}


@endpoint("getPlaylist")
def get_playlist(call: Call) -> Body:
    return {"playlist": _with_songs(_playlist_pk(call.params.required("id")), call.user)}


@endpoint("createPlaylist")
def create_playlist(call: Call) -> Body:
    """With `name`: a new private playlist of the `songId`s in order. With `playlistId`: that
    playlist's songs replaced by them (and renamed, with `name`), for its owner only. Answers
    the playlist with its songs (since 1.14)."""
    params, caller = call.params, call.user
    song_pks = _song_pks(params.all("songId"))
    existing = params.get("playlistId")
    if existing is None:
        fields = _fields(PlaylistIn, {"name": params.required("name")})
        playlist_pk = services.playlist_create(owner=caller, song_ids=song_pks, **fields).pk
    else:
        playlist_pk = _playlist_pk(existing)
        name = params.get("name")
        fields = _fields(PlaylistPatch, {"name": name} if name is not None else {})
        services.playlist_edit(playlist_id=playlist_pk, user=caller, song_ids=song_pks, **fields)
    return {"playlist": _with_songs(playlist_pk, caller)}


@endpoint("updatePlaylist")
def update_playlist(call: Call) -> Body:
    """Rename, comment, make public or private, take out the songs at `songIndexToRemove`
    (0-based, counted before this change) and put the `songIdToAdd` at the end: for the
    owner only, all together."""
    params = call.params
    playlist_pk = _playlist_pk(params.required("playlistId"))
    sent = {
        "name": params.given("name"),
        "description": params.given("comment"),  # empty clears it
        "is_public": params.get("public"),
    }
    fields = _fields(
        PlaylistPatch, {key: value for key, value in sent.items() if value is not None}
    )
    services.playlist_edit(
        playlist_id=playlist_pk,
        user=call.user,
        remove_positions=params.whole_numbers("songIndexToRemove"),
        append_song_ids=_song_pks(params.all("songIdToAdd")),
        **fields,
    )
    return None


@endpoint("deletePlaylist")
def delete_playlist(call: Call) -> Body:
    services.playlist_delete(playlist_id=_playlist_pk(call.params.required("id")), user=call.user)
    return None
