"""The served schema as strict tools read it, and the error shapes it promises.

Python's `json` keeps the last of two equal keys, so the raw bytes are read with a
duplicate-key check: Swagger UI and openapi-typescript refuse a schema that repeats one.
"""

import json
import re
from http import HTTPStatus

import pytest
from django.test import Client
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

from core.text import BLANK, CONTROL_CHARACTERS
from tests.helpers import DEFAULT_PASSWORD, bearer
from users.schemas import INVALID_EMAIL

READABLE_OPERATION_ID = re.compile(r"^[a-z]+(?:_[a-z]+)+$")


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    assert not repeated, f"repeated keys in the schema: {repeated}"
    return dict(pairs)


@pytest.fixture
def schema(client: Client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return json.loads(response.content, object_pairs_hook=_no_duplicate_keys)


def test_the_duplicate_key_check_catches_a_repeated_key():
    with pytest.raises(AssertionError, match="413"):
        json.loads('{"413": 1, "413": 2}', object_pairs_hook=_no_duplicate_keys)


def test_the_schema_passes_the_strict_openapi_31_validator(schema: dict):
    assert schema["openapi"].startswith("3.1")
    validate(schema, cls=OpenAPIV31SpecValidator)


def test_operation_ids_are_readable_and_unique(schema: dict):
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values()]

    assert len(ids) == len(set(ids))
    assert [i for i in ids if not READABLE_OPERATION_ID.match(i)] == []
    assert {"songs_list", "songs_get", "auth_login", "albums_update"} <= set(ids)


def test_schema_names_say_what_they_are(schema: dict):
    names = set(schema["components"]["schemas"])

    assert {"SongPage", "AlbumPage", "MessagePage", "UserPublicPage", "PageParams"} <= names
    assert [n for n in names if n == "Input" or n.startswith("Ninja")] == []


def test_every_error_response_has_the_documented_shape(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                expected = "ValidationErrorOut" if status == "422" else "ErrorOut"
                assert ref.endswith(expected), (method, path, status)


def test_patch_fields_may_be_left_out_but_are_not_nullable(schema: dict):
    body = schema["paths"]["/api/songs/{song_id}/"]["patch"]["requestBody"]["content"]
    properties = body["application/json"]["schema"]["properties"]

    assert properties["title"]["type"] == "string"
    assert "default" not in properties["title"]
    assert {"type": "null"} in properties["album_id"]["anyOf"]


def test_free_text_rules_are_in_the_schema(schema: dict):
    registration = schema["components"]["schemas"]["RegistrationIn"]["properties"]
    message = schema["components"]["schemas"]["MessageIn"]["properties"]["content"]

    assert re.search(registration["email"]["pattern"], "ada@example.com") is not None
    assert re.search(registration["email"]["pattern"], "a..b@example.com") is None
    assert registration["email"]["minLength"] >= 1
    assert registration["full_name"]["minLength"] == 1
    assert re.search(registration["full_name"]["pattern"], "Ada") is not None
    assert re.search(registration["full_name"]["pattern"], "   ") is None
    assert re.search(registration["full_name"]["pattern"], "a\x00b") is None
    assert message["minLength"] == 1
    # The length after trimming is in the pattern (maxLength would count dropped spaces).
    assert re.search(message["pattern"], "line one\n\tline two") is not None
    assert re.search(message["pattern"], f"  {'x' * 2000}  ") is not None
    assert re.search(message["pattern"], "x" * 2001) is None


# --- Regression tests for what Schemathesis found ------------------------------------------


def test_a_path_id_that_is_not_an_integer_is_a_json_404(client: Client):
    response = client.get("/api/songs/null%2Cnull/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not found."}


def test_an_empty_email_at_registration_is_422_and_writes_nothing(client: Client, db):
    from users.models import User

    response = client.post(
        "/api/auth/registration/",
        {
            "email": "",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            "full_name": "A",
        },
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [{"loc": ["body", "email"], "msg": INVALID_EMAIL, "type": "value_error"}]
    }
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/login/",
        "/api/auth/registration/",
        "/api/auth/token/refresh/",
        "/api/auth/logout/",
        "/api/messages/",
    ],
)
def test_malformed_json_is_a_422_about_the_body(client: Client, user, path):
    response = client.post(
        path, b'{"email": ', content_type="application/json", headers=bearer(user)
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {"loc": ["body"], "msg": "The request body is not valid JSON.", "type": "json_invalid"}
        ]
    }


def test_deeply_nested_json_is_a_422_not_a_500(admin_client: Client, admin_user):
    nested = b"[" * 100_000 + b"]" * 100_000
    for method, path in [
        ("PATCH", "/api/auth/user/"),
        ("POST", "/api/auth/login/"),
        ("POST", "/api/messages/"),
    ]:
        response = admin_client.generic(method, path, nested, content_type="application/json")

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, path
        assert response.json()["detail"] == [
            {
                "loc": ["body"],
                "msg": "The request body is nested too deeply.",
                "type": "json_invalid",
            }
        ]
    admin_user.refresh_from_db()
    assert admin_user.full_name == "Root Admin"


def test_a_weak_password_gives_one_item_per_reason(client: Client, db):
    response = client.post(
        "/api/auth/registration/",
        {
            "email": "password@example.com",
            "password1": "password",
            "password2": "password",
            "full_name": "Password",
        },
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    items = response.json()["detail"]
    assert len(items) >= 2
    assert {item["type"] for item in items} == {"value_error"}
    assert {tuple(item["loc"]) for item in items} == {("body", "password1")}
    assert "This password is too common." in [item["msg"] for item in items]


def test_a_422_has_one_shape_for_json_and_multipart(auth_client: Client, user):
    from tests.helpers import multipart

    as_json = auth_client.patch("/api/auth/user/", {"full_name": "  "}, "application/json")
    as_form = auth_client.patch("/api/auth/user/", **multipart({"full_name": ""}))

    expected = {"detail": [{"loc": ["body", "full_name"], "msg": BLANK, "type": "value_error"}]}
    assert as_json.json() == expected
    assert as_form.json() == expected
    assert as_form.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"


def test_control_characters_in_filters_are_422_not_500(client: Client, user):
    for path in ["/api/songs/?search=%00", "/api/albums/?search=a%00", "/api/songs/?artist=%01"]:
        response = client.get(path)

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, path
        assert response.json()["detail"][0]["msg"] == CONTROL_CHARACTERS
    users = Client(headers=bearer(user)).get("/api/users/?search=%00")
    assert users.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


@pytest.mark.parametrize(
    "path",
    [
        "/api/songs/?offset=9223372036854775808",
        "/api/albums/?offset=9223372036854775808",
        "/api/messages/?offset=9223372036854775808",
        "/api/songs/9223372036854775808/",
        "/api/messages/9223372036854775808/",
    ],
)
def test_numbers_beyond_bigint_are_422_everywhere(auth_client: Client, path):
    response = auth_client.get(path)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["type"] in {"less_than_equal"}


def test_unknown_api_paths_and_missing_slashes_are_json_404s(client: Client):
    unknown = client.get("/api/nothing-here/")
    no_slash = client.post("/api/auth/login", {}, content_type="application/json")

    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert unknown.json() == {"detail": "Not found."}
    assert no_slash.status_code == HTTPStatus.NOT_FOUND
    assert no_slash.json() == {"detail": "Not found. Paths end with a slash: /api/auth/login/"}


def test_admin_sign_in_without_next_lands_on_the_dashboard(client: Client, admin_user):
    response = client.post(
        "/admin/login/", {"username": admin_user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_an_unknown_path_is_a_json_404_for_writes_too(admin_user):
    # CSRF checks on: a non-route path must not answer the CSRF page's 403.
    client = Client(enforce_csrf_checks=True, headers=bearer(admin_user))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.generic(method, "/api/songs/null%2Cnull/plays/")

        assert response.status_code == HTTPStatus.NOT_FOUND, method
        assert response.json() == {"detail": "Not found."}


def test_an_empty_multipart_patch_is_accepted_and_changes_nothing(auth_client: Client, user):
    boundary = "c637e12e2b1a998d80d1b087531af51c"

    response = auth_client.patch(
        "/api/auth/user/",
        f"--{boundary}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["full_name"] == "Ada Listener"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_multipart_without_a_boundary_is_a_422_and_writes_nothing(
    admin_client: Client, admin_user, method
):
    from catalog.models import Album

    path = "/api/albums/" if method == "POST" else "/api/auth/user/"
    response = admin_client.generic(method, path, b"title=x", content_type="multipart/form-data")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "The request body is not valid multipart form data.",
                "type": "form_invalid",
            }
        ]
    }
    assert not Album.objects.exists()
    admin_user.refresh_from_db()
    assert admin_user.full_name == "Root Admin"


def test_an_email_without_a_real_top_level_domain_is_refused_by_the_schema_too(schema: dict):
    pattern = schema["components"]["schemas"]["RegistrationIn"]["properties"]["email"]["pattern"]

    assert re.search(pattern, "0@0.a") is None
    assert re.search(pattern, "ada@example.com") is not None


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_form_fields_past_the_memory_cap_are_a_413_and_write_nothing(
    admin_client: Client, admin_user, settings, method
):
    from catalog.models import Album
    from tests.helpers import multipart

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    fields = {"title": "x" * 2000, "artist": "A", "full_name": "y" * 2000}
    if method == "POST":
        response = admin_client.post("/api/albums/", fields)
    else:
        response = admin_client.patch("/api/auth/user/", **multipart(fields))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": "The form's fields are larger than the server accepts."}
    assert not Album.objects.exists()
    admin_user.refresh_from_db()
    assert admin_user.full_name == "Root Admin"


def test_a_form_field_sent_twice_is_a_422_and_writes_nothing(admin_client: Client, make_user):
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    from catalog.models import Album

    body = encode_multipart(BOUNDARY, {"title": "T", "artist": "A", "release_year": [1999, 2001]})
    created = admin_client.generic("POST", "/api/albums/", body, content_type=MULTIPART_CONTENT)

    assert created.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert created.json() == {
        "detail": [
            {"loc": ["body", "release_year"], "msg": "Send this field once.", "type": "value_error"}
        ]
    }
    assert not Album.objects.exists()


@pytest.mark.parametrize("field", ["release_year", "album_id", "image_file"])
def test_in_a_form_only_the_text_null_is_null(
    admin_client: Client, user, make_album, make_song, field
):
    """One rule for every nullable form field (core.schemas.form_null): an empty value is a
    value, refused where it is not one; the text null is null."""
    from catalog.models import Album, Song
    from library.models import Playlist
    from library.services import playlist_create, playlist_update
    from tests.helpers import multipart
    from tests.media_samples import png_bytes, upload

    album = make_album(release_year=1959)
    song = make_song(album=album)
    playlist = playlist_create(owner=user, name="Mine")
    playlist_update(playlist_id=playlist.pk, user=user, image_file=upload("p.png", png_bytes()))
    client, path, stored = {
        "release_year": (
            admin_client,
            f"/api/albums/{album.pk}/",
            lambda: Album.objects.get().release_year,
        ),
        "album_id": (admin_client, f"/api/songs/{song.pk}/", lambda: Song.objects.get().album_id),
        "image_file": (
            Client(headers=bearer(user)),
            f"/api/playlists/{playlist.pk}/",
            lambda: Playlist.objects.get().image.name or None,
        ),
    }[field]
    before = stored()

    empty = client.patch(path, **multipart({field: ""}))
    after_empty = stored()
    null = client.patch(path, **multipart({field: "null"}))

    assert empty.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [item["loc"] for item in empty.json()["detail"]] == [["body", field]]
    if field == "image_file":  # says what the field takes, not pydantic's "should be None"
        assert "null" in empty.json()["detail"][0]["msg"]
        assert "file" in empty.json()["detail"][0]["msg"]
    assert before is not None
    assert after_empty == before
    assert null.status_code == HTTPStatus.OK
    assert stored() is None


def test_a_large_form_sent_to_a_json_route_is_a_422(client: Client):
    response = client.post("/api/auth/login/", {"email": "a@b.co", "password": "x" * 8000})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_a_failure_outside_the_routes_is_json_in_every_mode(client: Client, settings, db):
    """A middleware that crashes under /api/ would make Django answer its HTML 500 page."""
    for debug in (True, False):
        settings.DEBUG = debug
        settings.ALLOWED_HOSTS = ["testserver"]
        # An unknown host is refused by Django itself (400, HTML without the middleware).
        response = client.get("/api/songs/", HTTP_HOST="evil.example")

        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json() == {"detail": "Bad Request."}


def test_a_crash_in_a_route_is_a_json_500(client: Client, monkeypatch, db):
    from catalog.selectors import discovery

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(discovery, "songs_featured", crash)
    response = Client(raise_request_exception=False).get("/api/songs/featured/")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json() == {
        "detail": "The server failed to answer this request; it has been logged."
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login/", {"email": "a\x00@example.com", "password": "x"}),
        (
            "/api/auth/registration/",
            {
                "email": "nul@example.com",
                "password1": DEFAULT_PASSWORD,
                "password2": DEFAULT_PASSWORD,
                "full_name": "Ada\x00",
            },
        ),
    ],
)
def test_a_nul_in_sign_in_or_registration_is_422_and_writes_nothing(client: Client, db, path, body):
    from users.models import User

    response = client.post(path, body, content_type="application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["type"] == "value_error"
    assert not User.objects.exists()


def test_a_nul_in_a_profile_name_is_422_and_changes_nothing(auth_client: Client, user):
    response = auth_client.patch("/api/auth/user/", {"full_name": "A\x00"}, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"


def test_offsets_beyond_bigint_are_422_on_users_and_conversations(auth_client: Client, make_user):
    other = make_user()
    for path in ["/api/users/", f"/api/users/{other.pk}/messages/"]:
        response = auth_client.get(path, {"offset": 2**63})

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, path
        assert response.json()["detail"][0]["loc"] == ["query", "offset"]
