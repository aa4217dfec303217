"""Request bodies capped while they stream, before Django stores them.

Django's ASGI handler reads a whole request body into a temporary file (memory, then disk)
before any middleware or view runs, whatever its size and whoever sends it. `BodyLimit` sits
between the ASGI server and Django (see `config/asgi.py`) and counts the bytes Django receives:

- A declared Content-Length over the cap is answered 413 at once: nothing is read.
- Otherwise each `http.request` message is counted as it arrives, declared length or not
  (a chunked body has none). When the count passes the cap, Django is told that the client
  went away (`http.disconnect`): its `read_body` closes its temporary file, which deletes it,
  and returns without answering. `BodyLimit` then answers the 413 itself, with
  `Connection: close`, so the server stops reading the rest of the body.

A disconnect rather than an exception raised from `receive`: Django closes its file only for a
disconnect; an exception would escape as a 500 and leave the file open (and its disk space
taken) until garbage collection. Nor does this layer buffer the body itself: Django's own
spooling stays the one copy, and nothing of it outlives a refusal.

Which cap applies depends on the caller, decided only once a body is larger than the JSON cap:

- a multipart upload from a signed-in caller: MAX_REQUEST_BYTES (one audio file, one image
  and the form fields). Signed in means a bearer token whose signature verifies with the
  project's JWT settings (no database query), or, for the admin's forms (session cookies, no
  token), a session with a signed-in user (one session read, for such uploads only);
- everything else, and everything from an anonymous caller: JSON_MAX_BYTES.
"""

import io
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.http.cookie import parse_cookie
from ninja_jwt.backends import TokenBackend
from ninja_jwt.exceptions import TokenBackendError
from ninja_jwt.settings import api_settings
from ninja_jwt.tokens import AccessToken

logger = logging.getLogger(__name__)

REQUEST_TOO_LARGE = "The request body is larger than the server accepts."

# Set in the scope that Django gets once this module has held the body to its cap, so that
# `core.request_size` does not check the declared length a second time.
CHECKED_SCOPE_KEY = "core.body_limit"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def json_cap() -> int:
    return settings.JSON_MAX_BYTES


def upload_cap() -> int:
    return max(settings.MAX_REQUEST_BYTES, settings.JSON_MAX_BYTES)


def is_multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def has_signed_access_token(authorization: str) -> bool:
    """Whether `authorization` is `Bearer <access token>` signed with the project's key.

    Only the signature and the token type are checked, with no database query: this chooses
    a cap, the route still authenticates the caller. An expired token still counts (for
    as long as a refresh token lives), so that a client whose token ran out during an
    upload gets the route's 401 and refreshes, not a 413 about a file that is not too large.
    """
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    backend = TokenBackend(
        api_settings.ALGORITHM,
        api_settings.SIGNING_KEY,
        api_settings.VERIFYING_KEY,
        api_settings.AUDIENCE,
        api_settings.ISSUER,
        api_settings.JWK_URL,
        api_settings.REFRESH_TOKEN_LIFETIME,  # leeway past "exp"
        api_settings.JSON_ENCODER,
    )
    try:
        payload = backend.decode(token, verify=True)
    except TokenBackendError:
        return False
    return payload.get(api_settings.TOKEN_TYPE_CLAIM) == AccessToken.token_type


def signed_in_session(session_key: str) -> bool:
    """Whether `session_key` names a session with a signed-in user (the admin's forms)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        return store.get(SESSION_KEY) is not None
    except Exception:  # the store is down: the smaller cap, the request may fail anyway
        logger.warning("Could not read the session to choose a body cap", exc_info=True)
        return False


def _signed_in_session_then_close(session_key: str) -> bool:
    # Runs in a worker thread outside Django's request cycle, which would otherwise never
    # close (or give back to the pool) the connection this query opens.
    try:
        return signed_in_session(session_key)
    finally:
        connections.close_all()


@dataclass(frozen=True)
class Caller:
    """The request headers that choose a body's cap."""

    authorization: str
    content_type: str
    cookie: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Caller":
        return cls(
            authorization=request.headers.get("authorization", ""),
            content_type=request.headers.get("content-type", ""),
            cookie=request.headers.get("cookie", ""),
        )

    def cap_without_session(self) -> int | None:
        """The cap when the headers alone decide it; None when the session must be read."""
        if not is_multipart(self.content_type):
            return json_cap()
        if has_signed_access_token(self.authorization):
            return upload_cap()
        if not self.session_key:
            return json_cap()
        return None

    @property
    def session_key(self) -> str | None:
        return parse_cookie(self.cookie).get(settings.SESSION_COOKIE_NAME) or None

    def cap(self, *, session_reader: Callable[[str], bool] = signed_in_session) -> int:
        """The cap for this caller: the one decision, for both layers.

        `session_reader` tells whether a session key names a signed-in user; it is called,
        in this thread, only when the headers alone do not decide.
        """
        cap = self.cap_without_session()
        if cap is None:
            cap = upload_cap() if session_reader(self.session_key or "") else json_cap()
        return cap

    async def acap(
        self,
        *,
        session_reader: Callable[[str], bool] = signed_in_session,
        thread_sensitive: bool = True,
    ) -> int:
        """`cap` for async callers: when the session decides, `cap` runs in a worker thread."""
        cap = self.cap_without_session()
        if cap is None:
            cap = await sync_to_async(self.cap, thread_sensitive=thread_sensitive)(
                session_reader=session_reader
            )
        return cap


def refusal() -> JsonResponse:
    return JsonResponse({"detail": REQUEST_TOO_LARGE}, status=413)


def _headers(scope: Scope) -> dict[bytes, str]:
    headers: dict[bytes, str] = {}
    for name, value in scope.get("headers", ()):
        headers.setdefault(bytes(name).lower(), bytes(value).decode("latin-1"))
    return headers


def _declared_length(headers: dict[bytes, str]) -> int | None:
    try:
        return int(headers[b"content-length"])
    except (KeyError, ValueError):
        return None  # none declared, or a malformed one the server or Django refuses


class _Budget:
    """One request's cap, looked up the first time a size passes the JSON cap."""

    def __init__(self, headers: dict[bytes, str]) -> None:
        self.caller = Caller(
            authorization=headers.get(b"authorization", ""),
            content_type=headers.get(b"content-type", ""),
            cookie=headers.get(b"cookie", ""),
        )
        self._cap: int | None = None

    async def exceeded_by(self, size: int) -> bool:
        if size <= json_cap():
            return False
        if self._cap is None:
            # Outside Django's request cycle, and off its one thread for sync code.
            self._cap = await self.caller.acap(
                session_reader=_signed_in_session_then_close, thread_sensitive=False
            )
        return size > self._cap


async def _send_refusal(scope: Scope, send: Send) -> None:
    response = refusal()
    try:
        # The refusal skips Django's middleware: without CORS headers a browser frontend on
        # another origin could not read it. corsheaders applies the project's own policy.
        request = ASGIRequest(scope, io.BytesIO())
        CorsMiddleware(lambda request: response).add_response_headers(request, response)
    except Exception:
        logger.warning("Could not add CORS headers to a 413", exc_info=True)
    response["Content-Length"] = str(len(response.content))
    # The rest of the body is not read: the server closes the connection after the answer.
    response["Connection"] = "close"
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in response.items()
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.content})


class BodyLimit:
    """ASGI middleware: HTTP request bodies are refused (413) once they pass their cap.

    Other scopes (websocket, lifespan) go through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        budget = _Budget(headers)
        declared = _declared_length(headers)
        if declared is not None and await budget.exceeded_by(declared):
            await _send_refusal(scope, send)
            return

        received = 0
        refused = False
        answered = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if await budget.exceeded_by(received):
                    # Django's read_body closes (deletes) its temporary file and returns
                    # without answering, as for a client that went away.
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        await self.app({**scope, CHECKED_SCOPE_KEY: True}, counted_receive, watched_send)
        # Django reads the whole body before it answers, so it has not answered yet.
        if refused and not answered:
            await _send_refusal(scope, send)
