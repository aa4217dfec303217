"""The declared-length check of request bodies, for the paths that skip `core.body_limit`.

Under uvicorn (`config.asgi`), `core.body_limit.BodyLimit` counts every body as it arrives and
refuses it past its cap before Django stores it; it marks the scope, and this middleware then
does nothing. The middleware stays because not every request goes through that ASGI layer:

- Django's test Client, which the test suite uses, builds WSGI-like requests;
- `config.wsgi`, for a WSGI server;
- Django's AsyncClient, which calls Django's ASGI handler without `config.asgi`'s wrapper.

On those paths the body is read lazily, after the middleware, so a declared Content-Length
over the cap is still refused before it is read. The cap is `core.body_limit.Caller.cap`, the
one decision both layers use.
"""

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from core.body_limit import (
    CHECKED_SCOPE_KEY,
    REQUEST_TOO_LARGE,
    Caller,
    json_cap,
    refusal,
)

__all__ = ["REQUEST_TOO_LARGE", "request_size_limit_middleware"]


def _declared_over_json_cap(request: HttpRequest) -> int | None:
    """The declared body length when it passes the JSON cap and no ASGI layer checked it."""
    if getattr(request, "scope", {}).get(CHECKED_SCOPE_KEY):
        return None
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # Django itself answers a malformed length
    return declared if declared > json_cap() else None


@sync_and_async_middleware
def request_size_limit_middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
):
    """Answer 413 to a body whose declared size passes its cap, before reading it.

    The per-file caps (413 as well) still apply to what gets through.
    """
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            declared = _declared_over_json_cap(request)
            if declared is not None and declared > await Caller.from_request(request).acap():
                return refusal()
            return await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        declared = _declared_over_json_cap(request)
        if declared is not None and declared > Caller.from_request(request).cap():
            return refusal()
        return get_response(request)

    return middleware
