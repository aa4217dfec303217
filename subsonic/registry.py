"""The endpoints this server implements, by their Subsonic name: `@endpoint("ping")`.

A handler answers a Body, put in the envelope (subsonic/envelope.py), or, for the binary
endpoints (stream, download, getCoverArt), an HttpResponse passed through as it is; its
errors are raised as for any endpoint, and answered in the envelope."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from subsonic.params import Params
from subsonic.spec import ENDPOINT_NAMES
from users.models import User


@dataclass(frozen=True)
class Call:
    """What a handler is given: the request, its parameters and the signed-in account (None
    only for the public endpoints)."""

    request: HttpRequest
    params: Params
    user: User | None


# What goes inside the envelope (subsonic/envelope.py); None for an empty answer.
Body = Mapping[str, Any] | None
# A Body, or the file itself (audio, an image).
Answer = Body | HttpResponseBase
Handler = Callable[[Call], Answer]


@dataclass(frozen=True)
class Endpoint:
    name: str
    handler: Handler
    # Answered without sign-in (the specification allows it for getOpenSubsonicExtensions).
    public: bool


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint(name: str, *, public: bool = False) -> Callable[[Handler], Handler]:
    """Register the handler of the specification's endpoint `name`."""
    if name not in ENDPOINT_NAMES:
        raise ValueError(f"{name!r} is not an endpoint of the OpenSubsonic specification.")
    if name in ENDPOINTS:
        raise ValueError(f"{name!r} has a handler already.")

    def register(handler: Handler) -> Handler:
        ENDPOINTS[name] = Endpoint(name=name, handler=handler, public=public)
        return handler

    return register
