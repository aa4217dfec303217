"""Request bodies: JSON read one way everywhere, and bodies that may come as JSON or multipart.

Ninja binds a body either as JSON or as a form; PUT and PATCH here accept both, so those
routes read the body with `parse_body` and declare both shapes with `body_openapi`. Every
other route reads JSON through `JSONParser`, so malformed or absurdly nested JSON gets the
same 422 on all of them.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import sync_and_async_middleware
from ninja import Schema
from ninja.errors import ValidationError
from ninja.parser import Parser

from core.errors import error_item, validation_items

SchemaT = TypeVar("SchemaT", bound=Schema)

INVALID_JSON = "The request body is not valid JSON."
TOO_DEEP = "The request body is nested too deeply."
NOT_AN_OBJECT = "The request body must be a JSON object."
FORM_REQUIRED = "Send this request as multipart form data."
INVALID_FORM = "The request body is not valid multipart form data."
FORM_TOO_LARGE = "The form's fields are larger than the server accepts."

_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class MalformedBodyError(ValueError):
    """A body that cannot be read; answered as a 422 about `body`."""

    def __init__(self, msg: str, type_: str = "json_invalid") -> None:
        super().__init__(msg)
        self.errors = [error_item(("body",), msg, type_)]


def load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except RecursionError as error:  # thousands of nested brackets
        raise MalformedBodyError(TOO_DEEP) from error
    except ValueError as error:  # includes bytes that are not UTF-8
        raise MalformedBodyError(INVALID_JSON) from error


class JSONParser(Parser):
    """Ninja's parser with our refusal; ninja wraps it in a 400 that the API turns to 422."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            raw = request.body
        except RawPostDataException as error:  # a large form sent where JSON is expected
            raise MalformedBodyError(INVALID_JSON) from error
        return load_json(raw)


# A form this small is read whole first, so that an empty multipart body can be told from
# garbage after parsing (Django parses multipart from the stream and keeps no copy).
_SMALL_FORM = 4096
REPEATED_FIELD = "Send this field once."


def _form_refusal(request: HttpRequest) -> JsonResponse | None:
    """Read a form body sent to the API up front; the refusal when it cannot be taken.

    Django fills request.POST and FILES for POST only, and lazily: this fills them for PUT
    and PATCH too (replacing ninja's `fix_request_files_middleware`, which let a malformed
    multipart body escape as a 500), and answers what no route should see: a body that is
    not a form (422), text fields past DATA_UPLOAD_MAX_MEMORY_SIZE (413), or a field sent
    twice (422: the schema takes one value, and "the last one wins" would hide a bug).
    """
    is_form = request.content_type in _FORM_TYPES and request.method in ("POST", "PUT", "PATCH")
    if not is_form or not request.path_info.startswith("/api/"):
        return None
    if int(request.META.get("CONTENT_LENGTH") or 0) <= _SMALL_FORM:
        request.body  # noqa: B018 (caches the raw body on the request)
    method = request.method
    request.method = request.META["REQUEST_METHOD"] = "POST"
    try:
        request._load_post_and_files()
        post, files = request.POST, request.FILES
    except MultiPartParserError:
        return _refusal(MalformedBodyError(INVALID_FORM, "form_invalid").errors, 422)
    except RequestDataTooBig:
        return _refusal(FORM_TOO_LARGE, 413)
    finally:
        request.method = request.META["REQUEST_METHOD"] = method
    repeated = [key for data in (post, files) for key, values in data.lists() if len(values) > 1]
    if repeated:
        return _refusal([error_item(("body", key), REPEATED_FIELD) for key in repeated], 422)
    return None


def _refusal(detail: Any, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@sync_and_async_middleware
def form_bodies_middleware(get_response: Callable[[HttpRequest], Any]) -> Any:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> Any:
            refusal = await sync_to_async(_form_refusal)(request)
            return refusal or await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> Any:
        return _form_refusal(request) or get_response(request)

    return middleware


def _form_data(request: HttpRequest) -> dict[str, Any]:
    post, files = request.POST, request.FILES  # read and checked by form_bodies_middleware
    # Django skips what it cannot read; a multipart body it found nothing in was not a form.
    nothing_read = not post and not files and int(request.META.get("CONTENT_LENGTH") or 0) > 0
    is_multipart = request.content_type == "multipart/form-data"
    if nothing_read and is_multipart and not _is_empty_multipart(request):
        raise MalformedBodyError(INVALID_FORM, "form_invalid")
    return dict(post.items())


def _is_empty_multipart(request: HttpRequest) -> bool:
    # Only reached when nothing was parsed, so the body is small and already read.
    boundary = request.content_params.get("boundary", "")
    raw = getattr(request, "_body", b"")
    return bool(boundary) and raw.strip() == f"--{boundary}--".encode()


def is_form(request: HttpRequest) -> bool:
    """Whether the body is a form (multipart or url-encoded) rather than JSON."""
    return request.content_type in _FORM_TYPES


def parse_body(
    request: HttpRequest,
    schema: type[SchemaT],
    *,
    files: tuple[str, ...] = (),
    required_files: tuple[str, ...] = (),
    form_only: bool = False,
) -> SchemaT:
    """Validate the JSON or form fields of `request` with `schema` (422 on failure).

    `files` names the file fields a form may carry (`required_files` those it must), and
    `form_only` refuses JSON for routes that need a file. A field the schema or `files` does
    not name is a 422, as the schema's `additionalProperties: false` says.
    """
    is_form = request.content_type in _FORM_TYPES
    try:
        if form_only and not is_form:
            raise MalformedBodyError(FORM_REQUIRED, "form_required")
        if is_form:
            data: Any = _form_data(request)
        else:
            data = load_json(request.body or b"{}")
            if not isinstance(data, dict):
                raise MalformedBodyError(NOT_AN_OBJECT, "dict_type")
    except MalformedBodyError as error:
        raise ValidationError(error.errors) from error
    errors = _file_errors(request, files, required_files) if is_form else []
    try:
        # A form's values are all text: `Flag` fields read "true" and "false" there only.
        payload = schema.model_validate(data, context={"form": is_form})
    except pydantic.ValidationError as error:
        errors = validation_items(error, location="body") + errors
    if errors:
        raise ValidationError(errors)
    return payload


def _file_errors(
    request: HttpRequest, files: tuple[str, ...], required_files: tuple[str, ...]
) -> list[dict[str, Any]]:
    sent = set(request.FILES)
    return [
        error_item(("body", name), "Extra inputs are not permitted", "extra_forbidden")
        for name in sorted(sent - set(files))
    ] + [
        error_item(("body", name), "Field required", "missing")
        for name in required_files
        if name not in sent
    ]


COMPONENT_REF = "#/components/schemas/{model}"


def body_openapi(
    schema: type[Schema],
    *,
    files: tuple[str, ...] = (),
    required_files: tuple[str, ...] = (),
    form_only: bool = False,
) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads it with `parse_body` (same arguments).

    Nested models are referred to in the document's components, where the routes that take
    them as plain bodies put them (a schema's own `$defs` resolve nowhere in the document)."""
    json_schema = schema.model_json_schema(ref_template=COMPONENT_REF)
    json_schema.pop("$defs", None)
    form_schema = {
        **json_schema,
        "properties": {
            **json_schema.get("properties", {}),
            **{name: {"type": "string", "format": "binary"} for name in files},
        },
        "required": [*json_schema.get("required", []), *required_files],
    }
    content: dict[str, Any] = {"multipart/form-data": {"schema": form_schema}}
    if not form_only:
        content["application/json"] = {"schema": json_schema}
    return {"requestBody": {"content": content, "required": bool(form_schema["required"])}}
