"""Every write to the catalog, with the files that go with it.

The API and the admin's forms write through here. The admin's CSV import
(catalog/resources.py) does not: django-import-export saves its rows, after the same checks
(`verify_stored_audio` for the named file, `artist_named` for the artist); it stores no
upload. Uploads are verified before anything is stored; a save stores, replaces and cleans up
files as `save_with_files` says; a deleted row's files go once the transaction has committed
(`delete_after_commit`), and a file the storage cannot remove then (the bucket is away) is
left to `cleanup_media`: a committed delete never reports failure.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TypeVar
from uuid import uuid4

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.audio import verify_audio
from catalog.lyrics import ParsedLyrics, decode_lyrics, parse_lyrics
from catalog.models import (
    Album,
    Artist,
    Lyrics,
    LyricsSource,
    Play,
    ProcessingState,
    Song,
    artist_key,
)
from catalog.renditions import PIPELINE_FILE_FIELDS, RENDITIONS, SONG_FILE_FIELDS, StreamFormat
from catalog.search import genre_is
from catalog.selectors.albums import ALBUM_NOT_FOUND
from catalog.selectors.artists import ARTIST_NOT_FOUND
from catalog.selectors.lyrics import NO_LYRICS
from catalog.selectors.songs import SONG_NOT_FOUND
from catalog.signals import album_tracks_changed, audio_changed, plays_recorded
from core.errors import Conflict, Invalid, NotFound
from core.files.images import verify_image
from core.files.storage import delete_after_commit, save_with_files
from core.queries import get_or_not_found
from core.updates import UNSET, Unset, model_update
from users.models import User

logger = logging.getLogger(__name__)


def artist_named(name: str) -> Artist:
    """The artist called `name` ignoring case and accents; a new one when there is none."""
    # get_or_create retries the read when a concurrent write created the same artist.
    artist, _ = Artist.objects.get_or_create(name_key=artist_key(name), defaults={"name": name})
    return artist


def _credit(name: str | Unset) -> dict[str, Artist | str | Unset]:
    """The fields that credit a song or album to `name`: its artist and the name as given."""
    if name is UNSET:
        return {"artist": UNSET, "artist_name": UNSET}
    return {"artist": artist_named(name), "artist_name": name}


def genre_spelling(genre: str | None, *, other_than: Song | Album | None = None) -> str | None:
    """`genre` as the catalog already spells it, ignoring case ("jazz" once a song or album
    has "Jazz"), else as given; None stays None. The row being changed (`other_than`) does
    not count, so a genre only it has can be respelled."""
    if genre is None:
        return None
    return existing_genre_spelling(genre, other_than=other_than) or genre


def existing_genre_spelling(genre: str, *, other_than: Song | Album | None = None) -> str | None:
    """The catalog's spelling of `genre` ignoring case (`other_than` aside); None when no song
    or album has it. One query on the songs' genre index, a second on the albums' only for a
    genre no song has."""
    for model in (Song, Album):
        rows = model.objects.filter(genre_is(genre))
        if isinstance(other_than, model) and other_than.pk is not None:
            rows = rows.exclude(pk=other_than.pk)
        spelled = rows.order_by().values_list("genre", flat=True)[:1]
        for existing in spelled:
            return existing
    return None


def _genre(genre: str | Unset | None, row: Song | Album) -> str | Unset | None:
    return genre if genre is UNSET else genre_spelling(genre, other_than=row)


def _album_for_song(album_id: int | None) -> Album | None:
    if album_id is None:
        return None
    # A 404 about the album in the body, as an unknown receiver of a message is.
    return get_or_not_found(Album.objects.all(), ALBUM_NOT_FOUND, pk=album_id)


ImageT = TypeVar("ImageT", UploadedFile | None, UploadedFile | Unset | None)


def _verified_image(image_file: ImageT) -> ImageT:
    """`image_file` once it passed the image checks (a new upload, that is)."""
    if isinstance(image_file, UploadedFile):
        verify_image(image_file, field="image_file")
    return image_file


def _save_existing(row: Song | Album | Artist, not_found: str) -> None:
    try:
        save_with_files(row)
    except type(row).DoesNotExist:  # deleted since it was read
        raise NotFound(not_found) from None


def song_create(
    *,
    title: str,
    artist: str,
    audio_file: UploadedFile,
    album_id: int | None = None,
    genre: str | None = None,
    year: int | None = None,
    track_number: int | None = None,
    disc_number: int | None = None,
    image_file: UploadedFile | None = None,
) -> Song:
    """A new song; its duration is read from the audio, whatever the client said."""
    audio = verify_audio(audio_file, field="audio_file")
    image_file = _verified_image(image_file)
    song = Song(
        title=title,
        **_credit(artist),
        album=_album_for_song(album_id),
        genre=genre_spelling(genre),
        year=year,
        track_number=track_number,
        disc_number=disc_number,
        duration=audio.duration,
        audio=audio.upload,
        image=image_file,
    )
    with transaction.atomic():
        save_with_files(song)
        if audio.lyrics is not None:  # a new song has no lyrics to keep or drop
            _keep_embedded_lyrics(song.pk, audio.lyrics)
        audio_changed.send(sender=Song, song_id=song.pk)
        if song.album_id is not None:
            album_tracks_changed.send(sender=Song, album_ids={song.album_id})
    return song


def song_update(
    *,
    song_id: int,
    title: str | Unset = UNSET,
    artist: str | Unset = UNSET,
    album_id: int | Unset | None = UNSET,
    genre: str | Unset | None = UNSET,
    year: int | Unset | None = UNSET,
    track_number: int | Unset | None = UNSET,
    disc_number: int | Unset | None = UNSET,
    audio_file: UploadedFile | None = None,
    image_file: UploadedFile | Unset | None = UNSET,
) -> Song:
    """Change the fields given and replace the files sent (the old ones go after commit).

    `image_file=None` removes the image; UNSET (or leaving it out) keeps it."""
    audio = verify_audio(audio_file, field="audio_file") if audio_file is not None else None
    image_file = _verified_image(image_file)
    song = get_or_not_found(Song.objects.select_related("album"), SONG_NOT_FOUND, pk=song_id)
    album = UNSET if album_id is UNSET else _album_for_song(album_id)
    data = {
        "title": title,
        **_credit(artist),
        "album": album,
        "genre": _genre(genre, song),
        "year": year,
        "track_number": track_number,
        "disc_number": disc_number,
        "image": image_file,
    }
    album_before = song.album_id
    model_update(instance=song, data=data)
    if audio is not None:
        song.audio, song.duration = audio.upload, audio.duration
        _forget_pipeline_outputs(song)
    with transaction.atomic():
        _save_existing(song, SONG_NOT_FOUND)
        if audio is not None:
            _keep_embedded_lyrics(song.pk, audio.lyrics)
            audio_changed.send(sender=Song, song_id=song.pk)
        albums_changed = {album_before, song.album_id} - {None}
        if albums_changed and (audio is not None or album_before != song.album_id):
            album_tracks_changed.send(sender=Song, album_ids=albums_changed)
    return song


def _forget_pipeline_outputs(song: Song) -> None:
    """A replaced audio file: what the pipeline made of the old one goes (its files after
    commit, by save_with_files) and the song waits for the pipeline again."""
    for field_name in PIPELINE_FILE_FIELDS:
        setattr(song, field_name, "")
    song.loudness = song.true_peak = None
    song.processing_state = ProcessingState.PENDING
    song.processing_error = song.processed_audio = ""


@transaction.atomic
def song_delete(*, song_id: int) -> None:
    song = get_or_not_found(Song.objects.select_for_update(), SONG_NOT_FOUND, pk=song_id)
    song.delete()
    delete_after_commit(*(getattr(song, name).name for name in SONG_FILE_FIELDS))
    if song.album_id is not None:
        album_tracks_changed.send(sender=Song, album_ids={song.album_id})


@dataclass(frozen=True)
class PipelineOutputs:
    """What the media pipeline made of one audio file of a song (processing/)."""

    made_from: str  # the song's `audio` name these were made from
    renditions: Mapping[StreamFormat, File]  # each a complete file, by format
    waveform: File  # audiowaveform JSON
    loudness: float  # LUFS
    true_peak: float  # dBTP


def song_outputs_store(*, song_id: int, outputs: PipelineOutputs) -> bool:
    """Store what the pipeline made and mark the song ready, replacing earlier outputs (their
    files go after commit). Nothing is stored, and False answered, when the song is gone or
    its audio was replaced since the work began: that work is stale, the new audio's own job
    follows. Running it twice leaves one set of files and the same row."""
    with transaction.atomic():
        song = Song.objects.select_for_update().filter(pk=song_id).first()
        if song is None or song.audio.name != outputs.made_from:
            return False
        for rendition in RENDITIONS:
            content = outputs.renditions.get(rendition.format)
            if content is not None:
                content.name = f"{uuid4().hex}.{rendition.suffix}"
            setattr(song, rendition.field_name, content or "")
        outputs.waveform.name = f"{uuid4().hex}.json"
        song.waveform_file = outputs.waveform
        song.loudness, song.true_peak = outputs.loudness, outputs.true_peak
        song.processing_state = ProcessingState.READY
        song.processing_error = ""
        song.processed_audio = outputs.made_from
        save_with_files(song)
    return True


def song_processing_failed(*, song_id: int, made_from: str, reason: str) -> bool:
    """Record why the pipeline gave up on the song's audio `made_from` (False when that is
    no longer the song's audio: nothing to record)."""
    updated = Song.objects.filter(pk=song_id, audio=made_from).update(
        processing_state=ProcessingState.FAILED, processing_error=reason
    )
    return updated > 0


def songs_process_again(*, song_ids: Sequence[int]) -> int:
    """Ask the pipeline to make everything again for these songs (the admin's action): each
    is pending again and announced as new audio, in one transaction. Outputs already made keep
    being served until the new ones replace them. Answers how many songs exist of those."""
    with transaction.atomic():
        found = list(
            Song.objects.select_for_update().filter(pk__in=song_ids).values_list("pk", flat=True)
        )
        Song.objects.filter(pk__in=found).update(
            processing_state=ProcessingState.PENDING, processing_error=""
        )
        for song_id in found:
            audio_changed.send(sender=Song, song_id=song_id)
    return len(found)


def album_loudness_store(*, album_id: int, loudness: float | None, true_peak: float | None):
    """The album's loudness over its tracks as one programme (None: nothing measured, an
    album without songs); a deleted album is left alone."""
    Album.objects.filter(pk=album_id).update(loudness=loudness, true_peak=true_peak)


def album_create(
    *,
    title: str,
    artist: str,
    release_year: int | None = None,
    genre: str | None = None,
    image_file: UploadedFile | None = None,
) -> Album:
    image_file = _verified_image(image_file)
    album = Album(
        title=title,
        **_credit(artist),
        release_year=release_year,
        genre=genre_spelling(genre),
        image=image_file,
    )
    save_with_files(album)
    return album


def album_update(
    *,
    album_id: int,
    title: str | Unset = UNSET,
    artist: str | Unset = UNSET,
    release_year: int | Unset | None = UNSET,
    genre: str | Unset | None = UNSET,
    image_file: UploadedFile | Unset | None = UNSET,
) -> Album:
    """Change the fields given; `image_file` replaces the image, None removes it."""
    image_file = _verified_image(image_file)
    album = get_or_not_found(Album.objects.all(), ALBUM_NOT_FOUND, pk=album_id)
    data = {
        "title": title,
        **_credit(artist),
        "release_year": release_year,
        "genre": _genre(genre, album),
        "image": image_file,
    }
    model_update(instance=album, data=data)
    _save_existing(album, ALBUM_NOT_FOUND)
    return album


@transaction.atomic
def album_delete(*, album_id: int) -> None:
    """Delete the album, its songs (and their plays) and every file they had."""
    album = get_or_not_found(Album.objects.select_for_update(), ALBUM_NOT_FOUND, pk=album_id)
    names = [album.image.name]
    for song_files in album.songs.values_list(*SONG_FILE_FIELDS):
        names += song_files
    album.delete()
    delete_after_commit(*names)


@transaction.atomic
def play_record(*, song_id: int, user: User, played_at: datetime | None = None) -> Play:
    """The listener started the song, now or at `played_at` (a player that reports later
    what it played offline); a time in the future is taken as now (the player's clock).
    `plays_recorded` announces it in this transaction (scrobbling queues its submission)."""
    play = _play_create(song_id=song_id, user=user, played_at=played_at)
    plays_recorded.send(sender=Play, user_id=user.pk, play_ids=[play.pk])
    return play


def _play_create(*, song_id: int, user: User, played_at: datetime | None) -> Play:
    if not Song.objects.filter(pk=song_id).exists():
        raise NotFound(SONG_NOT_FOUND)
    now = timezone.now()
    played_at = now if played_at is None else min(played_at, now)
    try:
        with transaction.atomic():
            return Play.objects.create(song_id=song_id, user=user, played_at=played_at)
    except IntegrityError as error:  # the song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error


@transaction.atomic
def plays_record(*, user: User, plays: Sequence[tuple[int, datetime | None]]) -> list[Play]:
    """Several plays at once, each (song id, played_at or None) as `play_record` takes it:
    all of them, or none when one song does not exist; announced once, all together."""
    recorded = [
        _play_create(song_id=song_id, user=user, played_at=played_at)
        for song_id, played_at in plays
    ]
    if recorded:
        plays_recorded.send(sender=Play, user_id=user.pk, play_ids=[play.pk for play in recorded])
    return recorded


# --- Artists (written in the admin; the API finds or creates them by name) ---------------

ARTIST_NAME_TAKEN = "Another artist has this name (ignoring case and accents): merge them."


def artist_name_taken(name: str, *, other_than: int | None = None) -> bool:
    return Artist.objects.filter(name_key=artist_key(name)).exclude(pk=other_than).exists()


def artist_create(*, name: str, image_file: UploadedFile | None = None) -> Artist:
    image_file = _verified_image(image_file)
    if artist_name_taken(name):
        raise Conflict(ARTIST_NAME_TAKEN)
    artist = Artist(name=name, image=image_file)
    try:
        save_with_files(artist)
    except IntegrityError as error:  # created by someone else meanwhile
        raise Conflict(ARTIST_NAME_TAKEN) from error
    return artist


def artist_update(
    *,
    artist_id: int,
    name: str | Unset = UNSET,
    image_file: UploadedFile | Unset | None = UNSET,
) -> Artist:
    """Rename the artist or change their image. Songs and albums that credited the artist by
    their exact old name credit the new one; other credits ("X feat. Y") stay as written."""
    image_file = _verified_image(image_file)
    if name is not UNSET and artist_name_taken(name, other_than=artist_id):
        raise Conflict(ARTIST_NAME_TAKEN)
    with transaction.atomic():
        artist = get_or_not_found(
            Artist.objects.select_for_update(), ARTIST_NOT_FOUND, pk=artist_id
        )
        old_name = artist.name
        model_update(instance=artist, data={"name": name, "image": image_file})
        try:
            _save_existing(artist, ARTIST_NOT_FOUND)
        except IntegrityError as error:
            raise Conflict(ARTIST_NAME_TAKEN) from error
        if artist.name != old_name:
            for model in (Song, Album):
                model.objects.filter(artist=artist, artist_name=old_name).update(
                    artist_name=artist.name
                )
    return artist


@transaction.atomic
def artist_delete(*, artist_id: int) -> None:
    """Delete an artist nothing credits (songs and albums protect theirs: merge instead)."""
    artist = get_or_not_found(Artist.objects.select_for_update(), ARTIST_NOT_FOUND, pk=artist_id)
    artist.delete()
    delete_after_commit(artist.image.name)


@transaction.atomic
def artists_merge(*, artist_ids: list[int]) -> Artist:
    """Merge duplicates into the one of `artist_ids` with the most songs (then albums, then
    the oldest): the others' songs and albums move to it, in one transaction, and the others
    go. Credits that were exactly a merged artist's name become the kept artist's name; the
    kept artist takes a merged one's image when it has none."""
    artists = list(Artist.objects.select_for_update().filter(pk__in=artist_ids).order_by("pk"))
    if not artists:
        raise NotFound(ARTIST_NOT_FOUND)
    counts = {artist.pk: (artist.songs.count(), artist.albums.count()) for artist in artists}
    kept = max(artists, key=lambda artist: (*counts[artist.pk], -artist.pk))
    merged = [artist for artist in artists if artist.pk != kept.pk]
    for artist in merged:
        for model in (Song, Album):
            model.objects.filter(artist=artist, artist_name=artist.name).update(
                artist_name=kept.name
            )
            model.objects.filter(artist=artist).update(artist=kept)
        if not kept.image and artist.image:
            kept.image, artist.image = artist.image, None
            kept.image_original_name = artist.image_original_name
            kept.save(update_fields=["image", "image_original_name", "updated_at"])
        artist.delete()
        delete_after_commit(artist.image.name if artist.image else None)
    return kept


# --- lyrics -------------------------------------------------------------------------------


# Lyrics that came with an audio file: they go when another file replaces it.
FILE_LYRICS_SOURCES = (LyricsSource.TAGS, LyricsSource.FOLDER)


def _keep_embedded_lyrics(song_id: int, text: str | None) -> None:
    """The lyrics a new audio file carries become the song's, unless an admin gave some
    (theirs stay); those an earlier file carried go with it. Lyrics that do not parse are
    left out, never refusing the audio."""
    if text is None:  # one statement: the admin's stay
        Lyrics.objects.filter(song_id=song_id, source__in=FILE_LYRICS_SOURCES).delete()
        return
    if Lyrics.objects.filter(song_id=song_id, source=LyricsSource.UPLOAD).exists():
        return
    try:
        parsed = parse_lyrics(text)
    except Invalid:
        logger.info("The lyrics in the tags of song %s do not parse; left out", song_id)
        return
    lyrics_store(song_id=song_id, parsed=parsed, source=LyricsSource.TAGS)


def lyrics_store(*, song_id: int, parsed: ParsedLyrics, source: LyricsSource) -> Lyrics:
    """Keep `parsed` as the song's lyrics, replacing any."""
    lyrics, _ = Lyrics.objects.update_or_create(
        song_id=song_id,
        defaults={
            "synced": parsed.synced,
            "lang": parsed.lang or "",
            "offset_ms": parsed.offset_ms,
            "lines": [asdict(line) for line in parsed.lines],
            "source": source,
        },
    )
    return lyrics


@transaction.atomic
def lyrics_from_folder(*, song_id: int, data: bytes) -> bool:
    """The lyrics of the .lrc file beside an imported audio file become the song's, ahead of
    its tags' (as Navidrome reads them), unless an admin gave some. True when they changed;
    False when they are the stored ones or an admin's stay. Invalid when they do not parse
    (nothing written)."""
    parsed = parse_lyrics(decode_lyrics(data))
    stored = Lyrics.objects.select_for_update().filter(song_id=song_id).first()
    if stored is not None and (
        stored.source == LyricsSource.UPLOAD
        or (stored.source == LyricsSource.FOLDER and _same_lyrics(stored, parsed))
    ):
        return False
    lyrics_store(song_id=song_id, parsed=parsed, source=LyricsSource.FOLDER)
    return True


def _same_lyrics(stored: Lyrics, parsed: ParsedLyrics) -> bool:
    return (stored.synced, stored.lang, stored.offset_ms, stored.lines) == (
        parsed.synced,
        parsed.lang or "",
        parsed.offset_ms,
        [asdict(line) for line in parsed.lines],
    )


@transaction.atomic
def lyrics_set(*, song_id: int, data: bytes | None = None, text: str | None = None) -> Lyrics:
    """The song's lyrics from an uploaded file's bytes or from text (an .lrc's, or plain),
    replacing any. The song is checked first; lyrics that do not parse (Invalid) write
    nothing."""
    get_or_not_found(Song.objects.select_for_update(), SONG_NOT_FOUND, pk=song_id)
    parsed = parse_lyrics(decode_lyrics(data) if data is not None else text or "")
    return lyrics_store(song_id=song_id, parsed=parsed, source=LyricsSource.UPLOAD)


def lyrics_delete(*, song_id: int) -> None:
    get_or_not_found(Song.objects.all(), SONG_NOT_FOUND, pk=song_id)
    if not Lyrics.objects.filter(song_id=song_id).delete()[0]:
        raise NotFound(NO_LYRICS)
