"""Stored names are random; what the uploader called each file is kept for display and
export, by every write path (API, admin, CSV import), and cleared with the file."""

from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog.models import Album, Song
from core.files.uploads import display_name
from tests.admin_pages import confirm, preview
from tests.helpers import bearer, multipart
from tests.media_samples import png_bytes, upload, wav_bytes
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("My Song.WAV", "My Song.WAV"),
        ("../../etc/passwd.wav", "passwd.wav"),
        ("C:\\Users\\ada\\take 2.wav", "take 2.wav"),
        ("bell\x07\r\n.wav", "bell.wav"),
        ("x" * 300 + ".wav", "x" * 255),
    ],
)
def test_a_display_name_is_the_last_segment_without_control_characters(sent, kept):
    assert display_name(sent) == kept


def test_the_api_keeps_the_uploaded_names_and_replaces_them_with_the_files(admin_client: Client):
    created = admin_client.post(
        "/api/songs/",
        {
            "title": "Take",
            "artist": "Band",
            "audio_file": upload("../Studio Take 1.wav", wav_bytes()),
            "image_file": upload("Front Cover.png", png_bytes()),
        },
    )
    assert created.status_code == HTTPStatus.CREATED
    song = Song.objects.get()
    assert (song.audio_original_name, song.image_original_name) == (
        "Studio Take 1.wav",
        "Front Cover.png",
    )
    assert "Studio" not in song.audio.name  # the stored name stays random

    admin_client.patch(f"/api/songs/{song.pk}/", {"title": "Renamed"}, "application/json")
    song.refresh_from_db()
    assert song.audio_original_name == "Studio Take 1.wav"  # no file sent: kept

    admin_client.patch(
        f"/api/songs/{song.pk}/",
        **multipart({"audio_file": upload("Take 2.wav", wav_bytes(seconds=2))}),
    )
    song.refresh_from_db()
    assert (song.audio_original_name, song.image_original_name) == (
        "Take 2.wav",
        "Front Cover.png",
    )


def test_the_admin_keeps_the_name_and_clears_it_with_the_image(staff_client: Client):
    staff_client.post(
        reverse("admin:catalog_album_add"),
        {
            "title": "Blue Train",
            "artist_name": "John Coltrane",
            "image": upload("blue train cover.png", png_bytes()),
            "songs-TOTAL_FORMS": "0",
            "songs-INITIAL_FORMS": "0",
        },
    )
    album = Album.objects.get()
    assert album.image_original_name == "blue train cover.png"

    staff_client.post(
        reverse("admin:catalog_album_change", args=[album.pk]),
        {
            "title": album.title,
            "artist_name": album.artist_name,
            "image-clear": "on",
            "songs-TOTAL_FORMS": "0",
            "songs-INITIAL_FORMS": "0",
        },
    )
    album.refresh_from_db()
    assert not album.image
    assert album.image_original_name == ""


def test_a_profile_picture_keeps_its_name(user: User):
    response = Client(headers=bearer(user)).patch(
        "/api/auth/user/",
        **multipart({"image_file": SimpleUploadedFile("me at the beach.png", png_bytes())}),
    )

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.image_original_name == "me at the beach.png"


def test_csv_import_names_the_stored_file_and_export_carries_it(staff_client: Client, settings):
    folder = Path(settings.MEDIA_ROOT) / "songs"
    folder.mkdir(parents=True)
    (folder / "=evil.wav").write_bytes(wav_bytes())
    csv_text = "title,artist,album,album_artist,audio_file\nHook,Band,,,=evil.wav\n"

    confirm(staff_client, "song", preview(staff_client, "song", csv_text))
    exported = staff_client.post(
        reverse("admin:catalog_song_export"), {"format": "0", "resource": "0"}
    )

    assert Song.objects.get().audio_original_name == "=evil.wav"
    rows = exported.content.decode().splitlines()
    assert rows[0].endswith(",audio_original_name")
    assert rows[1].endswith(",'=evil.wav")  # escaped like every exported cell
