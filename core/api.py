"""The API: one NinjaExtraAPI, its controllers and the mapping of errors to statuses."""

from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError
from ninja.openapi.schema import OpenAPISchema
from ninja_extra import NinjaExtraAPI

from catalog.controllers import AlbumsController, SongsController
from core.controllers import HealthController
from core.errors import ApiError, UnprocessableError
from messaging.controllers import ConversationController, MessagesController
from stats.controllers import StatsController
from users.controllers import AdminCheckController, AuthController, UsersController

AUTHENTICATION_REQUIRED = "Authentication credentials were not provided or are not valid."
NOT_FOUND = "Not found."


class MusicAPI(NinjaExtraAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """The generated schema, plus the 413 that any request body may get.

        `core.middleware` refuses bodies declared larger than MAX_REQUEST_BYTES before a
        route runs, so every operation that takes a body documents that status.
        """
        schema = super().get_openapi_schema(**kwargs)
        error_ref = {"$ref": "#/components/schemas/ErrorOut"}
        for operations in schema["paths"].values():
            for operation in operations.values():
                # Ninja keys responses by int; JSON would repeat "413" beside a str key.
                responses = operation["responses"] = {
                    str(status): response for status, response in operation["responses"].items()
                }
                if "requestBody" in operation:
                    responses.setdefault(
                        "413",
                        {
                            "description": "Request body too large",
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
        return schema


api = MusicAPI(
    title="Music streaming API",
    version="1.0.0",
    description=(
        "Songs, albums, seekable streaming, discovery lists, direct messages and platform "
        "stats. Sign in with `POST /api/auth/login/`, then press **Authorize** and paste the "
        "`access` token. Real-time chat and presence run over Socket.IO at `/socket.io/`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

api.register_controllers(
    HealthController,
    AuthController,
    AdminCheckController,
    UsersController,
    SongsController,
    AlbumsController,
    MessagesController,
    ConversationController,
    StatsController,
)


@api.exception_handler(ApiError)
def handle_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    if isinstance(exc, UnprocessableError):
        return api.create_response(request, {"detail": exc.as_errors()}, status=exc.status)
    return api.create_response(request, {"detail": exc.detail}, status=exc.status)


@api.exception_handler(AuthenticationError)
def handle_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": AUTHENTICATION_REQUIRED}, status=HTTPStatus.UNAUTHORIZED
    )


@api.exception_handler(Http404)
def handle_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": NOT_FOUND}, status=HTTPStatus.NOT_FOUND)
