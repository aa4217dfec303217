"""The storage being away, outside the API: the admin (and any other page) gets a 503 page
that says so, with Retry-After, instead of a server error. The API answers its own JSON 503
(config/api.py) before this sees anything."""

from collections.abc import Callable
from http import HTTPStatus

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.errors import RETRY_AFTER_SECONDS, StorageUnavailable


class StorageUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, StorageUnavailable):
            return None
        context = {
            **admin.site.each_context(request),
            "title": "File storage unavailable",
            "back_url": request.get_full_path(),
            "retry_after": RETRY_AFTER_SECONDS,
        }
        response = TemplateResponse(
            request,
            "admin/storage_unavailable.html",
            context,
            status=HTTPStatus.SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response.render()
