from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import sync_and_async_middleware

REQUEST_TOO_LARGE = "The request body is larger than the server accepts."


def _declared_too_large(request: HttpRequest) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django itself answers a malformed length
    return declared > settings.MAX_REQUEST_BYTES


def _refusal() -> JsonResponse:
    return JsonResponse({"detail": REQUEST_TOO_LARGE}, status=413)


@sync_and_async_middleware
def request_size_limit_middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
):
    """Answer 413 to a body whose declared size no upload could reach, before reading it.

    The per-file caps (413 as well) still apply to what gets through; this spares the server
    from receiving a gigabyte only to refuse it.
    """
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            if _declared_too_large(request):
                return _refusal()
            return await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        if _declared_too_large(request):
            return _refusal()
        return get_response(request)

    return middleware
