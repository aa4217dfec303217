"""Bring a music folder into the catalog (`manage.py import_music PATH`; the admin's folder
import, catalog/storage_import.py, brings a folder of the storage through the same per-file
import, `import_source`).

Each audio file becomes a song through the catalog's services (`song_create`, `song_update`,
`album_create`), so it is verified by its bytes as an upload is, stored in the same storage,
and announced to the media pipeline (`audio_changed`) in the same transaction.

- Idempotent: every imported file leaves an `ImportedFile` (path, size, mtime, SHA-256; the
  path of a file in the storage is "storage:<name>", see `STORED_PATH_PREFIX`). A
  file whose size and mtime are unchanged is skipped unread; one touched but with the same
  content is skipped after hashing; one with new content replaces its song's audio (and the
  fields its tags give) through `song_update`, so the pipeline processes it again. A file
  found at a new path with the content of an imported file whose path is gone is a move: the
  record follows it. The same content at a second path that still exists is a duplicate,
  skipped.
- Resumable: each file is one transaction (album, song and record together), and the files a
  failed or interrupted transaction stored are removed again, so an interrupted run leaves
  no half-made song; the next run skips what was done. (A process killed outright can leave
  a stored file no row names: `cleanup_media` lists those.)
- Bounded memory: the folder is walked as a stream (one directory's names at a time, sorted
  so that runs are repeatable), files are hashed and stored a chunk at a time, and nothing is
  kept per file but counters; each file's outcome goes to `on_result` as it happens.

Tags: title, artist, album, album artist, track and disc number ("3/12" too), year (from a
date), genre and the embedded front cover (ID3 APIC, FLAC pictures, MP4 covr, Vorbis
METADATA_BLOCK_PICTURE), and the lyrics: an `.lrc` file beside the audio with the same name
(`song.lrc` for `song.mp3`) before those in the tags (ID3 SYLT/USLT, Vorbis LYRICS, MP4
\xa9lyr), as Navidrome reads them; an admin's lyrics stay. An `.lrc` met on its own in the walk
updates the lyrics of its imported audio file (a changed `.lrc` beside an unchanged file).
A missing title falls back to the file name, a missing artist to
UNKNOWN_ARTIST; a file without an album tag is a single. The album is found by album artist
(ignoring case and accents) and exact title, as the CSV import finds it; the album artist
falls back to the artist. ReplayGain tags are ignored: the pipeline measures every song's and
album's loudness itself (EBU R128), one measure for the whole catalog.
"""

import base64
import binascii
import enum
import gc
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, transaction
from mutagen import File as MutagenFile
from mutagen import MutagenError
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Cover, MP4Tags

from catalog.lyrics import MAX_LYRICS_BYTES
from catalog.models import (
    GENRE_MAX_LENGTH,
    POSITION_MAX,
    YEAR_MAX,
    YEAR_MIN,
    Album,
    ImportedFile,
    artist_key,
)
from catalog.services import (
    album_create,
    album_update,
    lyrics_from_folder,
    song_create,
    song_update,
)
from core.errors import Invalid, TooLarge
from core.files.content_types import AUDIO_CONTENT_TYPES
from core.files.images import verify_image
from core.files.storage import remove_files
from core.files.uploads import file_too_large_message
from core.text import clean_text

UNKNOWN_ARTIST = "Unknown Artist"
UNTITLED = "Untitled"  # a file name that is no title either (control characters only)
TEXT_MAX_LENGTH = 200  # titles and artist names (the catalog's columns)
_HASH_CHUNK = 1024 * 1024
# Each file leaves reference cycles (a model and its FieldFiles, mutagen's RIFF chunks) that
# Python's collector would let pile up to megabytes between its full collections: collected
# every so many files, the memory of a run stays that of a few hundred files.
COLLECT_EVERY = 256
# Files whose records are read in one query: a second run costs a query per batch, not per
# file, and holds one batch of paths and records at a time.
LOOKUP_BATCH = 256
# The picture type of a front cover (ID3 APIC and FLAC/Vorbis pictures alike).
_FRONT_COVER = 3


class Outcome(enum.StrEnum):
    ADDED = "added"
    UPDATED = "updated"  # new content: the song's audio replaced
    LYRICS = "lyrics updated"  # an .lrc whose lyrics became those of its audio file's song
    UNCHANGED = "unchanged"
    MOVED = "moved"  # an imported file found at a new path
    DUPLICATE = "duplicate"  # the content of another imported file that is still there
    NOT_AUDIO = "not audio"
    TOO_LARGE = "too large"  # over AUDIO_MAX_BYTES, the uploads' limit
    FAILED = "failed"  # could not be read or stored


# The outcomes that are worth a line of their own in a report.
REPORTED = {
    Outcome.NOT_AUDIO,
    Outcome.TOO_LARGE,
    Outcome.DUPLICATE,
    Outcome.FAILED,
    Outcome.MOVED,
}


@dataclass(frozen=True)
class FileResult:
    path: str
    outcome: Outcome
    reason: str = ""
    notes: tuple[str, ...] = ()  # what was taken otherwise than the tags say
    song_id: int | None = None


@dataclass
class ImportSummary:
    counts: Counter[Outcome] = field(default_factory=Counter)

    @property
    def files(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        parts = ", ".join(f"{self.counts[outcome]} {outcome.value}" for outcome in Outcome)
        return f"{self.files} files: {parts}."


@dataclass(frozen=True)
class Tags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    track_number: int | None = None
    disc_number: int | None = None
    year: int | None = None
    genre: str | None = None
    cover: bytes | None = None
    notes: tuple[str, ...] = ()


# --- Sources -------------------------------------------------------------------------------

# The recorded path of a file of the storage: this prefix, then its stored name.
STORED_PATH_PREFIX = "storage:"


class SourceFile(Protocol):
    """A file to import, wherever it lives: a local path, or a name in the storage."""

    @property
    def path(self) -> str:
        """What its `ImportedFile` records and the reports show."""
        ...

    @property
    def name(self) -> str:
        """Its own name (the title when the tags have none)."""
        ...

    def stat(self) -> tuple[int, int]:
        """(size in bytes, modification time in ns); OSError when it cannot be read."""
        ...

    def open(self) -> AbstractContextManager[IO[bytes]]:
        """Its bytes as a seekable local file whose `name` is a path mutagen can open."""
        ...

    def sibling(self, name: str) -> "SourceFile":
        """The file called `name` in the same folder (which may not exist)."""
        ...

    def read_at_most(self, limit: int) -> bytes | None:
        """Its first `limit` bytes; None when it does not exist."""
        ...


@dataclass(frozen=True)
class LocalFile:
    path: str

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def stat(self) -> tuple[int, int]:
        stat = os.stat(self.path)
        return stat.st_size, stat.st_mtime_ns

    def open(self) -> AbstractContextManager[IO[bytes]]:
        return open(self.path, "rb")

    def sibling(self, name: str) -> "LocalFile":
        return LocalFile(os.path.join(os.path.dirname(self.path), name))

    def read_at_most(self, limit: int) -> bytes | None:
        try:
            with open(self.path, "rb") as handle:
                return handle.read(limit)
        except FileNotFoundError:
            return None


def still_there(path: str) -> bool:
    """Whether the file an `ImportedFile` names still exists (a local path or a stored name)."""
    if path.startswith(STORED_PATH_PREFIX):
        return default_storage.exists(path.removeprefix(STORED_PATH_PREFIX))
    return os.path.exists(path)


# --- Walking -------------------------------------------------------------------------------


def iter_files(root: str | Path) -> Iterator[str]:
    """The path of every regular file under `root`, depth first, each directory's entries by
    name.

    Only one directory's names are held per level; symbolic links to directories are not
    followed (no loops), links to files are. Paths are plain strings: pathlib (before Python
    3.12) interns every part of every path it parses."""
    with os.scandir(root) as listing:
        entries = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing)
    for name, is_dir in entries:
        path = os.path.join(root, name)
        if is_dir:
            yield from iter_files(path)
        elif os.path.isfile(path):
            yield path


def count_files(root: str | Path) -> int:
    """How many files `iter_files` will yield (for a progress bar), streamed."""
    total = 0
    for _ in iter_files(root):
        total += 1
    return total


# --- Tags ----------------------------------------------------------------------------------


def read_tags(path: str | Path) -> Tags:
    """The tags of the audio file at `path`; empty Tags (with a note) when they cannot be
    read. The format was told by verification, not here: mutagen only reads what is there."""
    try:
        audio = MutagenFile(path)
    except (MutagenError, OSError, ValueError, EOFError, IndexError) as error:
        return Tags(notes=(f"tags unreadable ({type(error).__name__})",))
    tags = getattr(audio, "tags", None) if audio is not None else None
    if tags is None and not getattr(audio, "pictures", None):
        return Tags(notes=("no tags",))
    notes: list[str] = []
    if isinstance(tags, ID3):
        raw = _id3_values(tags)
        cover = _id3_cover(tags)
    elif isinstance(tags, MP4Tags):
        raw = _mp4_values(tags)
        cover = _mp4_cover(tags)
    else:  # Vorbis comments: FLAC, Ogg Vorbis, Opus
        raw = _vorbis_values(tags) if tags is not None else {}
        cover = _picture_cover(getattr(audio, "pictures", None) or _vorbis_pictures(tags))
    return Tags(
        title=_text(raw.get("title"), "title", notes),
        artist=_text(raw.get("artist"), "artist", notes),
        album=_text(raw.get("album"), "album", notes),
        album_artist=_text(raw.get("album_artist"), "album artist", notes),
        track_number=_position(raw.get("track")),
        disc_number=_position(raw.get("disc")),
        year=_year(raw.get("date")),
        genre=_text(raw.get("genre"), "genre", notes, max_length=GENRE_MAX_LENGTH),
        cover=cover,
        notes=tuple(notes),
    )


def _first(values: Any) -> str | None:
    for value in values or ():
        text = str(value).strip()
        if text:
            return text
    return None


def _id3_values(tags: ID3) -> dict[str, str | None]:
    def frame(key: str) -> str | None:
        found = tags.get(key)
        return _first(found.text) if found is not None else None

    genre = tags.get("TCON")
    return {
        "title": frame("TIT2"),
        "artist": frame("TPE1"),
        "album": frame("TALB"),
        "album_artist": frame("TPE2"),
        "track": frame("TRCK"),
        "disc": frame("TPOS"),
        "date": frame("TDRC") or frame("TYER") or frame("TDOR"),
        "genre": _first(genre.genres) if genre is not None else None,
    }


def _id3_cover(tags: ID3) -> bytes | None:
    pictures = tags.getall("APIC")
    return _preferred_picture([(picture.type, picture.data) for picture in pictures])


def _mp4_values(tags: MP4Tags) -> dict[str, str | None]:
    def pair(key: str) -> str | None:
        values = tags.get(key)
        return str(values[0][0]) if values and values[0] and values[0][0] else None

    return {
        "title": _first(tags.get("\xa9nam")),
        "artist": _first(tags.get("\xa9ART")),
        "album": _first(tags.get("\xa9alb")),
        "album_artist": _first(tags.get("aART")),
        "track": pair("trkn"),
        "disc": pair("disk"),
        "date": _first(tags.get("\xa9day")),
        "genre": _first(tags.get("\xa9gen")),
    }


def _mp4_cover(tags: MP4Tags) -> bytes | None:
    covers: list[MP4Cover] = tags.get("covr") or []
    return bytes(covers[0]) if covers else None


def _vorbis_values(tags: Any) -> dict[str, str | None]:
    def value(*keys: str) -> str | None:
        for key in keys:
            found = _first(tags.get(key))  # Vorbis comment keys ignore case
            if found:
                return found
        return None

    return {
        "title": value("title"),
        "artist": value("artist"),
        "album": value("album"),
        "album_artist": value("albumartist", "album artist", "album_artist"),
        "track": value("tracknumber"),
        "disc": value("discnumber"),
        "date": value("date", "year", "originaldate"),
        "genre": value("genre"),
    }


def _vorbis_pictures(tags: Any) -> list[Picture]:
    pictures = []
    for encoded in (tags.get("metadata_block_picture") if tags is not None else None) or ():
        try:
            pictures.append(Picture(base64.b64decode(encoded)))
        except (binascii.Error, MutagenError, ValueError, TypeError):
            continue  # one broken picture does not lose the others
    return pictures


def _picture_cover(pictures: list[Picture]) -> bytes | None:
    return _preferred_picture([(picture.type, picture.data) for picture in pictures])


def _preferred_picture(pictures: list[tuple[int, bytes]]) -> bytes | None:
    """The front cover if there is one, else the first picture."""
    for picture_type, data in pictures:
        if picture_type == _FRONT_COVER and data:
            return data
    return next((data for _, data in pictures if data), None)


def _text(
    value: str | None, label: str, notes: list[str], *, max_length: int = TEXT_MAX_LENGTH
) -> str | None:
    """A tag's text as the API would take it (trimmed, cut to the column); None, with a note,
    when it breaks the API's text rule (control or invisible characters)."""
    if value is None:
        return None
    try:
        cleaned = clean_text(value, required=False)
    except ValueError as error:
        notes.append(f"{label} tag ignored: {error}")
        return None
    return cleaned[:max_length].rstrip() or None


def _leading_number(value: str | None) -> int | None:
    if not value:
        return None
    digits = ""
    for char in value.strip():
        if not char.isdigit() or not char.isascii():
            break
        digits += char
    return int(digits) if digits else None


def _position(value: str | None) -> int | None:
    """A track or disc number: "3", "03" and "3/12" are 3; out of 1-999 is none."""
    number = _leading_number(value)
    return number if number is not None and 1 <= number <= POSITION_MAX else None


def _year(value: str | None) -> int | None:
    """The year of a date tag ("1999", "1999-05-03", "1999-05-03T10:00"); out of range is none."""
    number = _leading_number(value[:4] if value else None)
    return number if number is not None and YEAR_MIN <= number <= YEAR_MAX else None


# --- Importing -----------------------------------------------------------------------------


def path_key(path: str) -> str:
    return hashlib.sha256(os.fsencode(path)).hexdigest()


def content_hash(fileobj: Any) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    while chunk := fileobj.read(_HASH_CHUNK):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


# Called inside each file's transaction once its song is saved (tests interrupt a run there).
BeforeCommit = Callable[[str], None]


def import_folder(
    root: Path,
    *,
    on_result: Callable[[FileResult], None] | None = None,
    before_commit: BeforeCommit | None = None,
) -> ImportSummary:
    """Import every file under `root` (see the module's docstring); answers the counts."""
    root = root.resolve()
    if not root.is_dir():
        raise NotADirectoryError(root)
    # Absolute paths: the records name files the same whatever folder the command ran in.
    summary = ImportSummary()
    number = 0
    for paths in _batches(iter_files(root), LOOKUP_BATCH):
        records = _records_of(paths)
        for path in paths:
            number += 1
            key = path_key(path)
            result = _import_source(LocalFile(path), key, records.get(key), before_commit)
            summary.counts[result.outcome] += 1
            if number % COLLECT_EVERY == 0:
                gc.collect()
            if on_result is not None:
                on_result(result)
    return summary


def _batches(paths: Iterator[str], size: int) -> Iterator[list[str]]:
    while batch := list(islice(paths, size)):
        yield batch


def _records_of(paths: list[str]) -> dict[str, ImportedFile]:
    """The records of these paths, by path key: one query for a batch of files."""
    keys = [path_key(path) for path in paths]
    return {record.path_key: record for record in ImportedFile.objects.filter(path_key__in=keys)}


def import_file(path: str, *, before_commit: BeforeCommit | None = None) -> FileResult:
    """Import one local file: added, updated, or skipped with the reason (see `Outcome`)."""
    return import_source(LocalFile(path), before_commit=before_commit)


def import_source(source: SourceFile, *, before_commit: BeforeCommit | None = None) -> FileResult:
    """Import one file of either kind: added, updated, or skipped with the reason."""
    key = path_key(source.path)
    record = ImportedFile.objects.filter(path_key=key).first()
    return _import_source(source, key, record, before_commit)


def _import_source(
    source: SourceFile, key: str, record: ImportedFile | None, before_commit: BeforeCommit | None
) -> FileResult:
    """`import_source` once the path's record (if any) was read."""
    path = source.path
    try:
        size, mtime_ns = source.stat()
        if record is not None and (record.size, record.mtime_ns) == (size, mtime_ns):
            return FileResult(path, Outcome.UNCHANGED, song_id=record.song_id)
        if size > settings.AUDIO_MAX_BYTES:  # refused unread (a stored file is not copied)
            limit = file_too_large_message(settings.AUDIO_MAX_BYTES)
            return FileResult(path, Outcome.TOO_LARGE, f"{limit} (AUDIO_MAX_BYTES)")
        if is_lyrics_file(source.name):
            return _import_lyrics_file(source)
        with source.open() as fileobj:
            digest = content_hash(fileobj)
            seen = (size, mtime_ns, digest)
            if record is not None and record.content_hash == digest:
                _remember(record, path, key, seen)  # touched, not changed
                return FileResult(path, Outcome.UNCHANGED, "same content", song_id=record.song_id)
            if record is None:
                skipped = _known_content(path, key, seen)
                if skipped is not None:
                    return skipped
            upload = UploadedFile(fileobj, name=source.name, size=size)
            return _import_audio(source, key, seen, upload, record, before_commit)
    except OSError as error:
        return FileResult(path, Outcome.FAILED, f"unreadable: {error.strerror or error}")


def _remember(record: ImportedFile, path: str, key: str, seen: tuple[int, int, str]) -> None:
    record.path, record.path_key = path, key
    record.size, record.mtime_ns, record.content_hash = seen
    record.save(
        update_fields=["path", "path_key", "size", "mtime_ns", "content_hash", "updated_at"]
    )


def _known_content(path: str, key: str, seen: tuple[int, int, str]) -> FileResult | None:
    """A file new at this path whose content was imported from another: moved there (that
    path is gone: the record follows the file) or a copy (skipped)."""
    digest, copy_of = seen[2], None
    # A list, not .iterator(): a content has a record or two, and on PostgreSQL an iterator is
    # a server-side cursor, three round trips and a statement psycopg caches under a new name.
    for other in list(ImportedFile.objects.filter(content_hash=digest).order_by("pk")):
        if still_there(other.path):
            copy_of = copy_of or other
            continue
        _remember(other, path, key, seen)
        return FileResult(path, Outcome.MOVED, f"was {other.path}", song_id=other.song_id)
    if copy_of is not None:
        return FileResult(
            path, Outcome.DUPLICATE, f"same content as {copy_of.path}", song_id=copy_of.song_id
        )
    return None


def _import_audio(
    source: SourceFile,
    key: str,
    seen: tuple[int, int, str],
    upload: UploadedFile,
    record: ImportedFile | None,
    before_commit: BeforeCommit | None,
) -> FileResult:
    path = source.path
    tags = read_tags(upload.file.name)  # the local file (a stored one's copy)
    notes = list(tags.notes)
    title = tags.title
    if title is None:
        name = source.name
        title = _text(os.path.splitext(name)[0] or name, "file name", notes) or UNTITLED
        notes.append("title from the file name")
    artist = tags.artist or UNKNOWN_ARTIST
    if tags.artist is None:
        notes.append(f"artist {UNKNOWN_ARTIST!r}")
    fields = {
        "title": title,
        "artist": artist,
        "genre": tags.genre,
        "year": tags.year,
        "track_number": tags.track_number,
        "disc_number": tags.disc_number,
    }
    stored: list[str] = []  # files this transaction stored: removed again if it fails
    try:
        with transaction.atomic():
            album = _album_for(tags, artist, stored, notes)
            album_id = album.pk if album is not None else None
            if record is None:
                song = song_create(audio_file=upload, album_id=album_id, **fields)
                stored.append(song.audio.name)
                ImportedFile.objects.create(
                    path=path,
                    path_key=key,
                    size=seen[0],
                    mtime_ns=seen[1],
                    content_hash=seen[2],
                    song=song,
                )
                outcome = Outcome.ADDED
            else:
                song = song_update(
                    song_id=record.song_id, audio_file=upload, album_id=album_id, **fields
                )
                stored.append(song.audio.name)
                _remember(record, path, key, seen)
                outcome = Outcome.UPDATED
            _lyrics_beside(source, song.pk, notes)
            if before_commit is not None:
                before_commit(path)
    except Invalid as error:
        remove_files([name for name in stored if name])
        return FileResult(path, Outcome.NOT_AUDIO, _message(error))
    except TooLarge as error:
        remove_files([name for name in stored if name])
        return FileResult(path, Outcome.TOO_LARGE, f"{_message(error)} (AUDIO_MAX_BYTES)")
    except IntegrityError:  # another run recorded this path meanwhile
        remove_files([name for name in stored if name])
        return FileResult(path, Outcome.UNCHANGED, "imported meanwhile by another run")
    except BaseException:
        # Interrupted (Ctrl-C) or failed: the rows rolled back, so must the files.
        remove_files([name for name in stored if name])
        raise
    return FileResult(path, outcome, notes=tuple(notes), song_id=song.pk)


def _message(error: Invalid | TooLarge) -> str:
    return str(error)


# --- Lyrics beside the audio ---------------------------------------------------------------

LYRICS_SUFFIX = ".lrc"
LYRICS_NOT_READ = "lyrics of {name} left out: {reason}"
LYRICS_UNCHANGED = "song {song_id} has these lyrics already"
LYRICS_WITHOUT_AUDIO = "no imported audio file of the same name (its import reads it)"


def is_lyrics_file(name: str) -> bool:
    return name.lower().endswith(LYRICS_SUFFIX)


def _lyrics_name(audio_name: str) -> str:
    return os.path.splitext(audio_name)[0] + LYRICS_SUFFIX


def _lyrics_beside(source: SourceFile, song_id: int, notes: list[str]) -> None:
    """The `.lrc` beside an audio file being imported, if there is one, becomes its song's
    lyrics; one that does not parse is a note, never a refused audio file."""
    lyrics_file = source.sibling(_lyrics_name(source.name))
    data = lyrics_file.read_at_most(MAX_LYRICS_BYTES + 1)
    if data is None:
        return
    try:
        lyrics_from_folder(song_id=song_id, data=data)
    except Invalid as error:
        notes.append(LYRICS_NOT_READ.format(name=lyrics_file.name, reason=error))


def _import_lyrics_file(source: SourceFile) -> FileResult:
    """An `.lrc` met in the walk: the lyrics of the imported audio file of the same name
    (tried with each audio extension: one query), if its content changed."""
    stem = os.path.splitext(source.name)[0]
    candidates = [
        source.sibling(f"{stem}.{extension}").path
        for known in AUDIO_CONTENT_TYPES
        for extension in (known, known.upper())
    ]
    keys = [path_key(path) for path in candidates]
    record = ImportedFile.objects.filter(path_key__in=keys).order_by("pk").first()
    if record is None:
        return FileResult(source.path, Outcome.UNCHANGED, LYRICS_WITHOUT_AUDIO)
    data = source.read_at_most(MAX_LYRICS_BYTES + 1) or b""
    try:
        changed = lyrics_from_folder(song_id=record.song_id, data=data)
    except Invalid as error:
        return FileResult(source.path, Outcome.FAILED, str(error), song_id=record.song_id)
    if not changed:
        reason = LYRICS_UNCHANGED.format(song_id=record.song_id)
        return FileResult(source.path, Outcome.UNCHANGED, reason, song_id=record.song_id)
    return FileResult(source.path, Outcome.LYRICS, song_id=record.song_id)


def _album_for(tags: Tags, artist: str, stored: list[str], notes: list[str]) -> Album | None:
    """The album the tags name (by album artist, else artist, and title), made when missing;
    it takes the embedded cover when it has none."""
    if tags.album is None:
        return None
    album_artist = tags.album_artist or artist
    album = (
        Album.objects.filter(title=tags.album, artist__name_key=artist_key(album_artist))
        .order_by("pk")
        .first()
    )
    if album is not None and album.image:
        return album
    cover = _cover_upload(tags.cover, notes)
    if album is None:
        album = album_create(
            title=tags.album,
            artist=album_artist,
            release_year=tags.year,
            genre=tags.genre,
            image_file=cover,
        )
    elif cover is not None:
        album = album_update(album_id=album.pk, image_file=cover)
    if cover is not None:
        stored.append(album.image.name)
    return album


def _cover_upload(data: bytes | None, notes: list[str]) -> SimpleUploadedFile | None:
    if not data:
        return None
    cover = SimpleUploadedFile("cover", data)
    try:
        verify_image(cover)
    except (Invalid, TooLarge) as error:
        notes.append(f"embedded cover ignored: {_message(error)}")
        return None
    return cover
