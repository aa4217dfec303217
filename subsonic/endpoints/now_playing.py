"""Album/song lists: getNowPlaying, what every listener's player said it is playing
(`scrobble` with `submission=false`), until about the song's end."""

from django.utils import timezone

from library import selectors
from library.models import NowPlaying
from subsonic import listener, shapes
from subsonic.registry import Body, Call, endpoint
from users.models import User

# The latest this many listeners: a page, not the whole platform at once.
NOW_PLAYING_MAX = 100


def _username(entry: NowPlaying, caller: User) -> str:
    """The caller is their email, as they sign in (getUser's `username`); anyone else is
    their public name: an email is never shown to others (UserPublic in the REST API)."""
    return caller.email if entry.user_id == caller.pk else entry.user.full_name


@endpoint("getNowPlaying")
def get_now_playing(call: Call) -> Body:
    """Each entry is the song as `Child` (with the caller's star and rating) and who plays
    it, since how many whole minutes, on which player (`playerId` 0: players have no ids
    here). Three queries at any size."""
    entries = list(selectors.now_playing()[:NOW_PLAYING_MAX])
    marks = listener.annotations_for(call.user, [entry.song for entry in entries])
    now = timezone.now()
    return {
        "nowPlaying": {
            "entry": [
                {
                    **shapes.song_child(entry.song, **marks[entry.song_id]._asdict()),
                    "username": _username(entry, call.user),
                    "minutesAgo": max(0, int((now - entry.started_at).total_seconds() // 60)),
                    "playerId": 0,
                    "playerName": entry.player_name or None,
                }
                for entry in entries
            ]
        }
    }
