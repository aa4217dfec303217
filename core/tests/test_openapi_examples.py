"""What Swagger UI fills in from the served schema: real example values, one type per
optional query parameter, and optional sign-in said as such.

Swagger writes "string" for a string property that has no example and no format it knows how
to fill (a date-time, an email, a binary upload); every such property of a request body or a
success response must bring its own example.
"""

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from config.api import AUTHENTICATION_REQUIRED, DATABASE_UNAVAILABLE
from core.errors import NOT_FOUND
from users.services import INVALID_CREDENTIALS

# Formats Swagger UI fills with a value of their own.
FILLED_FORMATS = {"date-time", "date", "email", "uri", "uuid", "binary", "password"}
OPTIONAL_SIGN_IN = {
    ("get", "/api/songs/made-for-you/"),
    ("get", "/api/playlists/{playlist_id}/"),
    ("get", "/api/playlists/{playlist_id}/songs/"),
    ("get", "/api/search/"),
}


@pytest.fixture
def schema(client: Client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _strings_without_examples(schema: dict, node: dict, where: str, seen: set) -> list[str]:
    """Every string property under `node` (objects, arrays, anyOf) Swagger would call "string"."""
    ref = node.get("$ref")
    if ref in seen:
        return []
    if ref:
        seen = seen | {ref}
    node = _resolve(schema, node)
    found: list[str] = []
    for variant in node.get("anyOf", []):
        found += _strings_without_examples(schema, variant, where, seen)
    if "items" in node:
        found += _strings_without_examples(schema, node["items"], f"{where}[]", seen)
    for name, prop in node.get("properties", {}).items():
        resolved = _resolve(schema, prop)
        kinds = {resolved.get("type")} | {v.get("type") for v in resolved.get("anyOf", [])}
        has_own = any(key in prop for key in ("examples", "example", "enum", "const", "default"))
        if (
            "string" in kinds
            and not has_own
            and resolved.get("format") not in FILLED_FORMATS
            and not any(v.get("format") in FILLED_FORMATS for v in resolved.get("anyOf", []))
        ):
            found.append(f"{where}.{name}")
        found += _strings_without_examples(schema, prop, f"{where}.{name}", seen)
    return found


def _bodies(schema: dict):
    for method, path, operation in _operations(schema):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            yield f"{method.upper()} {path} ({media})", content["schema"]


def _success_responses(schema: dict):
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for content in response.get("content", {}).values():
                    yield f"{method.upper()} {path} {status}", content["schema"]


def test_every_string_of_a_request_body_has_an_example(schema: dict):
    bodies = list(_bodies(schema))
    assert len(bodies) >= 15

    missing = [
        field
        for where, body in bodies
        for field in _strings_without_examples(schema, body, where, set())
    ]

    assert missing == []


def test_every_string_of_a_success_response_has_an_example(schema: dict):
    missing = [
        field
        for where, body in _success_responses(schema)
        for field in _strings_without_examples(schema, body, where, set())
    ]

    assert missing == []


def test_no_example_in_the_schema_is_the_word_string(schema: dict):
    text = json.dumps(schema)

    assert '"examples": ["string"]' not in text
    assert '"example": "string"' not in text


def test_the_scan_finds_a_string_without_an_example(schema: dict):
    """The checks above must be able to fail: a body field stripped of its example is found."""
    login = schema["components"]["schemas"]["LoginIn"]
    del login["properties"]["email"]["examples"]

    assert _strings_without_examples(
        schema, {"$ref": "#/components/schemas/LoginIn"}, "LoginIn", set()
    ) == ["LoginIn.email"]


def test_error_examples_say_the_status_sentence(schema: dict):
    login = schema["paths"]["/api/auth/login/"]["post"]["responses"]
    song = schema["paths"]["/api/songs/{song_id}/"]["get"]["responses"]
    me = schema["paths"]["/api/auth/user/"]["get"]["responses"]

    def example(response: dict[str, Any]) -> dict:
        return response["content"]["application/json"]["example"]

    assert example(login["401"]) == {"detail": INVALID_CREDENTIALS}
    assert example(me["401"]) == {"detail": AUTHENTICATION_REQUIRED}
    assert example(song["404"]) == {"detail": NOT_FOUND}
    assert example(song["503"]) == {"detail": DATABASE_UNAVAILABLE}


def test_optional_query_parameters_have_one_type_and_no_null(schema: dict):
    two_types = [
        f"{method.upper()} {path} ?{parameter['name']}"
        for method, path, operation in _operations(schema)
        for parameter in operation.get("parameters", [])
        if "anyOf" in parameter["schema"] or "null" in json.dumps(parameter["schema"])
    ]
    album_id = next(
        parameter
        for parameter in schema["paths"]["/api/songs/"]["get"]["parameters"]
        if parameter["name"] == "album_id"
    )

    assert two_types == []
    assert album_id["required"] is False
    assert album_id["schema"]["type"] == "integer"
    assert album_id["schema"]["minimum"] == 1


def test_optional_sign_in_allows_anonymous_beside_the_bearer(schema: dict):
    optional = {
        (method, path)
        for method, path, operation in _operations(schema)
        if {} in operation.get("security", [])
    }

    assert optional == OPTIONAL_SIGN_IN
    for method, path in OPTIONAL_SIGN_IN:
        security = schema["paths"][path][method]["security"]
        assert sorted(security, key=len) == [{}, {"BearerJWT": []}]
