"""The handlers of the Subsonic endpoints, one module per section of the specification's list
(docs/opensubsonic-api.md). Importing this package registers them all."""

from subsonic.endpoints import (
    annotation,
    bookmarks,
    browsing,
    genres,
    lists,
    lists_starred,
    lyrics,
    media,
    now_playing,
    playlists,
    scanning,
    searching,
    system,
    user_management,
)

__all__ = [
    "annotation",
    "bookmarks",
    "browsing",
    "genres",
    "lists",
    "lists_starred",
    "lyrics",
    "media",
    "now_playing",
    "playlists",
    "scanning",
    "searching",
    "system",
    "user_management",
]
