"""Album/song lists: getStarred2, the listener's starred artists, albums and songs."""

from library import selectors
from subsonic import shapes
from subsonic.errors import SubsonicError
from subsonic.ids import MUSIC_FOLDER_ID
from subsonic.registry import Body, Call, endpoint
from subsonic.spec import ErrorCode

# The newest this many of each kind: the specification pages nothing here, and a listener's
# stars are a short list (a liked-songs list this long is the REST API's paged /api/me/likes/).
STARRED_MAX = 5_000
NO_SUCH_FOLDER = f"No such music folder: there is one, id {MUSIC_FOLDER_ID}."


@endpoint("getStarred2")
def get_starred2(call: Call) -> Body:
    """Newest star first in each kind, each with the listener's rating. Four queries at
    any size: likes, their ratings, albums and artists (each with its rating)."""
    folder = call.params.get("musicFolderId")
    if folder is not None and folder != str(MUSIC_FOLDER_ID):
        raise SubsonicError(ErrorCode.NOT_FOUND, NO_SUCH_FOLDER)
    likes = list(selectors.likes_of(user=call.user)[:STARRED_MAX])
    ratings = selectors.song_ratings_of(user=call.user, song_ids=[like.song_id for like in likes])
    albums = selectors.albums_starred(user=call.user)[:STARRED_MAX]
    artists = selectors.artists_starred(user=call.user)[:STARRED_MAX]
    return {
        "starred2": {
            "artist": [
                shapes.artist_id3(artist, starred=artist.starred_at, rating=artist.user_rating)
                for artist in artists
            ],
            "album": [
                shapes.album_id3(album, starred=album.starred_at, rating=album.user_rating)
                for album in albums
            ],
            "song": [
                shapes.song_child(
                    like.song, starred=like.liked_at, rating=ratings.get(like.song_id)
                )
                for like in likes
            ],
        }
    }
