from ninja import Field, Schema

from core.schemas import InSchema
from core.text import Text

# Swagger's "Example Value": what a person would see, not "string".
EXAMPLE_TOKEN = "3b5a2a4e-7c1d-4f0e-9a51-0c2b8e6f1d47"  # noqa: S105 (the docs' example)
EXAMPLE_USERNAME = "ada_listens"
EXAMPLE_LASTFM_TOKEN = "Qm9zc2FOb3ZhU2FtYmFKYXp6QmVh"  # noqa: S105 (the docs' example)
EXAMPLE_CALLBACK = "https://music.example.com/settings/scrobbling/lastfm"
EXAMPLE_AUTH_URL = (
    "https://www.last.fm/api/auth/?api_key=0123456789abcdef0123456789abcdef"
    "&cb=https%3A%2F%2Fmusic.example.com%2Fsettings%2Fscrobbling%2Flastfm"
)
EXAMPLE_LAST_ERROR = (
    "ListenBrainz refused the token (revoked or reset): plays are not sent until you link "
    "ListenBrainz again with a new token."
)


class ScrobbleServiceOut(Schema):
    """One service: `linked` while a working token is kept; `last_error` says why it stopped
    (then `linked` is false until the listener links again)."""

    available: bool = Field(..., examples=[True])
    linked: bool = Field(..., examples=[True])
    username: str | None = Field(..., examples=[EXAMPLE_USERNAME])
    last_error: str | None = Field(..., examples=[EXAMPLE_LAST_ERROR])


class ScrobblingOut(Schema):
    listenbrainz: ScrobbleServiceOut
    lastfm: ScrobbleServiceOut


class ListenBrainzTokenIn(InSchema):
    """The user token from https://listenbrainz.org/settings/."""

    token: Text(max_length=200) = Field(..., examples=[EXAMPLE_TOKEN])


class LastFmTokenIn(InSchema):
    """The `token` Last.fm added to the callback's address after the listener allowed it."""

    token: Text(max_length=200) = Field(..., examples=[EXAMPLE_LASTFM_TOKEN])


# A page of the client's own: a few hundred characters at most. The bound keeps the longest
# URL the schema allows within what the servers and nginx take (core/tests/test_nginx.py).
CALLBACK_MAX_LENGTH = 500


class LastFmCallbackQuery(Schema):
    # No `examples` on a query parameter: OpenAPI wants a map there, not pydantic's list.
    callback: Text(max_length=CALLBACK_MAX_LENGTH) = Field(
        ...,
        description=(
            "Your page Last.fm sends the listener back to, with `?token=...` (http or https), "
            f"such as `{EXAMPLE_CALLBACK}`."
        ),
    )


class LastFmAuthUrlOut(Schema):
    url: str = Field(..., examples=[EXAMPLE_AUTH_URL])
