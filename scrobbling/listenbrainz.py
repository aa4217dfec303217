"""The ListenBrainz client (liblistenbrainz, the service's own library) as this app uses it:
the token's check and the submission of listens, their failures sorted into what a retry may
fix (`ServiceUnreachable`) and what it never will (`TokenRefused`).

liblistenbrainz takes its base address as `ListenBrainz(api_base_url=...)`
(LISTENBRAINZ_API_URL, a local fake in the tests). Its requests have no timeout, and its
module's `adapter` retries a 429 or 5xx five times at once with no pause; the adapter is
replaced here (its one documented-by-code seam, used by name at each call) by one with
SCROBBLING_TIMEOUT_SECONDS and no retries of its own: the job retries, with backoff.
"""

from collections.abc import Sequence
from typing import Any

import liblistenbrainz
import liblistenbrainz.client
import requests
from django.conf import settings
from liblistenbrainz import errors
from requests.adapters import HTTPAdapter


class _TimeoutAdapter(HTTPAdapter):
    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = settings.SCROBBLING_TIMEOUT_SECONDS
        return super().send(request, *args, **kwargs)


liblistenbrainz.client.adapter = _TimeoutAdapter(max_retries=0)

# ListenBrainz takes at most this many listens in one `import` submission.
MAX_LISTENS_PER_SUBMISSION = 1000
# Shown to the service as the player (additional_info.submission_client).
SUBMISSION_CLIENT = "music-streaming-backend"


class TokenRefused(Exception):
    """The service says the token is not (or no longer) valid: retrying will not help."""


class ServiceUnreachable(Exception):
    """No answer, a timeout, a 429 or a 5xx: the same call may work later."""


class Rejected(Exception):
    """Another 4xx: the service refuses what was sent (retrying sends the same thing)."""


def _client(token: str | None = None) -> liblistenbrainz.ListenBrainz:
    client = liblistenbrainz.ListenBrainz(api_base_url=settings.LISTENBRAINZ_API_URL)
    if token is not None:
        client.set_auth_token(token, check_validity=False)
    return client


def _sorted_error(error: Exception) -> Exception:
    if isinstance(error, errors.ListenBrainzAPIException):
        status = error.status_code
        if status == 401:
            return TokenRefused(error.message or "401")
        if status == 429 or status >= 500:
            return ServiceUnreachable(f"HTTP {status}: {error.message}")
        return Rejected(f"HTTP {status}: {error.message}")
    return ServiceUnreachable(f"{type(error).__name__}: {error}")


def token_username(token: str) -> str:
    """The name of the account the token belongs to (`GET /1/validate-token`)."""
    try:
        # set_auth_token(check_validity=True) makes this same call but drops the user_name:
        # the library's own request (its auth header, its errors) gives the whole answer.
        answer = _client(token)._get("/1/validate-token")
    except (errors.ListenBrainzAPIException, requests.RequestException, ValueError) as error:
        raise _sorted_error(error) from error
    if not answer.get("valid"):
        raise TokenRefused(answer.get("message") or "invalid")
    return str(answer.get("user_name") or "")


def listen(
    *,
    track_name: str,
    artist_name: str,
    release_name: str | None,
    duration_seconds: int | None,
    listened_at: int | None,
) -> liblistenbrainz.Listen:
    additional_info: dict[str, Any] = {"submission_client": SUBMISSION_CLIENT}
    if duration_seconds:
        additional_info["duration_ms"] = duration_seconds * 1000
    return liblistenbrainz.Listen(
        track_name=track_name,
        artist_name=artist_name,
        release_name=release_name or None,
        listened_at=listened_at,
        additional_info=additional_info,
    )


def submit(token: str, listens: Sequence[liblistenbrainz.Listen]) -> None:
    """One listen as `single`, several as `import` (in batches the service accepts)."""
    client = _client(token)
    try:
        if len(listens) == 1:
            client.submit_single_listen(listens[0])
            return
        for start in range(0, len(listens), MAX_LISTENS_PER_SUBMISSION):
            client.submit_multiple_listens(
                list(listens[start : start + MAX_LISTENS_PER_SUBMISSION])
            )
    except (errors.ListenBrainzAPIException, requests.RequestException, ValueError) as error:
        raise _sorted_error(error) from error


def submit_playing_now(token: str, playing: liblistenbrainz.Listen) -> None:
    try:
        _client(token).submit_playing_now(playing)
    except (errors.ListenBrainzAPIException, requests.RequestException, ValueError) as error:
        raise _sorted_error(error) from error
