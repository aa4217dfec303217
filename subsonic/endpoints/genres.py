"""Genres: getGenres and getSongsByGenre, over the catalog's genre list and `?genre=` filter.

Genres compare ignoring case, as in the REST API: `genre=jazz` finds the songs of "Jazz".
"""

from catalog.selectors.genres import genre_list
from catalog.selectors.songs import song_list
from core.text import clean_text
from subsonic import listener
from subsonic.errors import SubsonicError, missing_parameter
from subsonic.ids import MUSIC_FOLDER_ID
from subsonic.params import Params
from subsonic.registry import Body, Call, endpoint
from subsonic.spec import ErrorCode

# The specification's default and maximum page size of getSongsByGenre; a larger `count` is
# answered with this many songs, as Subsonic and Navidrome do.
SONGS_BY_GENRE_COUNT = 10
SONGS_BY_GENRE_MAX = 500


def _genre(params: Params) -> str:
    """The `genre` parameter trimmed; error 10 when blank, error 0 when it is not text the
    catalog could hold (a control character: the REST API's text rule)."""
    genre = params.required("genre")
    if not genre.strip():
        raise missing_parameter("genre")
    try:
        return clean_text(genre)
    except ValueError as error:
        raise SubsonicError(ErrorCode.GENERIC, str(error)) from None


@endpoint("getGenres")
def get_genres(call: Call) -> Body:
    """Every genre with its song and album counts, by name (the counts are refreshed at
    most once a minute: `catalog.selectors.genres.genre_list`)."""
    genres = [
        {"songCount": genre.song_count, "albumCount": genre.album_count, "value": genre.name}
        for genre in genre_list()
    ]
    return {"genres": {"genre": genres}}


@endpoint("getSongsByGenre")
def get_songs_by_genre(call: Call) -> Body:
    """The genre's songs in the order they were added, `count` (10, at most 500) from
    `offset`: one query on the songs' genre index, and the listener's stars and ratings of
    them (one query each, none for no songs)."""
    params = call.params
    genre = _genre(params)
    count = params.whole_number("count")
    count = SONGS_BY_GENRE_COUNT if count is None else min(count, SONGS_BY_GENRE_MAX)
    offset = params.whole_number("offset") or 0
    folder = params.get("musicFolderId")
    if folder is not None and folder.strip() != str(MUSIC_FOLDER_ID):
        return {"songsByGenre": {"song": []}}  # the one folder holds every song
    songs = list(song_list(genre=genre, ordering="created_at")[offset : offset + count])
    return {"songsByGenre": {"song": listener.song_children(call.user, songs)}}
