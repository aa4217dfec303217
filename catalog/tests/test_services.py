"""Failures after a file was already stored: the files go, the rows stay as they were."""

from pathlib import Path

import pytest

from catalog import services
from catalog.models import Album, Song
from tests.media_samples import audio_bytes, media_path, png_bytes, stored_files, upload, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked_images(settings) -> Path:
    """A file where the song images folder should be: storing a song image fails with an
    FileExistsError after the audio (saved first) is already on disk."""
    blocker = Path(settings.MEDIA_ROOT) / "song_images"
    blocker.write_bytes(b"")
    return blocker


def test_a_failed_create_removes_the_audio_it_had_stored(settings, blocked_images):
    with pytest.raises(FileExistsError):
        services.song_create(
            title="T",
            artist="A",
            audio_file=upload("a.wav", wav_bytes()),
            image_file=upload("a.png", png_bytes()),
        )

    assert not Song.objects.exists()
    assert stored_files(settings) == [blocked_images]


def test_a_failed_update_keeps_the_old_files_and_removes_the_new_one(
    make_song, settings, django_capture_on_commit_callbacks
):
    song = make_song()
    old_audio = song.audio.name
    blocker = Path(settings.MEDIA_ROOT) / "song_images"
    blocker.write_bytes(b"")  # after the song was made: its own image folder is not needed

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(FileExistsError):
        services.song_update(
            song_id=song.pk,
            title="Changed",
            audio_file=upload("b.mp3", audio_bytes("tone.mp3")),
            image_file=upload("b.png", png_bytes()),
        )

    song.refresh_from_db()
    assert (song.title, song.audio.name) == ("Moment's Notice", old_audio)
    assert stored_files(settings) == sorted([blocker, media_path(settings, old_audio)])


def test_a_failed_album_create_removes_nothing_it_did_not_store(settings):
    album_images = Path(settings.MEDIA_ROOT) / "album_images"
    album_images.write_bytes(b"")

    with pytest.raises(FileExistsError):
        services.album_create(title="T", artist="A", image_file=upload("c.png", png_bytes()))

    assert not Album.objects.exists()
    assert stored_files(settings) == [album_images]
