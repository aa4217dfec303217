"""Searching: search3, on the engine of `/api/search/` (catalog/search.py): the same rows
found, ranked the same way, best match first.

`artistCount`, `albumCount` and `songCount` (20 by default, at most 500; 0 leaves that kind
out) with their offsets page each kind. The engine ranks the first 1,000 rows a term is found
in, so a page past them is empty. An empty `query` (or `""`, as some clients send it) finds
everything, each kind in the order it was added (what is added meanwhile comes on a later
page), for clients that copy the whole library page by page.
"""

from subsonic import listener, selectors, shapes
from subsonic.errors import missing_parameter
from subsonic.registry import Body, Call, endpoint
from subsonic.selectors import LIST_MAX, Window

SEARCH_COUNT_DEFAULT = 20
# What some clients send for "everything": two quotation marks.
QUOTED_NOTHING = '""'


def _window(call: Call, kind: str) -> Window:
    count = call.params.integer(f"{kind}Count", default=SEARCH_COUNT_DEFAULT, maximum=LIST_MAX)
    return Window(offset=call.params.integer(f"{kind}Offset", default=0), count=count)


@endpoint("search3")
def search3(call: Call) -> Body:
    if not call.params.present("query"):
        raise missing_parameter("query")
    term = (call.params.get("query") or "").strip()
    if term == QUOTED_NOTHING:
        term = ""
    found = selectors.search(
        term=term,
        artists=_window(call, "artist"),
        albums=_window(call, "album"),
        songs=_window(call, "song"),
    )
    return {
        "searchResult3": {
            "artist": [shapes.artist_id3(artist) for artist in found.artists],
            "album": [shapes.album_id3(album) for album in found.albums],
            "song": listener.song_children(call.user, found.songs),
        }
    }
