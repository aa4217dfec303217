"""One write path: song and album files changed in the admin are stored, replaced and deleted as
the API does it, so neither path leaves an orphan in storage (the users' pictures: users/tests)."""

from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from catalog.models import Album, Song
from tests.media_samples import media_path, png_bytes, stored_files, upload

pytestmark = pytest.mark.django_db


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
    assert stored_files(settings) == [media_path(settings, song.audio.name)]


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
    assert stored_files(settings) == [media_path(settings, album.image.name)]
    assert not Song.objects.exists()
