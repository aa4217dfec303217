"""The API: one NinjaExtraAPI, its controllers and the mapping of errors to statuses."""

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, RawPostDataException
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja_extra import NinjaExtraAPI

from catalog.controllers import (
    AlbumsController,
    ArtistsController,
    GenresController,
    SongsController,
)
from catalog.streaming import RANGE_NOT_SATISFIABLE
from core.bodies import INVALID_JSON, JSONParser, MalformedBodyError
from core.body_limit import REQUEST_TOO_LARGE
from core.controllers import HealthController
from core.errors import (
    NOT_FOUND,
    RETRY_AFTER_SECONDS,
    Conflict,
    DomainError,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    Throttled,
    TooLarge,
    Unavailable,
    pydantic_error_items,
)
from core.json_errors import SERVER_ERROR
from core.permissions import ADMIN_REQUIRED
from core.renderers import ORJSONRenderer
from jams.controllers import JamsController
from library.controllers import LibraryController, PlaylistsController, SearchController
from messaging.controllers import ConversationController, MessagesController
from scrobbling.controllers import ScrobblingController
from stats.controllers import StatsController
from users.controllers import (
    AdminCheckController,
    AppPasswordsController,
    AuthController,
    UsersController,
)
from users.services import (
    APP_PASSWORD_NOT_FOUND,
    EMAIL_TAKEN,
    INVALID_CREDENTIALS,
    REFRESH_INVALID,
    REFRESH_NOT_YOURS,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_REGISTRATIONS,
)

logger = logging.getLogger(__name__)

AUTHENTICATION_REQUIRED = "Authentication credentials were not provided or are not valid."
DATABASE_UNAVAILABLE = "The database is unavailable right now; try again in a few seconds."
STORAGE_UNAVAILABLE = (
    "The file storage is unavailable right now; nothing was changed. Try again in a few seconds."
)
# The 503 of every operation in the schema.
UNAVAILABLE = (
    "The database, or the file storage, is unavailable right now; try again after Retry-After "
    "seconds."
)

# The sentence a status says most often, as each error response's example in the schema.
ERROR_EXAMPLES = {
    "401": AUTHENTICATION_REQUIRED,
    "403": ADMIN_REQUIRED,
    "404": NOT_FOUND,
    "409": EMAIL_TAKEN,
    "413": REQUEST_TOO_LARGE,
    "416": RANGE_NOT_SATISFIABLE,
    "429": TOO_MANY_ATTEMPTS,
    "503": DATABASE_UNAVAILABLE,
}
# Where an operation says something else.
OPERATION_ERROR_EXAMPLES = {
    ("auth_login", "401"): INVALID_CREDENTIALS,
    ("auth_refresh", "401"): REFRESH_INVALID,
    ("auth_logout", "403"): REFRESH_NOT_YOURS,
    ("auth_register", "429"): TOO_MANY_REGISTRATIONS,
    ("app_passwords_delete", "404"): APP_PASSWORD_NOT_FOUND,
}

# The database is down, restarting or out of pooled connections (psycopg_pool's PoolTimeout is
# a psycopg OperationalError, which Django wraps in its own most of the time, not always).
_DATABASE_AWAY = (OperationalError, InterfaceError, psycopg.OperationalError)

# Where ninja reads a parameter from, as a 422 names it: a form is a body all the same.
_LOCATIONS = {"form": "body", "file": "body"}
# Every route names its whole-body schema parameter so; ninja puts that name in `loc`.
BODY_PARAMETER = "payload"


class MusicAPI(NinjaExtraAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """The generated schema, plus the statuses any operation may get from outside its route.

        `core.body_limit` refuses bodies larger than the server accepts before a route runs
        (413 on every operation that takes a body), and any operation answers 503 while the
        database, or the file storage it needs, is away.
        """
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    _drop_null_from_optional_query(parameter)
                # Ninja keys responses by int; JSON would repeat "413" beside a str key.
                responses = operation["responses"] = {
                    str(status): response for status, response in operation["responses"].items()
                }
                if "requestBody" in operation:
                    responses.setdefault("413", _error_response("Request body too large."))
                responses.setdefault("503", _error_response(UNAVAILABLE, retry=True))
                if "429" in responses:
                    responses["429"]["headers"] = _RETRY_AFTER
                for status, response in responses.items():
                    _example_error(operation.get("operationId"), status, response)
        return schema


_ERROR_OUT = {"$ref": "#/components/schemas/ErrorOut"}


def _example_error(operation_id: str | None, status: str, response: dict[str, Any]) -> None:
    """Swagger's "Example Value" of an error: the status's own sentence, not ErrorOut's one
    example for every status."""
    content = response.get("content", {}).get("application/json")
    if content is None or content.get("schema") != _ERROR_OUT or "example" in content:
        return
    sentence = OPERATION_ERROR_EXAMPLES.get((operation_id, status), ERROR_EXAMPLES.get(status))
    if sentence is not None:
        content["example"] = {"detail": sentence}


def _drop_null_from_optional_query(parameter: dict[str, Any]) -> None:
    """An optional query parameter's schema `anyOf: [T, {type: null}]` becomes `T`.

    A query string cannot say null: a filter left out is the only "no value" (and the API
    treats it so), so the parameter is simply not required, of one type (Swagger UI showed
    `integer | (integer | null)`).
    """
    schema = parameter["schema"]
    variants = schema.get("anyOf", [])
    if parameter["in"] != "query" or parameter.get("required") or len(variants) != 2:
        return
    kept = [variant for variant in variants if variant != {"type": "null"}]
    if len(kept) != 1:
        return
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if rest.get("default", ...) is None:
        del rest["default"]
    parameter["schema"] = {**kept[0], **rest}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _error_response(description: str, *, retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    if retry:
        response["headers"] = _RETRY_AFTER
    return response


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
    parser=JSONParser(),
    renderer=ORJSONRenderer(),
)

# Every controller of the API: a new one is added here. The order is the order of the paths in
# openapi.json (and of the routes matched).
CONTROLLERS = [
    HealthController,
    AuthController,
    AdminCheckController,
    AppPasswordsController,
    ScrobblingController,
    UsersController,
    SongsController,
    AlbumsController,
    ArtistsController,
    GenresController,
    LibraryController,
    PlaylistsController,
    SearchController,
    MessagesController,
    JamsController,
    ConversationController,
    StatsController,
]
api.register_controllers(*CONTROLLERS)


def _detail(request: HttpRequest, detail: Any, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


# The one place a domain error (core/errors.py) gets its HTTP status.
DOMAIN_ERROR_STATUSES: dict[type[DomainError], HTTPStatus] = {
    NotAuthenticated: HTTPStatus.UNAUTHORIZED,
    PermissionDenied: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    TooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    Invalid: HTTPStatus.UNPROCESSABLE_ENTITY,
    Throttled: HTTPStatus.TOO_MANY_REQUESTS,
    Unavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


@api.exception_handler(DomainError)
def handle_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = next(
        DOMAIN_ERROR_STATUSES[kind] for kind in type(exc).__mro__ if kind in DOMAIN_ERROR_STATUSES
    )
    response = _detail(request, exc.items if isinstance(exc, Invalid) else exc.detail, status)
    if isinstance(exc, Throttled | Unavailable):  # an abuse limit, a service away
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def handle_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """One 422 shape: `loc` as the client sent it, the sentence without pydantic's prefix."""
    items = []
    for error in exc.errors:
        location, *loc = error["loc"]
        location = _LOCATIONS.get(location, location)
        drop = BODY_PARAMETER if location == "body" else None
        items += pydantic_error_items([{**error, "loc": loc}], location=location, drop=drop)
    return _detail(request, items, HTTPStatus.UNPROCESSABLE_ENTITY)


@api.exception_handler(HttpError)
def handle_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja wraps a body its parser refused in a 400; ours says why, as a 422.
    if isinstance(exc.__cause__, MalformedBodyError):
        return _detail(request, exc.__cause__.errors, HTTPStatus.UNPROCESSABLE_ENTITY)
    return _detail(request, exc.message, exc.status_code)


@api.exception_handler(RawPostDataException)
def handle_form_sent_for_json(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    # A large form body to a JSON route: the form middleware read it as a form already.
    return _detail(
        request, MalformedBodyError(INVALID_JSON).errors, HTTPStatus.UNPROCESSABLE_ENTITY
    )


@api.exception_handler(AuthenticationError)
def handle_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _detail(request, AUTHENTICATION_REQUIRED, HTTPStatus.UNAUTHORIZED)


@api.exception_handler(Http404)
def handle_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _detail(request, NOT_FOUND, HTTPStatus.NOT_FOUND)


@api.exception_handler(StorageUnavailable)
def handle_storage_unavailable(request: HttpRequest, exc: StorageUnavailable) -> HttpResponse:
    """The bucket is down, stuck or overloaded: 503, and the client may retry."""
    logger.warning("File storage unavailable for %s %s: %s", request.method, request.path, exc)
    response = _detail(request, STORAGE_UNAVAILABLE, HTTPStatus.SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(Exception)
def handle_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """JSON in every mode: a 503 the client may retry when the database is away, else 500."""
    if isinstance(exc, _DATABASE_AWAY):
        logger.warning("Database unavailable for %s %s: %s", request.method, request.path, exc)
        response = _detail(request, DATABASE_UNAVAILABLE, HTTPStatus.SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    logger.exception("Unhandled error for %s %s", request.method, request.path, exc_info=exc)
    return _detail(request, SERVER_ERROR, HTTPStatus.INTERNAL_SERVER_ERROR)
