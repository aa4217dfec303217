"""Every write of scrobbling: linking and unlinking a listener's accounts, marking a link the
service refused, and queueing the jobs that send plays and "now playing" (scrobbling/tasks.py).
No call to a service is made here but the token's check when a listener links it."""

import logging
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import Conflict, Invalid, Unavailable
from core.sealing import seal
from scrobbling import lastfm, listenbrainz
from scrobbling.models import ScrobbleLink, Service
from users.models import User

logger = logging.getLogger(__name__)

# What derives the key tokens are sealed with (core/sealing.py): no other use shares it.
SEAL_PURPOSE = b"music-streaming-backend: scrobbling token seal, v1"

LISTENBRAINZ_REFUSES_IT = (
    "ListenBrainz does not accept this token: copy it again from "
    "https://listenbrainz.org/settings/."
)
LISTENBRAINZ_UNREACHABLE = "ListenBrainz cannot be reached right now: try again in a moment."
# The link's last_error when the service refuses the token later (revoked, reset).
LISTENBRAINZ_REVOKED = (
    "ListenBrainz refused the token (revoked or reset): plays are not sent until you link "
    "ListenBrainz again with a new token."
)
# The link's last_error when this server can no longer open the sealed token.
SEALED_UNREADABLE = (
    "The server can no longer read the stored token (its key changed): link the service again."
)

LASTFM_NOT_CONFIGURED = (
    "Last.fm is not configured on this server (LASTFM_API_KEY and LASTFM_API_SECRET)."
)
LASTFM_REFUSES_IT = (
    "Last.fm does not accept this token (not authorised, used already or expired): start "
    "again from the authorisation page."
)
LASTFM_UNREACHABLE = "Last.fm cannot be reached right now: try again in a moment."
LASTFM_REVOKED = (
    "Last.fm refused the session (access revoked): plays are not sent until you link Last.fm again."
)
CALLBACK_NOT_HTTP = "The callback must be an http:// or https:// address."
CALLBACK_NOT_OURS = (
    "The callback must be on this server or one of its frontends (CORS_ALLOWED_ORIGINS): "
    "Last.fm hands the listener's token to it."
)
# The link's last_error for each service when it refuses its token later.
REVOKED = {Service.LISTENBRAINZ: LISTENBRAINZ_REVOKED, Service.LASTFM: LASTFM_REVOKED}


def _link_store(*, user: User, service: Service, secret: str, username: str) -> ScrobbleLink:
    link, _ = ScrobbleLink.objects.update_or_create(
        user=user,
        service=service,
        defaults={
            "secret": seal(secret, purpose=SEAL_PURPOSE),
            "username": username,
            "last_error": "",
        },
    )
    return link


def listenbrainz_link(*, user: User, token: str) -> ScrobbleLink:
    """Check the token with ListenBrainz and link it (replacing a former link): 422 when the
    service refuses it, 503 when it cannot be reached; nothing written in either case."""
    try:
        username = listenbrainz.token_username(token)
    except listenbrainz.TokenRefused:
        raise Invalid("token", LISTENBRAINZ_REFUSES_IT) from None
    except (listenbrainz.ServiceUnreachable, listenbrainz.Rejected) as error:
        logger.warning("ListenBrainz token check failed: %s", error)
        raise Unavailable(LISTENBRAINZ_UNREACHABLE) from None
    return _link_store(user=user, service=Service.LISTENBRAINZ, secret=token, username=username)


def _lastfm_configured() -> None:
    if not lastfm.is_configured():
        raise Conflict(LASTFM_NOT_CONFIGURED)


def lastfm_auth_url(*, callback: str, server_origin: str) -> str:
    """Last.fm's authorisation page for this server, back to `callback` with `?token=`.

    The callback must be on this server (`server_origin`, "https://host[:port]") or a
    frontend of CORS_ALLOWED_ORIGINS: whoever receives the token can link that Last.fm
    account, so a link made elsewhere must not hand a listener's token to a stranger."""
    _lastfm_configured()
    if not callback.lower().startswith(("http://", "https://")):
        raise Invalid("callback", CALLBACK_NOT_HTTP, location="query")
    parts = urlsplit(callback)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    allowed = {
        server_origin.lower(),
        *(frontend.lower() for frontend in settings.CORS_ALLOWED_ORIGINS),
    }
    if origin not in allowed:
        raise Invalid("callback", CALLBACK_NOT_OURS, location="query")
    return lastfm.auth_url(callback)


def lastfm_link(*, user: User, token: str) -> ScrobbleLink:
    """Exchange the token Last.fm gave the callback for a session key (auth.getSession,
    signed) and link it: 422 when refused, 503 when unreachable, nothing written then."""
    _lastfm_configured()
    try:
        session_key, username = lastfm.session_for(token)
    except lastfm.SessionRefused:
        raise Invalid("token", LASTFM_REFUSES_IT) from None
    except (lastfm.ServiceUnreachable, lastfm.Rejected) as error:
        logger.warning("Last.fm session request failed: %s", error)
        raise Unavailable(LASTFM_UNREACHABLE) from None
    return _link_store(user=user, service=Service.LASTFM, secret=session_key, username=username)


def link_delete(*, user: User, service: Service) -> None:
    """Unlink: the token is forgotten, and the jobs still queued for it send nothing (they
    look for their link when they run). Unlinking what is not linked is not an error."""
    ScrobbleLink.objects.filter(user=user, service=service).delete()


def link_break(*, link_id: int, error: str) -> None:
    """The service refused the token: forget it, say why, send nothing more until the
    listener links again."""
    updated = ScrobbleLink.objects.filter(pk=link_id).update(secret="", last_error=error)
    if updated:
        logger.info("Scrobble link %s broken: %s", link_id, error)


def _active_links(user_id: int) -> list[int]:
    links = ScrobbleLink.objects.filter(user_id=user_id).exclude(secret="")
    return list(links.values_list("pk", flat=True))


def plays_submit_queue(*, user_id: int, play_ids: list[int]) -> None:
    """One job per link of the listener, queued in the caller's transaction (a play rolled
    back sends nothing)."""
    from scrobbling import tasks  # here: the tasks import this module

    for link_id in _active_links(user_id):
        tasks.listens_submit.enqueue(link_id=link_id, play_ids=play_ids)


def now_playing_queue(*, user_id: int, song_id: int) -> None:
    from scrobbling import tasks

    for link_id in _active_links(user_id):
        tasks.playing_now_submit.enqueue(link_id=link_id, song_id=song_id)
