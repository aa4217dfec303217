"""Media annotation: star, unstar, setRating, scrobble.

A starred song is a liked song (`/api/songs/{id}/like/` and `/api/me/likes/` show the same);
albums and artists have stars of their own, and ratings of their own (an album's rating is
not drawn from its songs'). A scrobble with
`submission=true` (the default) is a play in the listener's history, as `POST
/api/songs/{id}/plays/` records it; `submission=false` makes the song their "now playing"
(getNowPlaying, and their activity over Socket.IO).
"""

import math
from datetime import UTC, datetime

from catalog import services as catalog_services
from library import services
from subsonic import ids
from subsonic.errors import SubsonicError, missing_parameter
from subsonic.ids import Kind
from subsonic.params import Params
from subsonic.registry import Body, Call, endpoint
from subsonic.spec import ErrorCode

# At most this many ids in one call (the specification's largest page, `size` 500).
MAX_IDS = 500
TOO_MANY_IDS = f"At most {MAX_IDS} ids in one call."
STAR_IDS_MISSING = "Required parameter is missing: id, albumId or artistId."
RATING_NOT_A_NUMBER = "The rating must be a whole number from 0 to 5."
SUBMISSION_NOT_BOOLEAN = "submission must be true or false."
TIME_INVALID = "time must be milliseconds since 1 January 1970 (a number, not negative)."
TIMES_MISMATCH = "Give one time per id, or none: {times} times for {ids} ids."


def _bounded(values: list[str]) -> list[str]:
    if len(values) > MAX_IDS:
        raise SubsonicError(ErrorCode.GENERIC, TOO_MANY_IDS)
    return values


def _star_targets(params: Params) -> dict[str, list[int]]:
    """The song, album and artist row ids of `id` (any of the three kinds), `albumId` and
    `artistId`, all parsed before anything is written (error 70 for any that is not one)."""
    refs = [ids.parse_as(text, Kind.SONG, Kind.ALBUM, Kind.ARTIST) for text in params.all("id")]
    refs += [ids.parse_as(text, Kind.ALBUM) for text in params.all("albumId")]
    refs += [ids.parse_as(text, Kind.ARTIST) for text in params.all("artistId")]
    if not refs:
        raise SubsonicError(ErrorCode.MISSING_PARAMETER, STAR_IDS_MISSING)
    _bounded(refs)
    return {
        f"{name}_ids": [ref.pk for ref in refs if ref.kind is kind]
        for name, kind in (("song", Kind.SONG), ("album", Kind.ALBUM), ("artist", Kind.ARTIST))
    }


@endpoint("star")
def star(call: Call) -> Body:
    """Every id starred, or none (error 70) when one is not a song, album or artist of ours."""
    services.stars_add(user=call.user, **_star_targets(call.params))
    return None


@endpoint("unstar")
def unstar(call: Call) -> Body:
    services.stars_remove(user=call.user, **_star_targets(call.params))
    return None


@endpoint("setRating")
def set_rating(call: Call) -> Body:
    ref = ids.parse_as(call.params.required("id"), Kind.SONG, Kind.ALBUM, Kind.ARTIST)
    text = call.params.required("rating")
    try:
        rating = int(text)
    except ValueError:
        raise SubsonicError(ErrorCode.GENERIC, RATING_NOT_A_NUMBER) from None
    # Out of 0..5: the service refuses (error 0, its sentence), nothing written.
    if ref.kind is Kind.ALBUM:
        services.album_rate(user=call.user, album_id=ref.pk, rating=rating)
    elif ref.kind is Kind.ARTIST:
        services.artist_rate(user=call.user, artist_id=ref.pk, rating=rating)
    else:
        services.song_rate(user=call.user, song_id=ref.pk, rating=rating)
    return None


def _played_at(text: str) -> datetime:
    """`time` in milliseconds since 1970; a fraction (`1714566600000.0`) is taken too."""
    try:
        milliseconds = float(text)
        if not math.isfinite(milliseconds) or milliseconds < 0:
            raise ValueError(text)
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise SubsonicError(ErrorCode.GENERIC, TIME_INVALID) from None


@endpoint("scrobble")
def scrobble(call: Call) -> Body:
    """`submission=true`: one play per id, at its `time` (ms; a time in the future is now),
    all or none (error 70 when a song does not exist). `submission=false`: the (last) song
    is now playing on the player the request names (`c`); no play is recorded."""
    texts = _bounded(call.params.all("id"))
    if not texts:
        raise missing_parameter("id")
    song_ids = [ids.parse_as(text, Kind.SONG).pk for text in texts]
    submission = call.params.boolean("submission", default=True, invalid=SUBMISSION_NOT_BOOLEAN)
    if not submission:
        services.now_playing_set(
            user=call.user, song_id=song_ids[-1], player_name=call.params.get("c") or ""
        )
        return None
    times = [_played_at(text) for text in call.params.all("time")]
    if times and len(times) != len(song_ids):
        message = TIMES_MISMATCH.format(times=len(times), ids=len(song_ids))
        raise SubsonicError(ErrorCode.GENERIC, message)
    plays = list(zip(song_ids, times or [None] * len(song_ids), strict=True))
    catalog_services.plays_record(user=call.user, plays=plays)
    return None
