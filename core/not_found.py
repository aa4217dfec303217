"""A JSON 404 for every path under /api/ that no route takes.

Without it Django answers an HTML page, or, for a path missing its trailing slash, a
redirect (which a POST cannot follow) or a RuntimeError in DEBUG.
"""

from http import HTTPStatus

from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from core.errors import NOT_FOUND

MISSING_SLASH = "Not found. Paths end with a slash: {path}"


def _with_slash(path: str) -> str | None:
    if path.endswith("/"):
        return None
    try:
        match = resolve(f"{path}/")
    except Resolver404:
        return None
    return None if match.func is api_not_found else f"{path}/"


@csrf_exempt  # a 404 for any method; without this a POST would get the CSRF page's 403
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    right_path = _with_slash(request.path_info)
    detail = MISSING_SLASH.format(path=right_path) if right_path else NOT_FOUND
    return JsonResponse({"detail": detail}, status=HTTPStatus.NOT_FOUND)
