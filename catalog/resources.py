"""CSV import and export of the catalog (django-import-export), used by the admin.

Albums match on (title, artist). Songs match on (title, artist); their `album` column names
an album title, found with the `album_artist` column or, when that is empty, the song's own
artist; their `audio_file` column names a file already in storage (copied in bulk, e.g.
into media/songs/), whose duration is read on import.
"""

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from catalog.models import Album, Song
from core.errors import ApiError
from core.files.audio import verify_stored_audio

# Leading characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ALBUM_NOT_FOUND = "No album titled {title!r} by {artist!r}."
NOT_A_WHOLE_NUMBER = "Enter a whole number, not {value!r}."


def escape_formula(value: Any) -> Any:
    """Prefix formula-like text with a quote so spreadsheets show it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


class FormulaSafeResource(resources.ModelResource):
    def export_field(self, field: fields.Field, instance: Any, **kwargs: Any) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))


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


class AlbumResource(FormulaSafeResource):
    release_year = fields.Field(
        attribute="release_year", column_name="release_year", widget=WholeNumber()
    )

    class Meta:
        model = Album
        fields = ("title", "artist", "release_year")
        import_id_fields = ("title", "artist")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class AlbumByTitleAndArtist(widgets.ForeignKeyWidget):
    """The `album` column: an album title, matched together with its artist."""

    def __init__(self) -> None:
        super().__init__(Album, field="title")

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> Album | None:
        title = (value or "").strip()
        if not title:
            return None
        row = row or {}
        artist = (row.get("album_artist") or row.get("artist") or "").strip()
        album = Album.objects.filter(title=title, artist=artist).first()
        if album is None:
            raise ValueError(ALBUM_NOT_FOUND.format(title=title, artist=artist))
        return album


class SongResource(FormulaSafeResource):
    album = fields.Field(attribute="album", column_name="album", widget=AlbumByTitleAndArtist())
    album_artist = fields.Field(
        attribute="album__artist", column_name="album_artist", readonly=True
    )
    audio_file = fields.Field(attribute="audio", column_name="audio_file")
    duration = fields.Field(attribute="duration", column_name="duration", readonly=True)

    class Meta:
        model = Song
        fields = ("title", "artist", "album", "album_artist", "audio_file", "duration")
        import_id_fields = ("title", "artist")
        clean_model_instances = True

    def import_instance(self, instance: Song, row: dict[str, Any], **kwargs: Any) -> None:
        """Import the columns, then check the named audio file and read its duration."""
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            name, verified = verify_stored_audio(str(row.get("audio_file") or ""))
        except ApiError as error:
            errors["audio"] = [error.detail]
        else:
            instance.audio.name = name
            instance.duration = verified.duration
        if errors:
            raise ValidationError(errors)
