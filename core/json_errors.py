"""Every error under /api/ is JSON, in every mode.

The API's own handlers answer JSON for whatever a route raises; this catches the rest: a
failure in a middleware or in Django itself (a disallowed host, a crash before the route),
which Django answers with an HTML page (its debug page with DEBUG on).
"""

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

SERVER_ERROR = "The server failed to answer this request; it has been logged."


def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    is_api = request.path_info.startswith("/api/") or request.path_info == "/api"
    is_json = response.get("Content-Type", "").startswith("application/json")
    if not is_api or response.status_code < HTTPStatus.BAD_REQUEST or is_json:
        return response
    status = HTTPStatus(response.status_code)
    detail = SERVER_ERROR if status >= HTTPStatus.INTERNAL_SERVER_ERROR else f"{status.phrase}."
    json_response = JsonResponse({"detail": detail}, status=status)
    for header in ("Retry-After", "Allow"):
        if header in response:
            json_response[header] = response[header]
    return json_response


@sync_and_async_middleware
def api_json_errors_middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
):
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            return _as_json(request, await get_response(request))

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        return _as_json(request, get_response(request))

    return middleware
