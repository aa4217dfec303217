"""The one Django view of `/rest/`: every Subsonic endpoint, by GET or form POST.

`/rest/<name>` and `/rest/<name>.view` are the same endpoint. Each request goes:

1. method: GET, HEAD or POST (a form, the formPost extension), else 405 with the envelope;
2. the public endpoint (getOpenSubsonicExtensions) answers at once;
3. `v` and `c` are required (error 10), then the sign-in (subsonic/auth.py);
4. the handler registered for the name (subsonic/endpoints/); a name of the specification
   without one answers error 0 "not implemented", a name not in it error 0 as well. What
   it answers goes in the envelope, unless it is a response of its own (a file: stream,
   download, getCoverArt), passed through.

Every failure is an envelope with HTTP 200, as clients expect (the specification's examples,
Subsonic and Navidrome do so; clients such as DSub take any other status for a network
failure): a Subsonic error as raised, a domain error (core.errors) mapped to its code below,
anything unexpected error 0, logged. Never an HTML page, never a 500.
"""

import logging

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from core.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Throttled,
    TooLarge,
)
from subsonic import endpoints  # noqa: F401 (registers the handlers)
from subsonic.auth import authenticate
from subsonic.envelope import render, render_error
from subsonic.errors import SubsonicError
from subsonic.params import Params
from subsonic.registry import ENDPOINTS, Answer, Call
from subsonic.spec import ENDPOINT_NAMES, ErrorCode

logger = logging.getLogger(__name__)

# HEAD: what a GET would answer, without the body (players ask it of stream and download).
ALLOWED_METHODS = ("GET", "HEAD", "POST")
METHOD_NOT_ALLOWED = "Use GET, or POST with a form (application/x-www-form-urlencoded)."
UNREADABLE_FORM = "The form in the request body could not be read."
NOT_IMPLEMENTED = "Not implemented: {name} is not available on this server yet."
UNKNOWN_ENDPOINT = "Unknown endpoint: {name} is not part of the OpenSubsonic API."
SERVER_ERROR = "The server failed to answer this request; it has been logged."

# The one place a domain error (core/errors.py) gets its Subsonic code, as config/api.py gives
# it an HTTP status for the REST API.
DOMAIN_ERROR_CODES: dict[type[DomainError], ErrorCode] = {
    NotAuthenticated: ErrorCode.WRONG_CREDENTIALS,
    PermissionDenied: ErrorCode.NOT_AUTHORIZED,
    NotFound: ErrorCode.NOT_FOUND,
    Conflict: ErrorCode.GENERIC,
    TooLarge: ErrorCode.GENERIC,
    Invalid: ErrorCode.GENERIC,
    Throttled: ErrorCode.GENERIC,
}


def endpoint_name(path: str) -> str:
    """The endpoint a path under /rest/ names: `ping`, `ping.view` and `ping/` are `ping`."""
    return path.removesuffix("/").removesuffix(".view")


def _from_domain(error: DomainError) -> SubsonicError:
    code = next(
        (DOMAIN_ERROR_CODES[kind] for kind in type(error).__mro__ if kind in DOMAIN_ERROR_CODES),
        ErrorCode.GENERIC,
    )
    return SubsonicError(code, error.detail)


def _answer(request: HttpRequest, params: Params, name: str) -> Answer:
    endpoint = ENDPOINTS.get(name)
    if endpoint is not None and endpoint.public:
        return endpoint.handler(Call(request=request, params=params, user=None))
    params.required("v")
    params.required("c")
    user = authenticate(request, params)
    if endpoint is None:
        sentence = NOT_IMPLEMENTED if name in ENDPOINT_NAMES else UNKNOWN_ENDPOINT
        raise SubsonicError(ErrorCode.GENERIC, sentence.format(name=name))
    return endpoint.handler(Call(request=request, params=params, user=user))


@csrf_exempt  # clients sign every request with their own parameters, never a cookie
def rest(request: HttpRequest, path: str = "") -> HttpResponse:
    if request.method not in ALLOWED_METHODS:
        response = render_error(
            Params(request.GET),
            SubsonicError(ErrorCode.GENERIC, METHOD_NOT_ALLOWED),
            status=405,
        )
        response["Allow"] = ", ".join(ALLOWED_METHODS)
        return response
    try:
        params = Params.of(request)
    except (SuspiciousOperation, MultiPartParserError, UnreadablePostError) as error:
        # Too many fields, too large, or not a form at all: the client's mistake, logged by
        # its reason (a traceback would say nothing more).
        logger.warning("Unreadable Subsonic form for %s: %s", request.path, error)
        return render_error(Params(request.GET), SubsonicError(ErrorCode.GENERIC, UNREADABLE_FORM))
    try:
        answer = _answer(request, params, endpoint_name(path))
        if isinstance(answer, HttpResponseBase):
            return answer
        return render(params, answer)
    except SubsonicError as error:
        return render_error(params, error)
    except DomainError as error:
        return render_error(params, _from_domain(error))
    except Exception:
        logger.exception("Unhandled error for %s %s", request.method, request.path)
        return render_error(params, SubsonicError(ErrorCode.GENERIC, SERVER_ERROR))
