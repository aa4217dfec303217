"""The Last.fm client (pylast) as this app uses it: the web auth flow's session key, scrobbles
and "now playing", their failures sorted as listenbrainz.py sorts ListenBrainz's.

pylast always speaks HTTPS to `network.ws_server` (host, path): LASTFM_API_URL gives both
(another host, a port), and LASTFM_CA_FILE, when set, adds a certificate authority to the
context pylast verifies with (a private deployment's; the tests' local fake). Plain HTTP is
not possible through pylast, so an http:// LASTFM_API_URL is refused at the first call.
"""

import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import pylast
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

AUTH_URL = "https://www.last.fm/api/auth/"
LASTFM_URL_NOT_HTTPS = "LASTFM_API_URL must be an https:// address (pylast speaks HTTPS only)."

# Last.fm's error codes (https://www.last.fm/api/errorcodes) for a session or token that is
# not, or no longer, valid: retrying never helps, the listener must link again.
SESSION_REFUSED = {
    str(pylast.STATUS_AUTH_FAILED),
    str(pylast.STATUS_INVALID_SK),
    str(pylast.STATUS_TOKEN_UNAUTHORIZED),
    str(pylast.STATUS_TOKEN_EXPIRED),
    str(pylast.STATUS_LOGIN_REQUIRED),
}
# Service trouble a later try may not meet (pylast's own list: 8, 11, 16, 29 and HTTP 5xx).
RETRYABLE = pylast._RETRYABLE_STATUSES

_trusted: set[str] = set()
_trusted_lock = threading.Lock()


class SessionRefused(Exception):
    """The token (web auth) or session key is not, or no longer, valid."""


class ServiceUnreachable(Exception):
    """No answer, a timeout, an overloaded or failing service: the same call may work later."""


class Rejected(Exception):
    """Any other refusal (a bad parameter, this server's API key suspended): not retried."""


def is_configured() -> bool:
    return bool(settings.LASTFM_API_KEY and settings.LASTFM_API_SECRET)


def auth_url(callback: str) -> str:
    """Where the listener authorises this server; Last.fm sends them back to `callback`
    with `?token=...`."""
    return f"{AUTH_URL}?{urlencode({'api_key': settings.LASTFM_API_KEY, 'cb': callback})}"


def _network(session_key: str = "") -> pylast.LastFMNetwork:
    address = urlsplit(settings.LASTFM_API_URL)
    if address.scheme != "https":
        raise ImproperlyConfigured(LASTFM_URL_NOT_HTTPS)
    ca_file = settings.LASTFM_CA_FILE
    if ca_file:
        with _trusted_lock:
            if ca_file not in _trusted:
                pylast.SSL_CONTEXT.load_verify_locations(cafile=ca_file)
                _trusted.add(ca_file)
    network = pylast.LastFMNetwork(
        api_key=settings.LASTFM_API_KEY,
        api_secret=settings.LASTFM_API_SECRET,
        session_key=session_key,
    )
    network.ws_server = (address.netloc, address.path or "/2.0/")
    return network


def _sorted_error(error: Exception) -> Exception:
    if isinstance(error, pylast.WSError):
        status = str(error.status)
        if status in SESSION_REFUSED:
            return SessionRefused(f"{status}: {error.details}")
        if status in RETRYABLE:
            return ServiceUnreachable(f"{status}: {error.details}")
        return Rejected(f"{status}: {error.details}")
    return ServiceUnreachable(f"{type(error).__name__}: {error}")


def session_for(token: str) -> tuple[str, str]:
    """(session key, user name) for the token the callback received (auth.getSession)."""
    try:
        generator = pylast.SessionKeyGenerator(_network())
        key, name = generator.get_web_auth_session_key_username(url=None, token=token)
    except pylast.PyLastError as error:
        raise _sorted_error(error) from error
    return str(key), str(name)


def scrobble(session_key: str, tracks: Sequence[dict[str, Any]]) -> None:
    """`tracks` as pylast's scrobble_many takes them (artist, title, timestamp, album,
    duration); it sends them 50 at a time, as Last.fm allows."""
    try:
        _network(session_key).scrobble_many(list(tracks))
    except pylast.PyLastError as error:
        raise _sorted_error(error) from error


def update_now_playing(session_key: str, track: dict[str, Any]) -> None:
    try:
        _network(session_key).update_now_playing(**track)
    except pylast.PyLastError as error:
        raise _sorted_error(error) from error
