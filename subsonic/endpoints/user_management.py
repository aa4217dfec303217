"""User management: getUser. The username is the account's email."""

from subsonic.errors import SubsonicError
from subsonic.ids import MUSIC_FOLDER_ID
from subsonic.registry import Body, Call, endpoint
from subsonic.spec import ErrorCode
from users.models import User
from users.selectors import active_users


def _roles(user: User) -> dict[str, object]:
    """What the account may do, in Subsonic's roles. Admin is `User.is_admin`, the rule of
    the REST API's admin routes (superusers and ADMIN_EMAIL); only admins upload songs."""
    return {
        "username": user.email,
        "email": user.email,
        "scrobblingEnabled": True,
        "adminRole": user.is_admin,
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": user.is_admin,
        "playlistRole": True,
        "coverArtRole": True,
        "commentRole": True,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "videoConversionRole": False,
        "folder": [MUSIC_FOLDER_ID],
    }


@endpoint("getUser")
def get_user(call: Call) -> Body:
    """A listener may ask about themselves only (error 50 otherwise); an admin about anyone."""
    username = call.params.required("username").strip().lower()
    caller = call.user
    if username == caller.email:
        return {"user": _roles(caller)}
    if not caller.is_admin:
        raise SubsonicError(ErrorCode.NOT_AUTHORIZED)
    user = active_users().filter(email=username).first()
    if user is None:
        raise SubsonicError(ErrorCode.NOT_FOUND)
    return {"user": _roles(user)}
