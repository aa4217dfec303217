"""Bookmarks and the play queue: getPlayQueue, savePlayQueue, getBookmarks, createBookmark,
deleteBookmark (library's PlayQueue and Bookmark: the listener's own, seen by no one else).

Positions are milliseconds. A song id that is not a song is error 70 and nothing is saved; a
value out of range is error 0 with a sentence.
"""

from typing import Any

from library import selectors, services
from library.models import Bookmark
from subsonic import ids, shapes
from subsonic.errors import missing_parameter
from subsonic.registry import Body, Call, endpoint


def _song_pk(text: str) -> int:
    return ids.parse_as(text, ids.Kind.SONG).pk


@endpoint("getPlayQueue")
def get_play_queue(call: Call) -> Body:
    """The queue as the listener's last client saved it (two queries). Never saved: empty,
    changed when the account was made, by no client."""
    queue = selectors.play_queue_of(user=call.user)
    return {
        "playQueue": {
            "current": ids.song_id(queue.current_id) if queue.current_id else None,
            "position": queue.position_ms,
            "username": call.user.email,
            "changed": queue.changed_at,
            "changedBy": queue.changed_by,
            "entry": [shapes.song_child(song) for song in queue.songs],
        }
    }


@endpoint("savePlayQueue")
def save_play_queue(call: Call) -> Body:
    """The `id`s in order, `current` (one of them; the first when left out) and `position`
    (0 when left out), saved as by the client `c`. No `id` clears the queue."""
    params = call.params
    current = params.get("current")
    services.play_queue_save(
        user=call.user,
        song_ids=[_song_pk(text) for text in params.all("id")],
        current_id=_song_pk(current) if current is not None else None,
        position_ms=params.whole_number("position") or 0,
        client=params.required("c"),
    )
    return None


def _bookmark(bookmark: Bookmark, username: str) -> dict[str, Any]:
    return {
        "position": bookmark.position_ms,
        "username": username,
        "comment": bookmark.comment,
        "created": bookmark.created_at,
        "changed": bookmark.changed_at,
        "entry": shapes.song_child(bookmark.song),
    }


@endpoint("getBookmarks")
def get_bookmarks(call: Call) -> Body:
    """The listener's bookmarks, latest change first (one query)."""
    bookmarks = selectors.bookmarks_of(user=call.user)
    return {"bookmarks": {"bookmark": [_bookmark(each, call.user.email) for each in bookmarks]}}


@endpoint("createBookmark")
def create_bookmark(call: Call) -> Body:
    """Bookmark the song `id` at `position`, with `comment`; a bookmark of it is replaced."""
    params = call.params
    song_pk = _song_pk(params.required("id"))
    position = params.whole_number("position")
    if position is None:
        raise missing_parameter("position")
    services.bookmark_save(
        user=call.user,
        song_id=song_pk,
        position_ms=position,
        comment=params.given("comment") or "",
    )
    return None


@endpoint("deleteBookmark")
def delete_bookmark(call: Call) -> Body:
    services.bookmark_delete(user=call.user, song_id=_song_pk(call.params.required("id")))
    return None
