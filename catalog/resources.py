"""CSV import and export of the catalog (django-import-export), used by the admin.

Albums match on (title, artist). Songs match on (title, artist); their `album` column names
an album title, found with the `album_artist` column or, when that is empty, the song's own
artist (ignoring case and accents); their `audio_file` column names a file already in
storage (copied in bulk, e.g. into media/songs/), whose duration is read on import.

The `artist` column is the name a row credits: the artist it names is found ignoring case
and accents, or created, as the API does. The `genre` column (songs and albums, optional) takes
the spelling the catalog already has for the genre, ignoring case, as the API does; `year`,
`track_number` and `disc_number` (songs) and `release_year` (albums) are checked against the
API's ranges. A CSV without these columns imports as before: the fields are left alone.
The `lyrics` column (songs, optional) holds an .lrc file's text or plain lines, read as the
API reads lyrics (catalog/lyrics.py): they become the song's, as an admin's; an empty cell
leaves the song's lyrics as they are (the admin's song page removes them). Exported as LRC.

Text cells follow the API's text rule (core/text.py): trimmed, and a control, invisible or
direction-changing character is the row's error. An export imports back as a no-op: cells
escaped against spreadsheet formulas are unescaped, unchanged rows are skipped, and a song
whose `audio_file` is its own file keeps its file's name and duration.

CSV headers are a machine format and stay the columns' snake_case names (`album_artist`);
the import preview heads its table with words ("Album artist").
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.encoding import force_str
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from import_export import fields, resources, results, widgets

from catalog.audio import verify_stored_audio
from catalog.lyrics import LyricLine, LyricWord, ParsedLyrics, parse_lyrics, to_lrc
from catalog.models import Album, Artist, Lyrics, LyricsSource, Song, artist_key
from catalog.services import artist_named, existing_genre_spelling, genre_spelling, lyrics_store
from catalog.signals import album_tracks_changed, audio_changed
from core.errors import DomainError
from core.files.uploads import display_name
from core.text import clean_text

# Leading characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ALBUM_NOT_FOUND = "No album titled {title!r} by {artist!r}."
MISSING_COLUMNS = (
    "The file's first line must be its header, naming the columns {expected}; it has no "
    "{missing} column. Its first line reads: {first_line}"
)
STORED_NAME_TOO_LONG = (
    "The file name {name} is {length} characters long; a song's file name (its folder "
    "included) may have at most {max_length}."
)
NOT_A_WHOLE_NUMBER = "Enter a whole number, not {value!r}."
# The CSV column naming a song's stored audio file, and the model field it fills.
AUDIO_COLUMN = "audio_file"
AUDIO_ATTRIBUTE = "audio"
# The import preview's headings where the column's name in words is not the best label.
COLUMN_LABELS = {"audio_original_name": "Uploaded as"}
CHANGED_VALUE_STYLE = "text-decoration:none;font-weight:600;color:var(--color-primary-600)"


def column_label(column_name: str) -> str:
    """A CSV column's heading in the import preview: `album_artist` reads "Album artist"."""
    return COLUMN_LABELS.get(column_name, column_name.replace("_", " ").capitalize())


def column_of_label(label: str) -> str:
    """The CSV column a preview heading names (`column_label` backwards)."""
    named = {heading: column for column, heading in COLUMN_LABELS.items()}
    return named.get(label, label.lower().replace(" ", "_"))


class LabelledResult(results.Result):
    """An import's result whose headings (`diff_headers`) are the columns' labels: a bad
    row's cells are still read by their column's name."""

    def append_invalid_row(self, number: int, row: Any, validation_error: Any) -> None:
        values = tuple(row.get(column_of_label(label), "---") for label in self.diff_headers)
        self.invalid_rows.append(
            results.InvalidRow(number=number, validation_error=validation_error, values=values)
        )


def escape_formula(value: Any) -> Any:
    """Prefix formula-like text with a quote so spreadsheets show it as text.

    Text that starts with a quote gets one more, so that `unescape_formula` can tell the two
    apart and an export imports back unchanged.
    """
    if isinstance(value, str) and value.startswith((*FORMULA_PREFIXES, "'")):
        return f"'{value}"
    return value


def unescape_formula(value: str) -> str:
    """The text `escape_formula` escaped: one leading quote dropped where it added one."""
    if value.startswith("'") and value[1:].startswith((*FORMULA_PREFIXES, "'")):
        return value[1:]
    return value


def cell_text(value: Any, *, required: bool = True) -> str:
    """A CSV cell as text, unescaped and cleaned by the API's text rule (ValueError with the
    sentence otherwise)."""
    text = unescape_formula(force_str(value if value is not None else ""))
    return clean_text(text, required=required)


class TextWidget(widgets.CharWidget):
    """A text column: the API's text rule; a breach is the row's error under its column."""

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> str:
        return cell_text(value)


class OptionalTextWidget(widgets.CharWidget):
    """An optional text column (the genre): the API's text rule; an empty cell is null."""

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> str | None:
        return cell_text(value, required=False) or None


class ReadableDiff(resources.Diff):
    """The import preview's cells, where a changed value reads "old → new".

    import-export's own diff marks changed characters, so a duration going from 5 to 10
    reads "510" and a year from 2019 to 2021 "201921". A new row shows its values as they are.
    """

    def as_html(self) -> list[SafeString]:
        cells = []
        for left, right in zip(self.left, self.right, strict=False):
            old = force_str(left if left is not None else "")
            new = force_str(right if right is not None else "")
            if self.new or old == new:
                cells.append(escape(new))
            else:
                cells.append(
                    format_html(
                        '<span class="value-change">{}{}</span>',
                        format_html('<del style="opacity:.6">{}</del> → ', old) if old else "",
                        format_html('<ins style="{}">{}</ins>', CHANGED_VALUE_STYLE, new)
                        if new
                        else "(empty)",
                    )
                )
        return cells


# The lookups a check constraint may use for it to be read without the database.
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def check_in_memory(condition: models.Q, instance: models.Model) -> bool | None:
    """Whether `instance` meets a check made of `field__lookup=constant` terms joined by AND, as
    the database reads it (a NULL term does not fail it); None for any other check."""
    if condition.connector != models.Q.AND or condition.negated:
        return None
    for child in condition.children:
        if not isinstance(child, tuple):
            return None
        path, expected = child
        name, _, lookup = path.partition("__")
        compare = COMPARISONS.get(lookup or "exact")
        if compare is None or expected is None or hasattr(expected, "resolve_expression"):
            return None
        try:
            value = getattr(instance, instance._meta.get_field(name).attname)
        except FieldDoesNotExist:
            return None
        if value is not None and not compare(value, expected):
            return False
    return True


def validate_constraints_in_memory(instance: models.Model, exclude: set[str]) -> None:
    """Model.validate_constraints without a query per check constraint that Python can read
    (Django asks the database `SELECT 1 WHERE <check>` for each); the others as Django does."""
    errors: dict[str, Any] = {}
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            holds = (
                check_in_memory(constraint.condition, instance)
                if isinstance(constraint, models.CheckConstraint)
                and not constraint._expression_refs_exclude(
                    model_class, constraint.condition, exclude
                )
                else None
            )
            try:
                if holds is None:
                    constraint.validate(model_class, instance, exclude=exclude)
                elif not holds:
                    raise ValidationError(
                        constraint.get_violation_error_message(),
                        code=constraint.violation_error_code,
                    )
            except ValidationError as error:
                errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@dataclass
class BatchLookups:
    """What one import_data call (one batch: one transaction) reads once for all its rows
    instead of once per row: the rows it may update, the artists and albums it names, the audio
    files it verifies. Entries a row may have changed are dropped (the next row asks the
    database, as every row used to)."""

    # (title, artist as credited) -> the rows the batch found; a key is looked up here once.
    rows: dict[tuple[str, str], list[models.Model]] = field(default_factory=dict)
    rows_handed_out: set[tuple[str, str]] = field(default_factory=set)
    # artist_key(name) -> the artist.
    artists: dict[str, Artist] = field(default_factory=dict)
    # The artist key the current row read or created (forgotten if the row fails).
    row_artist_key: str | None = None
    # An `audio_file` cell -> (storage name, duration) or the sentence refusing it.
    audio: dict[str, tuple[str, int] | str] = field(default_factory=dict)
    # A genre as a new row gives it -> the catalog's spelling, or None when it has none yet.
    genres: dict[str, str | None] = field(default_factory=dict)

    def genre_saved(self, genre: str | None, *, created: bool) -> None:
        """Forget the spellings a saved row may have changed: all of them after an update
        (its old genre may have been the only one of its spelling); after a new row with a
        spelling the catalog did not have, the genres found to have none."""
        if not created:
            self.genres.clear()
        elif genre is not None and genre not in self.genres.values():
            self.genres = {
                given: spelled for given, spelled in self.genres.items() if spelled is not None
            }


class FormulaSafeResource(resources.ModelResource):
    """A catalog row's CSV: formulas escaped on export, changes readable in the preview, and
    `artist` the credited name, linked to its artist on import."""

    title = fields.Field(attribute="title", column_name="title", widget=TextWidget())
    artist = fields.Field(attribute="artist_name", column_name="artist", widget=TextWidget())
    genre = fields.Field(attribute="genre", column_name="genre", widget=OptionalTextWidget())

    # The columns without which no row can be imported (the header must name them).
    required_columns: tuple[str, ...] = ("title", "artist")

    @classmethod
    def header_error(cls, headers: list[str] | None) -> str | None:
        """The sentence refusing a file whose first line lacks a required column, else None."""
        headers = [str(header or "").strip() for header in headers or []]
        missing = [column for column in cls.required_columns if column not in headers]
        if not missing:
            return None
        return MISSING_COLUMNS.format(
            expected=", ".join(cls.required_columns),
            missing=" or ".join(missing),
            first_line=",".join(headers)[:200],
        )

    # CSV columns whose value fills other model fields too: an error in the column is the
    # error of all of them, reported once under the column's name.
    column_fields: dict[str, set[str]] = {"artist": {"artist", "artist_name"}}

    # Foreign keys import_instance sets from rows it has just read from the database (in the
    # batch's transaction): checking that they exist would be one more query per row.
    foreign_keys_read: tuple[str, ...] = ("artist",)

    def _row_key(self, row: dict[str, Any]) -> tuple[str, str] | None:
        """The row's (title, credited artist) as its instance is matched on; None when a cell
        is missing or breaks the text rule (the row's import then reports that)."""
        try:
            return self.fields["title"].clean(row), self.fields["artist"].clean(row)
        except (KeyError, ValueError):
            return None

    def _credited_name(self, row: dict[str, Any]) -> str | None:
        """The artist name a row credits, if import_instance would link it to its artist
        (the text rule and the field's checks pass); None otherwise."""
        try:
            name = self.fields["artist"].clean(row)
            return self._meta.model._meta.get_field("artist_name").clean(name, None)
        except (KeyError, ValueError, ValidationError):
            return None

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        """Read the batch's existing rows and artists, and create the artists it names that
        are missing (each row would create its own): a few queries per batch, none per row."""
        super().before_import(dataset, **kwargs)
        self._batch = BatchLookups()
        keys: set[tuple[str, str]] = set()
        names: dict[str, str] = {}  # artist key -> the first spelling, as artist_named keeps
        for row in dataset.dict:
            if (key := self._row_key(row)) is not None:
                keys.add(key)
            if (name := self._credited_name(row)) is not None:
                names.setdefault(artist_key(name), name)
        if keys:
            existing = self.get_queryset().filter(
                title__in={title for title, _ in keys}, artist_name__in={name for _, name in keys}
            )
            for instance in existing:
                key = (instance.title, instance.artist_name)
                if key in keys:
                    self._batch.rows.setdefault(key, []).append(instance)
        if names:
            self._batch.artists = self._artists_named(names)

    def _artists_named(self, names: dict[str, str]) -> dict[str, Artist]:
        """artist_named for many names (artist key -> name) in at most three queries: those
        found, then the others created at once (one created meanwhile by another
        transaction is kept, as get_or_create keeps it) and read back."""
        found = {artist.name_key: artist for artist in Artist.objects.filter(name_key__in=names)}
        missing = [Artist(name=name, name_key=key) for key, name in names.items()]
        missing = [artist for artist in missing if artist.name_key not in found]
        if missing:
            Artist.objects.bulk_create(missing, ignore_conflicts=True)
            created = Artist.objects.filter(name_key__in=[artist.name_key for artist in missing])
            for artist in created:
                found[artist.name_key] = artist
                # What a save would have said (the artist index and the totals listen).
                models.signals.post_save.send(
                    sender=Artist,
                    instance=artist,
                    created=True,
                    update_fields=None,
                    raw=False,
                    using=Artist.objects.db,
                )
        return found

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Any:
        """The row's existing instance; none when its title or artist breaks the text rule
        (the row's import then reports that under the column). Read from the batch's lookup
        the first time a key comes, from the database after (an earlier row may have saved
        it)."""
        batch: BatchLookups | None = getattr(self, "_batch", None)
        key = self._row_key(row)
        if key is None:
            return None
        if batch is None or key in batch.rows_handed_out:
            return super().get_instance(instance_loader, row)
        batch.rows_handed_out.add(key)
        found = batch.rows.get(key, [])
        if len(found) > 1:  # as QuerySet.get() says it
            model = self._meta.model
            raise model.MultipleObjectsReturned(
                f"get() returned more than one {model._meta.object_name} -- it returned "
                f"{len(found)}!"
            )
        return found[0] if found else None

    def _artist_named(self, name: str) -> Artist:
        """artist_named, read from the batch's artists first."""
        batch: BatchLookups | None = getattr(self, "_batch", None)
        if batch is None:
            return artist_named(name)
        key = artist_key(name)
        batch.row_artist_key = key
        if key not in batch.artists:
            batch.artists[key] = artist_named(name)
        return batch.artists[key]

    def _genre_spelling(self, instance: Any) -> str | None:
        """genre_spelling for the row; a new row's genre read once per batch, until a saved
        row may have changed the answer (BatchLookups.genre_saved)."""
        batch: BatchLookups | None = getattr(self, "_batch", None)
        genre = instance.genre
        if batch is None or genre is None or instance.pk is not None:
            return genre_spelling(genre, other_than=instance)
        if genre not in batch.genres:
            batch.genres[genre] = existing_genre_spelling(genre)
        return batch.genres[genre] or genre

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        super().save_instance(instance, is_create, row, **kwargs)
        batch: BatchLookups | None = getattr(self, "_batch", None)
        if batch is not None:
            batch.genre_saved(instance.genre, created=is_create)

    def import_row(self, row: Any, instance_loader: Any, **kwargs: Any) -> Any:
        batch: BatchLookups | None = getattr(self, "_batch", None)
        if batch is not None:
            batch.row_artist_key = None
        row_result = super().import_row(row, instance_loader, **kwargs)
        if batch is not None and row_result.errors and batch.row_artist_key:
            # The row's savepoint may have been rolled back, and the artist it created with it.
            batch.artists.pop(batch.row_artist_key, None)
        return row_result

    def import_instance(self, instance: Any, row: dict[str, Any], **kwargs: Any) -> None:
        """Import the columns, then link the artist the `artist` column names and spell the
        genre as the catalog does; the errors together, so that the preview lists every error
        of a row at once."""
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "genre" in row and "genre" not in errors:
            instance.genre = self._genre_spelling(instance)
        name_field = instance._meta.get_field("artist_name")
        if "artist_name" in errors:  # the text rule refused the cell
            errors.setdefault("artist", errors.pop("artist_name"))
        else:
            try:
                name = name_field.clean(instance.artist_name, instance)
            except ValidationError as error:
                errors.setdefault("artist", error.messages)
            else:
                instance.artist = self._artist_named(name)
        if errors:
            raise ValidationError(errors)

    def _column_of(self, field_name: str) -> str:
        columns = self.column_fields.items()
        return next((column for column, covered in columns if field_name in covered), field_name)

    def validate_instance(
        self,
        instance: Any,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        """The row's own errors, then the model's checks of the fields they leave alone,
        each named by its CSV column (`audio_file`, not the model's `audio`)."""
        errors: dict[str, Any] = {}
        for field_name, messages in (import_validation_errors or {}).items():
            errors.setdefault(self._column_of(field_name), messages)
        if self._meta.clean_model_instances:
            exclude = set(errors)
            for column in errors:
                exclude |= self.column_fields.get(column, set())
            # Model.full_clean, in fewer queries: the foreign keys just read are not read
            # again, and check constraints are read in Python where they can be.
            found: dict[str, Any] = {}
            try:
                instance.full_clean(
                    exclude=exclude | set(self.foreign_keys_read),
                    validate_unique=validate_unique,
                    validate_constraints=False,
                )
            except ValidationError as error:
                found = error.update_error_dict(found)
            failed = {name for name in found if name != NON_FIELD_ERRORS}
            try:
                validate_constraints_in_memory(instance, exclude | failed)
            except ValidationError as error:
                found = error.update_error_dict(found)
            for field_name, messages in found.items():
                errors.setdefault(self._column_of(field_name), messages)
        if errors:
            raise ValidationError(errors)

    def get_result_class(self) -> type[results.Result]:
        return LabelledResult

    def get_diff_headers(self) -> list[str]:
        """The preview's headings, in words; the CSV's own header keeps the column names."""
        return [column_label(field.column_name) for field in self.get_import_fields()]

    def export_field(self, field: fields.Field, instance: Any, **kwargs: Any) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))

    def get_diff_class(self) -> type[resources.Diff]:
        return ReadableDiff


class WholeNumber(widgets.IntegerWidget):
    """An optional whole number whose refusal reads as a sentence, not a decimal trace."""

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> int | None:
        text = str(value if value is not None else "").strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(NOT_A_WHOLE_NUMBER.format(value=text)) from None


def whole_number(name: str) -> fields.Field:
    return fields.Field(attribute=name, column_name=name, widget=WholeNumber())


class AlbumResource(FormulaSafeResource):
    release_year = whole_number("release_year")

    class Meta:
        model = Album
        fields = ("title", "artist", "release_year", "genre")
        import_id_fields = ("title", "artist")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class AlbumByTitleAndArtist(widgets.ForeignKeyWidget):
    """The `album` column: an album title, matched together with its artist."""

    def __init__(self) -> None:
        super().__init__(Album, field="title")
        # (title, artist key) -> the album, or None: filled per batch (SongResource), as the
        # song import creates no album.
        self.found: dict[tuple[str, str], Album | None] = {}

    @staticmethod
    def album_key(value: Any, row: dict[str, Any]) -> tuple[str, str] | None:
        """(title, artist key) of the album a row names; None for an empty cell."""
        title = cell_text(value, required=False)
        if not title:
            return None
        artist = cell_text(row.get("album_artist"), required=False) or cell_text(
            row.get("artist"), required=False
        )
        return title, artist_key(artist)

    def find(self, keys: set[tuple[str, str]]) -> None:
        """Read the albums `keys` name in one query; the newest one where two match, as
        `.first()` does by the albums' order."""
        self.found = dict.fromkeys(keys)
        if not keys:
            return
        albums = Album.objects.filter(
            title__in={title for title, _ in keys},
            artist__name_key__in={artist for _, artist in keys},
        ).select_related("artist")
        for album in albums:  # ordered newest first
            key = (album.title, album.artist.name_key)
            if key in self.found and self.found[key] is None:
                self.found[key] = album

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> Album | None:
        row = row or {}
        key = self.album_key(value, row)
        if key is None:
            return None
        title, artist_key_ = key
        if key in self.found:
            album = self.found[key]
        else:
            album = Album.objects.filter(title=title, artist__name_key=artist_key_).first()
        if album is None:
            artist = cell_text(row.get("album_artist"), required=False) or cell_text(
                row.get("artist"), required=False
            )
            raise ValueError(ALBUM_NOT_FOUND.format(title=title, artist=artist))
        return album


def parsed_lyrics_of(lyrics: Lyrics) -> ParsedLyrics:
    """Stored lyrics as the parser gave them (to write them back as LRC)."""
    lines = [
        LyricLine(
            start_ms=line["start_ms"],
            text=line["text"],
            words=None if line["words"] is None else [LyricWord(**word) for word in line["words"]],
        )
        for line in lyrics.lines
    ]
    return ParsedLyrics(
        synced=lyrics.synced, lang=lyrics.lang or None, offset_ms=lyrics.offset_ms, lines=lines
    )


# The attribute of a song being imported that holds its row's lyrics until it is saved.
LYRICS_GIVEN = "lyrics_given"
LYRICS_COLUMN = "lyrics"


class LyricsWidget(widgets.Widget):
    """The `lyrics` column: LRC or plain lines, parsed (ValueError with the parser's words);
    an empty cell is None, which leaves the song's lyrics alone."""

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        text = unescape_formula(force_str(value if value is not None else ""))
        if not text.strip():
            return None
        try:
            return parse_lyrics(text)
        except DomainError as error:
            raise ValueError(error.detail) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return to_lrc(value) if value is not None else ""


class LyricsField(fields.Field):
    """A song's lyrics: on import those the row gives (`LYRICS_GIVEN`), None for an empty
    cell or lyrics the same as the stored ones (`SongResource.skip_row`), so that a row is
    read for its stored lyrics only when it gives some; exported as stored
    (`SongResource.dehydrate_lyrics`)."""

    @staticmethod
    def stored(instance: Any) -> ParsedLyrics | None:
        if instance.pk is None:
            return None
        try:
            return parsed_lyrics_of(instance.lyrics)
        except Lyrics.DoesNotExist:
            return None


def _storage_name(cell: Any) -> str:
    """The storage name an `audio_file` cell names, as verify_stored_audio reads it."""
    name = force_str(cell if cell is not None else "").strip().replace("\\", "/")
    return name if "/" in name else f"songs/{name}"


class SongResource(FormulaSafeResource):
    """Songs, exported with every column and imported from the ones a CSV gives."""

    album = fields.Field(attribute="album", column_name="album", widget=AlbumByTitleAndArtist())
    album_artist = fields.Field(
        attribute="album__artist_name", column_name="album_artist", readonly=True
    )
    year = whole_number("year")
    track_number = whole_number("track_number")
    disc_number = whole_number("disc_number")
    audio_file = fields.Field(attribute=AUDIO_ATTRIBUTE, column_name=AUDIO_COLUMN)
    lyrics = LyricsField(attribute=LYRICS_GIVEN, column_name=LYRICS_COLUMN, widget=LyricsWidget())
    # Without a readable audio file there is no duration either: the preview shows the
    # file's error alone, not "duration: This field cannot be null." beside it.
    required_columns = ("title", "artist", AUDIO_COLUMN)
    column_fields = {
        **FormulaSafeResource.column_fields,
        AUDIO_COLUMN: {AUDIO_ATTRIBUTE, "duration"},
        LYRICS_COLUMN: {LYRICS_GIVEN},
    }
    # Exported; on import it is read from the audio file, never from the CSV.
    duration = fields.Field(attribute="duration", column_name="duration", readonly=True)
    # Exported: what the uploader called the audio (stored names are random).
    audio_original_name = fields.Field(
        attribute="audio_original_name", column_name="audio_original_name", readonly=True
    )

    foreign_keys_read = ("artist", "album")  # the album: read by the `album` column

    class Meta:
        model = Song
        fields = (
            "title",
            "artist",
            "album",
            "album_artist",
            "genre",
            "year",
            "track_number",
            "disc_number",
            "lyrics",
            "audio_file",
            "duration",
            "audio_original_name",
        )
        import_id_fields = ("title", "artist")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        """The batch's rows and artists (FormulaSafeResource), and its albums in one query."""
        super().before_import(dataset, **kwargs)
        widget = self.fields["album"].widget
        keys: set[tuple[str, str]] = set()
        if "album" in (dataset.headers or []):
            for row in dataset.dict:
                try:
                    key = widget.album_key(row.get("album"), row)
                except ValueError:
                    continue  # the row's error, reported by its import
                if key is not None:
                    keys.add(key)
        widget.find(keys)

    def skip_row(
        self,
        instance: Song,
        original: Song,
        row: Any,
        import_validation_errors: dict[str, Any] | None = None,
    ) -> bool:
        given = getattr(instance, LYRICS_GIVEN, None)
        if given is not None and given == LyricsField.stored(original):
            setattr(instance, LYRICS_GIVEN, None)  # the same lyrics, written otherwise
        return super().skip_row(instance, original, row, import_validation_errors)

    def dehydrate_lyrics(self, song: Song) -> str:
        """Exported: the stored lyrics (read with the export's one query). In an import's
        preview: those the row gives, so that rows without lyrics are not read for them."""
        if getattr(self, "_batch", None) is not None:
            lyrics = getattr(song, LYRICS_GIVEN, None)
        else:
            lyrics = LyricsField.stored(song)
        return to_lrc(lyrics) if lyrics is not None else ""

    def filter_export(self, queryset: Any, **kwargs: Any) -> Any:
        # The lyrics of the whole export in its one query.
        return super().filter_export(queryset, **kwargs).select_related("lyrics")

    def _verify_stored_audio(self, cell: str) -> tuple[str, int]:
        """verify_stored_audio's storage name and duration, read once per file in a batch:
        rows naming the same file share its check (DomainError as it raises it)."""
        batch: BatchLookups | None = getattr(self, "_batch", None)
        if batch is None or cell not in batch.audio:
            try:
                name, verified = verify_stored_audio(cell)
                checked: tuple[str, int] | str = (name, verified.duration)
            except DomainError as error:
                checked = error.detail
            if batch is None:
                if isinstance(checked, str):
                    raise DomainError(checked)
                return checked
            batch.audio[cell] = checked
        checked = batch.audio[cell]
        if isinstance(checked, str):
            raise DomainError(checked)
        return checked

    def import_instance(self, instance: Song, row: dict[str, Any], **kwargs: Any) -> None:
        """Import the columns, then check the named audio file and read its duration.

        A song's own file (an export's `audio_file`) is left as it is: neither read again nor
        renamed after its storage key, so that the uploader's name for it stays."""
        own_file = instance.audio.name if instance.pk is not None else None
        # What the media pipeline is told once the row is saved (after_save_instance).
        instance._audio_replaced = instance.pk is None
        instance._album_before = instance.album_id if instance.pk is not None else None
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if own_file and _storage_name(row.get(AUDIO_COLUMN)) == own_file:
            instance.audio.name = own_file
            if errors:
                raise ValidationError(errors)
            return
        try:
            name, duration = self._verify_stored_audio(str(row.get(AUDIO_COLUMN) or ""))
        except DomainError as error:
            errors[AUDIO_COLUMN] = [error.detail]
        else:
            max_length = Song._meta.get_field(AUDIO_ATTRIBUTE).max_length
            if len(name) > max_length:
                # Read before the database (PostgreSQL) refuses the row with its own words.
                errors[AUDIO_COLUMN] = [
                    STORED_NAME_TOO_LONG.format(name=name, length=len(name), max_length=max_length)
                ]
            else:
                instance.audio.name = name
                instance.audio_original_name = display_name(name)
                instance.duration = duration
                instance._audio_replaced = True
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance: Song, row: dict[str, Any], **kwargs: Any) -> None:
        """Tell the media pipeline, in the import's transaction as the services do, about a
        song whose audio is new or replaced and the albums whose tracks changed. A dry run
        (the preview) is rolled back: it tells nobody. The row's lyrics are stored as an
        admin's (a preview's roll back with it)."""
        given = getattr(instance, LYRICS_GIVEN, None)
        if given is not None:
            lyrics_store(song_id=instance.pk, parsed=given, source=LyricsSource.UPLOAD)
        if self._is_dry_run(kwargs):
            return
        if getattr(instance, "_audio_replaced", False):
            audio_changed.send(sender=Song, song_id=instance.pk)
        albums = {getattr(instance, "_album_before", None), instance.album_id} - {None}
        if albums and getattr(instance, "_album_before", None) != instance.album_id:
            album_tracks_changed.send(sender=Song, album_ids=albums)


class SongImportResource(SongResource):
    """The admin's song import (catalog/admin.py): it imports as SongResource does; its page
    lists only the columns it reads, not `duration`, which comes from the audio file, nor
    `audio_original_name`, which is the file's own name."""

    def get_user_visible_fields(self) -> list[fields.Field]:
        not_read = {"duration", "audio_original_name"}
        return [
            field
            for field in super().get_user_visible_fields()
            if field.column_name not in not_read
        ]
