from http import HTTPStatus
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from config.api import AUTHENTICATION_REQUIRED
from core.files.images import IMAGE_NOT_READABLE
from core.files.uploads import file_too_large_message
from tests.helpers import bearer, iso, multipart
from tests.media_samples import png_bytes, stored_files
from users.models import User

ME = "/api/auth/user/"


def test_me_answers_the_signed_in_user(auth_client: Client, user: User):
    response = auth_client.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "full_name": "Ada Listener",
        "image_url": None,
        "is_admin": False,
        "date_joined": iso(user.date_joined),
    }


def test_me_needs_authentication(client: Client, db):
    response = client.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": AUTHENTICATION_REQUIRED}


def test_patch_with_json_changes_the_name(auth_client: Client, user: User):
    response = auth_client.patch(ME, {"full_name": "  Ada Lovelace "}, "application/json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["full_name"] == "Ada Lovelace"
    user.refresh_from_db()
    assert user.full_name == "Ada Lovelace"


def test_patch_with_multipart_stores_a_verified_image(
    user: User, settings, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("../../evil.png", png_bytes(), content_type="text/plain")
    client = Client(headers=bearer(user))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            ME,
            **multipart({"full_name": "Ada", "image_file": upload}),
        )

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.image.name.startswith("user_images/")
    assert "evil" not in user.image.name
    assert user.image.name.endswith(".png")
    assert response.json()["image_url"] == f"http://testserver/media/{user.image.name}"
    assert response.json()["full_name"] == "Ada"
    assert stored_files(settings) == [Path(settings.MEDIA_ROOT) / user.image.name]


def test_a_new_image_replaces_and_deletes_the_old_one(
    user: User, settings, django_capture_on_commit_callbacks
):
    client = Client(headers=bearer(user))
    for color in ("red", "blue"):
        upload = SimpleUploadedFile("me.png", png_bytes(color=color))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.patch(ME, **multipart({"image_file": upload}))
        assert response.status_code == HTTPStatus.OK

    user.refresh_from_db()
    assert stored_files(settings) == [Path(settings.MEDIA_ROOT) / user.image.name]


def test_an_image_that_is_really_text_is_refused_and_nothing_is_stored(
    auth_client: Client, user: User, settings
):
    upload = SimpleUploadedFile("photo.png", b"just some text, not a picture", "image/png")

    response = auth_client.patch(
        ME,
        **multipart({"full_name": "Changed", "image_file": upload}),
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {"type": "value_error", "loc": ["body", "image_file"], "msg": IMAGE_NOT_READABLE}
        ]
    }
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"
    assert not user.image
    assert stored_files(settings) == []


def test_an_svg_is_refused(auth_client: Client, user: User, settings):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    upload = SimpleUploadedFile("logo.svg", svg, "image/svg+xml")

    response = auth_client.patch(ME, **multipart({"image_file": upload}))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert stored_files(settings) == []


def test_an_oversized_image_is_refused_with_413(auth_client: Client, user: User, settings):
    settings.IMAGE_MAX_BYTES = 1024 * 1024
    big = png_bytes(size=(1200, 1200))
    big += b"\0" * (settings.IMAGE_MAX_BYTES + 1 - len(big))
    upload = SimpleUploadedFile("big.png", big)

    response = auth_client.patch(ME, **multipart({"image_file": upload}))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": file_too_large_message(settings.IMAGE_MAX_BYTES)}
    assert stored_files(settings) == []


def test_an_image_with_too_many_pixels_is_refused(auth_client: Client, user: User, settings):
    settings.IMAGE_MAX_PIXELS = 100
    upload = SimpleUploadedFile("wide.png", png_bytes(size=(20, 20)))

    response = auth_client.patch(ME, **multipart({"image_file": upload}))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert stored_files(settings) == []


def test_email_and_admin_fields_cannot_be_changed(auth_client: Client, user: User):
    for field, value in [("email", "new@example.com"), ("is_admin", True), ("is_superuser", True)]:
        response = auth_client.patch(ME, {field: value}, "application/json")

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json()["detail"][0]["loc"] == ["body", field]
    user.refresh_from_db()
    assert user.email.startswith("listener")
    assert not user.is_superuser


def test_patch_refuses_a_blank_name_and_malformed_json(auth_client: Client, user: User):
    blank = auth_client.patch(ME, {"full_name": "   "}, "application/json")
    malformed = auth_client.patch(ME, "{not json", "application/json")

    assert blank.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert malformed.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"
