"""Lists: getAlbumList2 (albums as AlbumID3), getAlbumList (the same albums as folders, for
folder-based clients) and getRandomSongs.

The album lists by `type`:

| type | albums |
| --- | --- |
| random | at random (catalog's id probes) |
| newest | the newest added first |
| alphabeticalByName | by title |
| alphabeticalByArtist | by the credited artist, then in the order they were added |
| frequent | the ones the listener played most, with `playCount` (theirs, as Navidrome) |
| highest | the ones the listener rated or played: highest rated, then most played, first |
| recent | the ones the listener played, the latest played first |
| starred | the ones the listener starred, the latest star first, with `starred` |
| byYear | from `fromYear` to `toYear` (both required): the later first if `fromYear` is |
| byGenre | of the `genre` (required, ignoring case), the newest added first |

`size` is 10 by default, at least 1 and 500 at most (a larger one is taken as 500), `offset`
0 by default; `musicFolderId` is the one folder, ignored.
"""

from collections.abc import Callable
from enum import StrEnum

from catalog.models import Album
from subsonic import listener, selectors, shapes
from subsonic.errors import SubsonicError
from subsonic.registry import Body, Call, endpoint
from subsonic.selectors import LIST_MAX
from subsonic.spec import ErrorCode

LIST_SIZE_DEFAULT = 10
UNKNOWN_LIST_TYPE = "Unknown list type: {type}. One of: {types}."
LIST_SIZE_TOO_SMALL = "size must be at least 1."


class ListType(StrEnum):
    RANDOM = "random"
    NEWEST = "newest"
    HIGHEST = "highest"
    FREQUENT = "frequent"
    RECENT = "recent"
    ALPHABETICAL_BY_NAME = "alphabeticalByName"
    ALPHABETICAL_BY_ARTIST = "alphabeticalByArtist"
    STARRED = "starred"
    BY_YEAR = "byYear"
    BY_GENRE = "byGenre"


# An album of a list, and the listener's plays of it when the list counts them.
Listed = tuple[Album, int | None]


def _list_type(call: Call) -> ListType:
    text = call.params.required("type")
    try:
        return ListType(text)
    except ValueError:
        types = ", ".join(kind.value for kind in ListType)
        message = UNKNOWN_LIST_TYPE.format(type=text, types=types)
        raise SubsonicError(ErrorCode.GENERIC, message) from None


def _unplayed(albums: list[Album]) -> list[Listed]:
    return [(album, None) for album in albums]


def _albums(call: Call) -> list[Listed]:
    """The albums of the list the call asks for, checked first: an unknown type, or a
    missing year or genre, answers its error before anything is read."""
    kind = _list_type(call)
    years = genre = None
    if kind is ListType.BY_YEAR:
        years = (call.params.required_integer("fromYear"), call.params.required_integer("toYear"))
    else:  # not used, but a year that is not a number is refused whatever the type
        call.params.whole_number("fromYear")
        call.params.whole_number("toYear")
    if kind is ListType.BY_GENRE:
        genre = call.params.required("genre")
    size = call.params.integer("size", default=LIST_SIZE_DEFAULT, maximum=LIST_MAX)
    if size < 1:  # the specification's `minimum: 1` (getRandomSongs' is 0)
        raise SubsonicError(ErrorCode.GENERIC, LIST_SIZE_TOO_SMALL)
    offset = call.params.integer("offset", default=0)
    ordered: dict[ListType, tuple[str, ...]] = {
        ListType.NEWEST: selectors.ALBUMS_NEWEST,
        ListType.ALPHABETICAL_BY_NAME: selectors.ALBUMS_BY_NAME,
        ListType.ALPHABETICAL_BY_ARTIST: selectors.ALBUMS_BY_ARTIST,
    }
    if kind in ordered:
        return _unplayed(selectors.albums_ordered(ordered[kind], offset=offset, size=size))
    if kind is ListType.RANDOM:
        return _unplayed(selectors.albums_random(size=size))
    if kind is ListType.FREQUENT:
        played = selectors.albums_played_most_by(user=call.user, offset=offset, size=size)
        return [(album, plays) for album, plays in played]
    if kind is ListType.HIGHEST:
        rated = selectors.albums_rated_highest_by(user=call.user, offset=offset, size=size)
        return [(album, plays) for album, plays in rated]
    if kind is ListType.RECENT:
        recent = selectors.albums_played_lately_by(user=call.user, offset=offset, size=size)
        return _unplayed(recent)
    if years is not None:
        from_year, to_year = years
        by_year = selectors.albums_by_year(
            from_year=from_year, to_year=to_year, offset=offset, size=size
        )
        return _unplayed(by_year)
    if genre is not None:
        return _unplayed(selectors.albums_of_genre(genre=genre, offset=offset, size=size))
    return _unplayed(selectors.albums_starred_by(user=call.user, offset=offset, size=size))


def _answer(call: Call, shape: Callable[..., dict]) -> list[dict]:
    listed = _albums(call)
    albums = [album for album, _ in listed]
    stars = listener.album_stars(call.user, albums)
    ratings = listener.album_ratings(call.user, albums)
    return [
        shape(album, play_count=plays, starred=stars.get(album.pk), rating=ratings.get(album.pk))
        for album, plays in listed
    ]


@endpoint("getAlbumList2")
def get_album_list2(call: Call) -> Body:
    return {"albumList2": {"album": _answer(call, shapes.album_id3)}}


@endpoint("getAlbumList")
def get_album_list(call: Call) -> Body:
    return {"albumList": {"album": _answer(call, shapes.album_child)}}


@endpoint("getRandomSongs")
def get_random_songs(call: Call) -> Body:
    """Up to `size` (10 by default, at most 500) random songs, of albums released from
    `fromYear` to `toYear` when given (either or both), of a `genre` when given, with the
    listener's stars and ratings."""
    size = call.params.integer("size", default=LIST_SIZE_DEFAULT, maximum=LIST_MAX)
    from_year = _optional_year(call, "fromYear")
    to_year = _optional_year(call, "toYear")
    found = selectors.songs_random(
        size=size, from_year=from_year, to_year=to_year, genre=call.params.get("genre")
    )
    return {"randomSongs": {"song": listener.song_children(call.user, found)}}


def _optional_year(call: Call, name: str) -> int | None:
    if not call.params.has(name):
        return None
    return call.params.required_integer(name)
