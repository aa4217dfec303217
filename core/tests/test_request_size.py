"""The declared-length check of `core.request_size`, on the paths without the ASGI layer.

Django's test Client goes through Django's middleware but not through `config.asgi`; the
streaming cap itself is tested against a live server in test_body_limit.py.
"""

from http import HTTPStatus

import pytest
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from ninja_jwt.tokens import RefreshToken

from catalog.models import Song
from core.body_limit import REQUEST_TOO_LARGE
from tests.helpers import bearer, expired_access_token, multipart
from tests.media_samples import png_bytes, upload, wav_bytes
from users.models import User

ME = "/api/auth/user/"
TOO_LARGE = {"detail": REQUEST_TOO_LARGE}


def test_a_body_declared_too_large_is_refused_before_it_is_read(user: User, settings):
    response = Client(headers=bearer(user)).generic(
        "PATCH",
        ME,
        b'{"full_name": "Never read"}',
        content_type="application/json",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == TOO_LARGE
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"


def test_a_body_within_the_limit_goes_through(user: User, settings):
    response = Client(headers=bearer(user)).patch(
        ME, {"full_name": "Read"}, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["full_name"] == "Read"
    user.refresh_from_db()
    assert user.full_name == "Read"


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
def test_json_over_the_json_cap_is_a_413_json_in_debug_on_and_off(user: User, settings, debug):
    """11 MiB: once past Django's own memory cap, and under the old MAX_REQUEST_BYTES."""
    settings.DEBUG = debug
    body = b'{"full_name": "' + b"a" * (11 * 1024 * 1024) + b'"}'

    response = Client(headers=bearer(user)).generic(
        "PATCH", ME, body, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == TOO_LARGE
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"


def test_djangos_memory_cap_takes_any_json_body_within_ours(settings):
    # Files stream to disk; only a JSON body and a form's text fields are held in memory.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= settings.JSON_MAX_BYTES


def _multipart_over_the_json_cap(settings) -> dict:
    wav = wav_bytes(70.0)
    assert len(wav) > settings.JSON_MAX_BYTES
    return {"title": "Big", "artist": "Enough", "audio_file": upload("song.wav", wav)}


def test_a_signed_in_upload_over_the_json_cap_goes_through(admin_user: User, settings):
    response = Client(headers=bearer(admin_user)).post(
        "/api/songs/", _multipart_over_the_json_cap(settings)
    )

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert Song.objects.get().title == "Big"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Basic YWRhOnB3"],
    ids=["no token", "bad token", "not bearer"],
)
def test_an_anonymous_upload_over_the_json_cap_is_refused(
    admin_user: User, settings, authorization
):
    headers = {"Authorization": authorization} if authorization else {}

    response = Client(headers=headers).post("/api/songs/", _multipart_over_the_json_cap(settings))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == TOO_LARGE
    assert not Song.objects.exists()


def test_a_json_body_over_the_json_cap_is_refused_even_when_signed_in(user: User, settings):
    response = Client(headers=bearer(user)).generic(
        "PATCH",
        ME,
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(settings.JSON_MAX_BYTES + 1),
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_an_expired_token_keeps_the_upload_cap_and_gets_the_routes_401(admin_user: User, settings):
    client = Client(headers={"Authorization": f"Bearer {expired_access_token(admin_user)}"})

    response = client.post("/api/songs/", _multipart_over_the_json_cap(settings))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not Song.objects.exists()


def test_a_refresh_token_is_not_an_access_token(admin_user: User, settings):
    refresh = str(RefreshToken.for_user(admin_user))
    client = Client(headers={"Authorization": f"Bearer {refresh}"})

    response = client.post("/api/songs/", _multipart_over_the_json_cap(settings))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_an_admin_session_keeps_the_upload_cap(staff_client: Client, settings):
    def form() -> dict:
        return {
            "title": "Admin",
            "artist_name": "Staff",
            "audio": upload("song.wav", wav_bytes(70.0)),
        }

    response = staff_client.post(reverse("admin:catalog_song_add"), form())
    anonymous = Client().post(reverse("admin:catalog_song_add"), form())

    assert response.status_code == HTTPStatus.FOUND
    assert Song.objects.get().title == "Admin"
    assert anonymous.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_a_non_admins_profile_image_over_the_json_cap_goes_through(user: User, settings):
    # Padding after a real PNG: held to the image cap (5 MiB), not the JSON cap.
    image = png_bytes(size=(64, 64)) + b"\0" * (settings.JSON_MAX_BYTES + 1)
    body = {"image_file": upload("me.png", image)}

    response = Client(headers=bearer(user)).patch(ME, **multipart(body))

    assert response.status_code == HTTPStatus.OK, response.content
    user.refresh_from_db()
    assert user.image.name.startswith("user_images/")


def test_a_multipart_body_is_counted_whole(user: User, settings):
    """The cap is on the body, framing included, not on the file alone."""
    settings.JSON_MAX_BYTES = 1000
    data = encode_multipart(BOUNDARY, {"full_name": "x" * 990})
    assert len(data) > settings.JSON_MAX_BYTES

    response = Client().generic("PATCH", ME, data, content_type=MULTIPART_CONTENT)

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
