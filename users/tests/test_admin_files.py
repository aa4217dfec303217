"""One write path: a user's picture changed in the admin is stored, replaced and deleted as the
API does it, so neither path leaves an orphan in storage (songs and albums: catalog/tests)."""

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.helpers import bearer, multipart
from tests.media_samples import media_path, png_bytes, stored_files, upload
from users.models import User

pytestmark = pytest.mark.django_db


def user_change_form(user: User, **changes) -> dict:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        # The app passwords' inline (none here), as the page's form sends it.
        "app_passwords-TOTAL_FORMS": "0",
        "app_passwords-INITIAL_FORMS": "0",
        **changes,
    }


def test_a_picture_replaced_in_the_admin_or_the_api_leaves_no_orphan(
    staff_client: Client, user: User, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api = Client(headers=bearer(user)).patch(
            "/api/auth/user/",
            **multipart({"image_file": SimpleUploadedFile("a.png", png_bytes(color="red"))}),
        )
    assert api.status_code == HTTPStatus.OK
    user.refresh_from_db()
    from_api = user.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:users_user_change", args=[user.pk]),
            user_change_form(user, image=upload("b.png", png_bytes(color="blue"))),
        )

    assert response.status_code == HTTPStatus.FOUND, response.content[:2000]
    user.refresh_from_db()
    assert user.image.name != from_api
    assert stored_files(settings) == [media_path(settings, user.image.name)]


def test_a_picture_cleared_in_the_admin_is_deleted(
    staff_client: Client, user: User, settings, django_capture_on_commit_callbacks
):
    user.image = SimpleUploadedFile("me.png", png_bytes())
    user.save()
    assert stored_files(settings) == [media_path(settings, user.image.name)]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:users_user_change", args=[user.pk]),
            user_change_form(user, **{"image-clear": "on"}),
        )

    assert response.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert not user.image
    assert stored_files(settings) == []


def test_deleting_a_user_in_the_admin_deletes_their_picture(
    staff_client: Client, make_user, settings, django_capture_on_commit_callbacks
):
    listener = make_user(image=SimpleUploadedFile("me.png", png_bytes()))
    assert stored_files(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:users_user_delete", args=[listener.pk]), {"post": "yes"}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert not User.objects.filter(pk=listener.pk).exists()
    assert stored_files(settings) == []
