"""Every write to the catalog, with the files that go with it.

Uploads are verified before anything is stored; a failure after a file was stored removes
it (`files_removed_on_failure`); a file that was replaced or whose row was deleted goes
once the transaction has committed (`delete_after_commit`).
"""

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from catalog.models import Album, Play, Song
from catalog.selectors import ALBUM_NOT_FOUND, SONG_NOT_FOUND
from core.errors import NotFoundError
from core.files import delete_after_commit, files_removed_on_failure, verify_audio, verify_image
from users.models import User


def _album_for_song(album_id: int | None) -> Album | None:
    if album_id is None:
        return None
    album = Album.objects.filter(pk=album_id).first()
    if album is None:
        raise NotFoundError(ALBUM_NOT_FOUND)  # as an unknown receiver of a message is
    return album


def song_create(
    *,
    title: str,
    artist: str,
    audio_file: UploadedFile,
    album_id: int | None = None,
    image_file: UploadedFile | None = None,
) -> Song:
    """A new song; its duration is read from the audio, whatever the client said."""
    audio = verify_audio(audio_file, field="audio_file")
    if image_file is not None:
        verify_image(image_file, field="image_file")
    song = Song(
        title=title,
        artist=artist,
        album=_album_for_song(album_id),
        duration=audio.duration,
        audio=audio.upload,
        image=image_file,
    )
    with files_removed_on_failure(song, "audio", "image"), transaction.atomic():
        song.save()
    return song


def song_update(
    *,
    song_id: int,
    changes: dict[str, Any],
    audio_file: UploadedFile | None = None,
    image_file: UploadedFile | None = None,
) -> Song:
    """Apply `changes` (title, artist, album_id) and replace the files that were sent."""
    audio = verify_audio(audio_file, field="audio_file") if audio_file is not None else None
    if image_file is not None:
        verify_image(image_file, field="image_file")
    song = Song.objects.select_related("album").filter(pk=song_id).first()
    if song is None:
        raise NotFoundError(SONG_NOT_FOUND)
    if "album_id" in changes:
        song.album = _album_for_song(changes["album_id"])
    for field in ("title", "artist"):
        if changes.get(field) is not None:
            setattr(song, field, changes[field])
    if audio is not None:
        song.audio, song.duration = audio.upload, audio.duration
    if image_file is not None:
        song.image = image_file
    with files_removed_on_failure(song, "audio", "image"), transaction.atomic():
        # Read the stored names under a lock: two replacements at once each delete the
        # file they really replaced.
        stored = Song.objects.select_for_update().only("audio", "image").filter(pk=song.pk).first()
        if stored is None:  # deleted meanwhile
            raise NotFoundError(SONG_NOT_FOUND)
        song.save()
        if audio is not None:
            delete_after_commit(stored.audio.name)
        if image_file is not None:
            delete_after_commit(stored.image.name)
    return song


@transaction.atomic
def song_delete(*, song_id: int) -> None:
    song = Song.objects.select_for_update().filter(pk=song_id).first()
    if song is None:
        raise NotFoundError(SONG_NOT_FOUND)
    song.delete()
    delete_after_commit(song.audio.name)
    delete_after_commit(song.image.name)


def album_create(
    *,
    title: str,
    artist: str,
    release_year: int | None = None,
    image_file: UploadedFile | None = None,
) -> Album:
    if image_file is not None:
        verify_image(image_file, field="image_file")
    album = Album(title=title, artist=artist, release_year=release_year, image=image_file)
    with files_removed_on_failure(album, "image"), transaction.atomic():
        album.save()
    album.song_count = 0
    return album


def album_update(
    *, album_id: int, changes: dict[str, Any], image_file: UploadedFile | None = None
) -> Album:
    """Apply `changes` (title, artist, release_year) and replace the image if one was sent."""
    if image_file is not None:
        verify_image(image_file, field="image_file")
    album = Album.objects.filter(pk=album_id).first()
    if album is None:
        raise NotFoundError(ALBUM_NOT_FOUND)
    for field in ("title", "artist"):
        if changes.get(field) is not None:
            setattr(album, field, changes[field])
    if "release_year" in changes:
        album.release_year = changes["release_year"]
    if image_file is not None:
        album.image = image_file
    with files_removed_on_failure(album, "image"), transaction.atomic():
        stored = Album.objects.select_for_update().only("image").filter(pk=album.pk).first()
        if stored is None:  # deleted meanwhile
            raise NotFoundError(ALBUM_NOT_FOUND)
        album.save()
        if image_file is not None:
            delete_after_commit(stored.image.name)
    return album


@transaction.atomic
def album_delete(*, album_id: int) -> None:
    """Delete the album, its songs (and their plays) and every file they had."""
    album = Album.objects.select_for_update().filter(pk=album_id).first()
    if album is None:
        raise NotFoundError(ALBUM_NOT_FOUND)
    names = [album.image.name]
    for audio, image in album.songs.values_list("audio", "image"):
        names += [audio, image]
    album.delete()
    for name in names:
        delete_after_commit(name)


def play_record(*, song_id: int, user: User) -> Play:
    if not Song.objects.filter(pk=song_id).exists():
        raise NotFoundError(SONG_NOT_FOUND)
    try:
        with transaction.atomic():
            return Play.objects.create(song_id=song_id, user=user)
    except IntegrityError as error:  # the song was deleted a moment ago
        raise NotFoundError(SONG_NOT_FOUND) from error
