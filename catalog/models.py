import unicodedata

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone

from core.files.uploads import original_name_field


class RowCount(models.Model):
    """The number of rows of a table, kept exact by database triggers (migration 0002).

    Every insert, delete and truncate of the counted tables updates it in the same
    transaction, whatever wrote it (the API, the admin, CSV import, bulk SQL, cascades).
    """

    table_name = models.CharField(max_length=63, primary_key=True)
    row_count = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.table_name}: {self.row_count}"


class CountedQuerySet(models.QuerySet):
    """`count()` of a whole table reads its RowCount (O(1)) instead of counting the rows."""

    def count(self) -> int:
        query = self.query
        whole_table = (
            self._result_cache is None
            and not query.where.children
            and not query.is_sliced
            and not query.distinct
            and not query.combinator
        )
        if whole_table:
            counted = RowCount.objects.filter(table_name=self.model._meta.db_table).first()
            if counted is not None:
                return counted.row_count
        return super().count()


def artist_key(name: str) -> str:
    """An artist's name as uniqueness compares it: without accents, case or extra spaces, so
    that "Beyoncé", "beyonce" and "BEYONCE " are one artist."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Cut to the column: decomposition can lengthen a name (one "ﷺ" becomes 18 letters).
    return " ".join(bare.casefold().split())[:200]


class Artist(models.Model):
    name = models.CharField(max_length=200)
    # artist_key(name), kept by save(): the unique index that makes names unique ignoring
    # case and accents on every database (SQLite has no unaccent).
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    image = models.ImageField(upload_to="artist_images/", blank=True)
    image_original_name = original_name_field()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="catalog_artist_name_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_key = artist_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        super().save(*args, **kwargs)


# The years a song or album may have (the API's range, checked by forms and CSV import too).
YEAR_MIN, YEAR_MAX = 1000, 2100
# Track and disc numbers run from 1 to this.
POSITION_MAX = 999
GENRE_MAX_LENGTH = 100


def year_field() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)],
    )


def position_field(verbose_name: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(POSITION_MAX)],
    )


class CatalogEntry(models.Model):
    """What songs and albums both are: a title by an artist, listed in any of four orders.

    `artist_name` is the artist as this row credits it, stored beside the link to the
    `Artist` so that lists order, filter and search by it from the row's own indexes (a join
    to artists cannot use them); it is the API's `artist`. The database column keeps its
    first name, `artist`."""

    title = models.CharField(max_length=200)
    artist = models.ForeignKey(
        Artist,
        on_delete=models.PROTECT,  # an artist with songs or albums goes by merging
        related_name="%(class)ss",
        db_index=False,  # led by the by_artist index below
    )
    artist_name = models.CharField("credited as", max_length=200, db_column="artist")
    # Free text; null when unknown, never "". Genres compare ignoring case ("rock" and "Rock"
    # are one genre: catalog.selectors.genres), and a write takes the spelling the catalog
    # already has (catalog.services.genre_spelling), so one genre reads one way.
    genre = models.CharField(max_length=GENRE_MAX_LENGTH, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CountedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        indexes = [
            # One index per `?ordering=` value; `?artist=` compares ignoring case.
            models.Index(fields=["created_at", "id"], name="%(app_label)s_%(class)s_created_idx"),
            models.Index(fields=["title", "id"], name="%(app_label)s_%(class)s_title_idx"),
            models.Index(fields=["artist_name", "id"], name="%(app_label)s_%(class)s_artist_idx"),
            models.Index(Upper("artist_name"), name="%(app_label)s_%(class)s_artist_upper_idx"),
            # An artist's page: their songs or albums, newest first.
            models.Index(
                fields=["artist", "-created_at", "-id"],
                name="%(app_label)s_%(class)s_by_artist_idx",
            ),
            # Genres, one index for all their reads: `?genre=` (UPPER(genre) = UPPER(term))
            # newest or oldest first, page after page; its count; and the genre list grouped by
            # UPPER(genre). The last two read the index alone (an index-only scan on
            # PostgreSQL: the plain column is in it too).
            models.Index(
                Upper("genre"),
                F("created_at"),
                F("id"),
                F("genre"),
                name="%(app_label)s_%(class)s_genre_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.artist_name})"


def loudness_field() -> models.FloatField:
    """EBU R128 integrated loudness in LUFS; null until the media pipeline has measured it."""
    return models.FloatField("loudness (LUFS)", null=True, blank=True, editable=False)


def true_peak_field() -> models.FloatField:
    """The highest true peak (ITU-R BS.1770, 4x oversampled) in dBTP; null until measured."""
    return models.FloatField("true peak (dBTP)", null=True, blank=True, editable=False)


class Album(CatalogEntry):
    release_year = year_field()
    image = models.ImageField(upload_to="album_images/", blank=True)
    image_original_name = original_name_field()
    # Over the album's tracks as one programme (ReplayGain's album gain), remeasured when the
    # album gains or loses a song.
    loudness = loudness_field()
    true_peak = true_peak_field()

    class Meta(CatalogEntry.Meta):
        pass


class ProcessingState(models.TextChoices):
    """Where a song's audio is in the media pipeline (processing/)."""

    PENDING = "pending", "waiting to be processed"
    READY = "ready", "processed"
    FAILED = "failed", "failed"


def rendition_field(label: str) -> models.FileField:
    return models.FileField(label, upload_to="renditions/", blank=True, editable=False)


class Song(CatalogEntry):
    album = models.ForeignKey(
        Album,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="songs",
        db_index=False,  # led by catalog_song_album_order_idx below
    )
    # Whole seconds, always read from the audio file.
    duration = models.PositiveIntegerField()
    audio = models.FileField(upload_to="songs/")
    audio_original_name = original_name_field()
    image = models.ImageField(upload_to="song_images/", blank=True)
    image_original_name = original_name_field()
    # The song's own year; null when unknown (Subsonic then says its album's release year).
    year = year_field()
    track_number = position_field("track")
    disc_number = position_field("disc")
    # What the media pipeline made of `audio` (processing/): each rendition a complete file,
    # empty until made; the original streams in the meantime.
    opus_file = rendition_field("Opus 128k")
    aac_file = rendition_field("AAC 256k")
    mp3_file = rendition_field("MP3 192k")
    # Peaks for a seek bar, in the audiowaveform JSON format (version 2).
    waveform_file = models.FileField(upload_to="waveforms/", blank=True, editable=False)
    loudness = loudness_field()
    true_peak = true_peak_field()
    processing_state = models.CharField(
        max_length=8,
        choices=ProcessingState.choices,
        default=ProcessingState.PENDING,
        editable=False,
    )
    # Why the last run failed, as the pipeline said it (empty unless failed).
    processing_error = models.TextField(blank=True, editable=False)
    # The `audio` file name the outputs were made from: a replaced file makes them stale.
    processed_audio = models.CharField(max_length=100, blank=True, editable=False)

    class Meta(CatalogEntry.Meta):
        indexes = [
            *CatalogEntry.Meta.indexes,
            # An album's songs in their order (album detail): by disc, then track (unnumbered
            # last: PostgreSQL's ascending order puts nulls last), then in the order added.
            models.Index(
                fields=["album", "disc_number", "track_number", "created_at", "id"],
                name="catalog_song_album_order_idx",
            ),
            # The songs the pipeline still owes work (`process_audio --missing`, the admin's
            # filter): a small index that empties as the catalog is processed.
            models.Index(
                fields=["id"],
                condition=~models.Q(processing_state="ready"),
                name="catalog_song_unprocessed_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration__gt=0), name="song_duration_gt_0")
        ]


class Play(models.Model):
    """One listener starting one song: feeds trending and made-for-you."""

    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="plays")
    # Kept when the account goes: the play still counts for trending.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plays",
        db_index=False,  # led by catalog_play_user_idx below
    )
    played_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-played_at", "-id"]
        indexes = [
            # Trending: plays of the last days grouped by song, from the index alone.
            models.Index(fields=["played_at", "song"], name="catalog_play_recent_idx"),
            # Made for you: one listener's latest plays.
            models.Index(fields=["user", "played_at"], name="catalog_play_user_idx"),
            # Smart playlists: a listener's play count and last play of each song, from the
            # index alone (library/smart.py).
            models.Index(fields=["user", "song", "played_at"], name="catalog_play_user_song_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.song_id} at {self.played_at:%Y-%m-%d %H:%M}"


class Like(models.Model):
    """A listener's liked song: once per listener and song, gone with either."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="likes",
        db_index=False,  # led by catalog_like_user_song_unique and catalog_like_user_idx
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="likes")
    liked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-liked_at", "-id"]
        constraints = [
            # Liking twice is one like; `?ids=` lookups read this index too.
            models.UniqueConstraint(fields=["user", "song"], name="catalog_like_user_song_unique")
        ]
        indexes = [
            # A listener's likes, newest first.
            models.Index(fields=["user", "-liked_at"], name="catalog_like_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.song_id}"


class LyricsSource(models.TextChoices):
    UPLOAD = "upload"  # an .lrc or text file, or text, given by an admin (API, admin, CSV)
    TAGS = "tags"  # read from the audio file's own tags when it was uploaded
    FOLDER = "folder"  # the .lrc file beside the audio in an imported music folder


class Lyrics(models.Model):
    """A song's lyrics, parsed once (catalog/lyrics.py): plain, or synced with a start time
    for each line and, from enhanced LRC, for each word."""

    song = models.OneToOneField(
        Song, on_delete=models.CASCADE, primary_key=True, related_name="lyrics"
    )
    synced = models.BooleanField()
    lang = models.CharField(max_length=16, blank=True, default="")
    # As the file said ([offset:]); the line and word times below already include it.
    offset_ms = models.IntegerField(default=0)
    # [{"start_ms": int | None, "text": str, "words": [{"start_ms", "text"}] | None}]
    lines = models.JSONField()
    source = models.CharField(max_length=8, choices=LyricsSource.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "lyrics"

    def __str__(self) -> str:
        return f"Lyrics of {self.song_id}"


class ImportedFile(models.Model):
    """A file `import_music` made a song from: how the next run recognises it.

    Keyed by the file's absolute path, or "storage:<name>" for a file of the storage imported
    from the admin (its SHA-256, so the unique index stays small whatever the path's
    length); size and modification time let an unchanged file be skipped without
    reading it, the content's SHA-256 tells a touched file from a changed one and a moved
    file from a new one. A table of its own, not columns of the song: the song table is not
    rebuilt, and a song deleted in the admin takes its record with it (the next run imports
    the file again)."""

    path_key = models.CharField(max_length=64, unique=True, editable=False)
    path = models.TextField()
    size = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    content_hash = models.CharField(max_length=64, db_index=True)
    song = models.OneToOneField(Song, on_delete=models.CASCADE, related_name="imported_from")
    imported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path_key"]

    def __str__(self) -> str:
        return self.path


class ImportRunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    PREVIEWING = "previewing", "Previewing"
    PREVIEWED = "previewed", "Previewed"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AdminJobRun(models.Model):
    """What the admin's long imports share: who started the run, when, when it ended, and why
    its job stopped if it did (the background job writes it; the admin's page reads it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class ImportRun(AdminJobRun):
    """One CSV upload of the admin's import: its stored file, the preview (a dry run) and the
    import, each a background job (catalog/csv_import.py), with their progress and outcome."""

    # "song" or "album": the catalog's model the rows fill.
    model = models.CharField(max_length=20)
    # Where the uploaded CSV is kept (catalog/csv_import.py: never under a served URL).
    file_name = models.CharField(max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        max_length=20, choices=ImportRunState.choices, default=ImportRunState.QUEUED
    )
    rows_total = models.PositiveIntegerField("Rows", default=0)
    # Rows read so far by the step running (the preview, then the import); the import's
    # count is committed with each batch, so a run started again resumes after it.
    rows_done = models.PositiveIntegerField("Rows done", default=0)
    new_count = models.PositiveIntegerField("Rows added", default=0)
    updated_count = models.PositiveIntegerField("Rows updated", default=0)
    skipped_count = models.PositiveIntegerField("Rows unchanged", default=0)
    error_count = models.PositiveIntegerField("Rows with errors", default=0)
    # The first errors ({"row": n, "column": name, "messages": [...]}) and the first rows of
    # the preview ({"type": "new"|"update"|"skip", "cells": [...]}), bounded.
    errors = models.JSONField(default=list, blank=True)
    preview_rows = models.JSONField(default=list, blank=True)
    headings = models.JSONField(default=list, blank=True)

    class Meta(AdminJobRun.Meta):
        verbose_name = "CSV import"

    def __str__(self) -> str:
        return f"{self.original_name or self.file_name} ({self.get_state_display()})"

    @property
    def active(self) -> bool:
        return self.state in (
            ImportRunState.QUEUED,
            ImportRunState.PREVIEWING,
            ImportRunState.IMPORTING,
        )


class FolderImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class FolderImportRun(AdminJobRun):
    """One import of a folder of the storage from the admin (catalog/storage_import.py): a
    background job walks it, and writes here its progress, its counts and the first files it
    skipped or could not import, with the reasons."""

    # The folder's name in the storage, relative to its root ("music/2024").
    folder = models.CharField(max_length=1024)
    state = models.CharField(
        max_length=20, choices=FolderImportState.choices, default=FolderImportState.QUEUED
    )
    files_total = models.PositiveIntegerField("Files", default=0)
    # Files walked so far (in the walk's order, committed after each): a job run again goes
    # on after them.
    files_done = models.PositiveIntegerField("Files done", default=0)
    added_count = models.PositiveIntegerField("Added", default=0)
    updated_count = models.PositiveIntegerField("Updated", default=0)
    unchanged_count = models.PositiveIntegerField("Unchanged", default=0)
    skipped_count = models.PositiveIntegerField("Skipped", default=0)
    failed_count = models.PositiveIntegerField("Failed", default=0)
    # The first skipped and failed files ({"path", "outcome", "reason"}), bounded.
    problems = models.JSONField(default=list, blank=True)

    class Meta(AdminJobRun.Meta):
        verbose_name = "folder import"

    def __str__(self) -> str:
        return f"{self.folder} ({self.get_state_display()})"

    @property
    def active(self) -> bool:
        return self.state in (FolderImportState.QUEUED, FolderImportState.IMPORTING)
