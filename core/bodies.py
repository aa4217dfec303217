"""Request bodies that may come as JSON or as multipart form data (with files).

Ninja binds a body either as JSON or as a form; PUT and PATCH here accept both, so these
routes read the body with `parse_body` and declare both shapes with `body_openapi`.
"""

import json
from typing import Any, TypeVar

import pydantic
from django.http import HttpRequest
from ninja import Schema
from ninja.errors import ValidationError

SchemaT = TypeVar("SchemaT", bound=Schema)

INVALID_JSON = "The request body is not a JSON object."


def parse_body(request: HttpRequest, schema: type[SchemaT]) -> SchemaT:
    """Validate the JSON or form fields of `request` with `schema` (422 on failure)."""
    if request.content_type == "application/json":
        try:
            data: Any = json.loads(request.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValidationError([{"type": "json_invalid", "loc": ["body"], "msg": INVALID_JSON}])
    else:
        # Empty form values mean "not sent", as browsers send untouched fields.
        data = {key: value for key, value in request.POST.items() if value != ""}
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as error:
        raise ValidationError(
            [
                {"type": item["type"], "loc": ["body", *item["loc"]], "msg": item["msg"]}
                for item in error.errors(include_url=False, include_context=False)
            ]
        ) from error


def body_openapi(schema: type[Schema], *, files: tuple[str, ...] = ()) -> dict[str, Any]:
    """The OpenAPI request body for a route that takes JSON or multipart with `files`."""
    json_schema = schema.model_json_schema()
    form_schema = {
        **json_schema,
        "properties": {
            **json_schema.get("properties", {}),
            **{name: {"type": "string", "format": "binary"} for name in files},
        },
    }
    return {
        "requestBody": {
            "content": {
                "multipart/form-data": {"schema": form_schema},
                "application/json": {"schema": json_schema},
            },
            "required": bool(json_schema.get("required")),
        }
    }
