"""One write path: files changed in the admin are stored, replaced and deleted as the API does
it, so neither path leaves an orphan in storage."""

from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog.models import Album, Song
from catalog.tests.conftest import png_bytes, stored_files, upload
from tests.helpers import bearer, multipart
from users.models import User

pytestmark = pytest.mark.django_db


def media(settings, name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def user_change_form(user: User, **changes) -> dict:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
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
    assert stored_files(settings) == [media(settings, user.image.name)]


def test_a_picture_cleared_in_the_admin_is_deleted(
    staff_client: Client, user: User, settings, django_capture_on_commit_callbacks
):
    user.image = SimpleUploadedFile("me.png", png_bytes())
    user.save()
    assert stored_files(settings) == [media(settings, user.image.name)]

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


def test_a_song_cover_replaced_then_cleared_in_the_admin_leaves_no_file(
    staff_client: Client, make_song, settings, django_capture_on_commit_callbacks
):
    song = make_song(image=True)
    first_cover = song.image.name
    url = reverse("admin:catalog_song_change", args=[song.pk])
    form = {"title": "Renamed", "artist_name": song.artist_name, "album": ""}

    with django_capture_on_commit_callbacks(execute=True):
        replaced = staff_client.post(url, {**form, "image": upload("c.png", png_bytes())})
    song.refresh_from_db()
    second_cover = song.image.name
    with django_capture_on_commit_callbacks(execute=True):
        cleared = staff_client.post(url, {**form, "image-clear": "on"})

    assert (replaced.status_code, cleared.status_code) == (HTTPStatus.FOUND, HTTPStatus.FOUND)
    assert second_cover != first_cover
    song.refresh_from_db()
    assert song.title == "Renamed"
    assert not song.image
    assert stored_files(settings) == [media(settings, song.audio.name)]


def test_an_album_added_in_the_admin_is_created_by_the_service(
    staff_client: Client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_album_add"),
            {
                "title": "Blue Train",
                "artist_name": "John Coltrane",
                "release_year": "1957",
                "image": upload("../cover.png", png_bytes()),
                # The read-only songs inline still posts its management form.
                "songs-TOTAL_FORMS": "0",
                "songs-INITIAL_FORMS": "0",
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    album = Album.objects.get()
    # The admin logged the addition against the row the service saved.
    logged = LogEntry.objects.get()
    assert (logged.object_id, logged.object_repr) == (str(album.pk), str(album))
    assert album.image.name.startswith("album_images/")
    assert "cover" not in album.image.name  # renamed by the service's checks
    assert stored_files(settings) == [media(settings, album.image.name)]
    assert not Song.objects.exists()
