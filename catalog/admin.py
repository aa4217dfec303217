"""The catalog in the Unfold admin: artists, songs, albums (with their songs inline) and plays."""

from contextlib import suppress
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display

from catalog import csv_import, services, storage_import
from catalog.audio import verify_audio
from catalog.lyrics import MAX_LYRICS_BYTES, decode_lyrics, parse_lyrics
from catalog.models import (
    Album,
    Artist,
    FolderImportRun,
    ImportRun,
    Like,
    Lyrics,
    LyricsSource,
    Play,
    ProcessingState,
    Song,
)
from catalog.renditions import ready_formats, replay_gain
from catalog.resources import AlbumResource, SongImportResource, SongResource
from catalog.search import genre_is
from catalog.selectors.albums import TRACK_ORDER
from catalog.selectors.genres import genre_list
from catalog.waveform_picture import waveform_svg
from core.admin import ShownInline
from core.admin_format import date_and_time, minutes_and_seconds
from core.errors import Conflict, DomainError, NotFound, StorageUnavailable
from core.files.images import verify_image
from core.forms import VerifiedUploadsForm
from core.queries import count_of
from core.updates import UNSET, Unset


def _image_preview(field_file) -> str:
    if not field_file:
        return "-"
    return format_html(
        '<img src="{}" alt="" style="height:40px;width:40px;object-fit:cover;border-radius:4px">',
        field_file.url,
    )


# On change pages only (each admin's `add_fieldsets` leaves it out): no dates before a save.
DATES_FIELDSET = ("Dates", {"fields": ["created_at", "updated_at"]})


# The form takes the credited name; the service finds or creates its artist.
ARTIST_LABELS = {"artist_name": "Artist"}


class SongForm(VerifiedUploadsForm):
    upload_checks = {"audio": verify_audio, "image": verify_image}
    lyrics_file = forms.FileField(
        required=False,
        label="Lyrics file",
        help_text=(
            "An .lrc file (synced: a time before each line, word times too) or a .txt of "
            "plain lyrics, in UTF-8; it replaces the song's lyrics."
        ),
    )
    remove_lyrics = forms.BooleanField(required=False, label="Remove the lyrics")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("lyrics_file")
        if upload is not None and cleaned.get("remove_lyrics"):
            self.add_error("remove_lyrics", "Give a lyrics file or remove the lyrics: not both.")
        elif upload is not None:
            try:  # the service reads it again on save: this shows a refusal beside the field
                cleaned["lyrics"] = parse_lyrics(decode_lyrics(upload.read(MAX_LYRICS_BYTES + 1)))
            except DomainError as error:
                self.add_error("lyrics_file", error.detail)
        return cleaned

    class Meta:
        model = Song
        fields = [
            "title",
            "artist_name",
            "album",
            "genre",
            "year",
            "track_number",
            "disc_number",
            "audio",
            "image",
        ]
        labels = ARTIST_LABELS


class AlbumForm(VerifiedUploadsForm):
    upload_checks = {"image": verify_image}

    class Meta:
        model = Album
        fields = ["title", "artist_name", "release_year", "genre", "image"]
        labels = ARTIST_LABELS


class ArtistForm(VerifiedUploadsForm):
    upload_checks = {"image": verify_image}

    class Meta:
        model = Artist
        fields = ["name", "image"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if services.artist_name_taken(name, other_than=self.instance.pk):
            raise forms.ValidationError(services.ARTIST_NAME_TAKEN)
        return name


class CatalogImportForm(ImportForm):
    """Unfold's import form, refusing at once a file the import cannot read (too large, not
    a UTF-8 CSV, a first line that is not the header): nothing is stored for it."""

    def __init__(self, formats: list, resources: list, **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        self.import_resources = resources

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if upload is None:
            return cleaned
        resource = self.import_resources[int(cleaned.get("resource") or 0)]
        model = resource._meta.model._meta.model_name
        try:
            csv_import.check_upload(upload, model)
        except ValidationError as error:
            self.add_error("import_file", error)
        return cleaned


class CatalogAdmin(ModelAdmin, ImportExportModelAdmin):
    """CSV import/export in Unfold's forms; every save and delete goes through the services
    the API uses, so files are stored, replaced and deleted the same way. The import runs as
    jobs (catalog/csv_import.py): the upload answers at once with its run's page."""

    import_form_class = CatalogImportForm
    export_form_class = ExportForm

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method != "POST" or not self.has_import_permission(request):
            return super().import_action(request, **kwargs)
        form = self.create_import_form(request)
        if not form.is_valid():
            return super().import_action(request, **kwargs)
        run = csv_import.start(
            user=request.user,
            model=self.model._meta.model_name,
            upload=form.cleaned_data["import_file"],
        )
        return HttpResponseRedirect(reverse("admin:catalog_importrun_change", args=[run.pk]))


def _new_upload(form: VerifiedUploadsForm, field: str) -> UploadedFile | None:
    """The file uploaded in `field` by this form, None when the stored one is kept."""
    upload = form.cleaned_data.get(field)
    return upload if isinstance(upload, UploadedFile) else None


def _image_change(form: VerifiedUploadsForm, field: str) -> UploadedFile | Unset | None:
    """A new image, None when the admin ticked "Clear", UNSET when the image stays."""
    if form.cleaned_data.get(field) is False:  # Django's clearable input says "clear"
        return None
    return _new_upload(form, field) or UNSET


class GenreFilter(admin.SimpleListFilter):
    """The genres of the catalog (the cached genre list, not a DISTINCT over every row),
    matched ignoring case as `?genre=` is."""

    title = "genre"
    parameter_name = "genre"
    # Which count of the genre list says the genre has rows on this page's model.
    counted = "song_count"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(genre.name, genre.name) for genre in genre_list() if getattr(genre, self.counted)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(genre_is(value)) if value else queryset


class AlbumGenreFilter(GenreFilter):
    counted = "album_count"


def _artist_link(entry: Song | Album) -> str:
    url = reverse("admin:catalog_artist_change", args=[entry.artist_id])
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, entry.artist_name)


def _adopt(obj: Model, saved: Model) -> None:
    """Make the admin's instance the row a service saved: it redirects and logs with it."""
    obj.pk = saved.pk
    obj.refresh_from_db()


# What a song says about itself beyond its title and artist, written as the API writes them.
SONG_DETAILS = ("genre", "year", "track_number", "disc_number")
# A song's own fields, the track and disc numbers on one line.
SONG_FIELDS = ["title", "artist_name", "album", "genre", "year", ("track_number", "disc_number")]


@admin.register(Song)
class SongAdmin(CatalogAdmin):
    form = SongForm
    resource_classes = [SongResource]
    list_display = [
        "display_cover",
        "title",
        "display_artist",
        "album",
        "genre",
        "year",
        "display_duration",
        "display_likes",
        "display_player",
        "display_processing",
        "display_created",
    ]
    list_display_links = ["title"]
    list_filter = [
        GenreFilter,
        ("album", admin.RelatedOnlyFieldListFilter),
        "processing_state",
        "created_at",
    ]
    list_select_related = ["album"]
    search_fields = ["title", "artist_name", "album__title"]
    autocomplete_fields = ["album"]
    readonly_fields = [
        "display_duration",
        "display_player",
        "audio_original_name",
        "image_original_name",
        "display_processing",
        "processing_error",
        "display_loudness",
        "display_formats",
        "display_waveform",
        "display_lyrics",
        "created_at",
        "updated_at",
    ]
    actions = ["process_again"]
    fieldsets = [
        (None, {"fields": SONG_FIELDS}),
        (
            "Files",
            {
                "fields": [
                    "audio",
                    "audio_original_name",
                    "display_player",
                    "display_duration",
                    "image",
                    "image_original_name",
                ]
            },
        ),
        ("Lyrics", {"fields": ["display_lyrics", "lyrics_file", "remove_lyrics"]}),
        (
            "Processing",
            {
                "fields": [
                    "display_processing",
                    "processing_error",
                    "display_loudness",
                    "display_formats",
                    "display_waveform",
                ]
            },
        ),
        DATES_FIELDSET,
    ]
    add_fieldsets = [
        (None, {"fields": SONG_FIELDS}),
        # The length is read from the upload and the player needs a saved song.
        ("Files", {"fields": ["audio", "image"]}),
        ("Lyrics", {"fields": ["lyrics_file"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Song | None = None) -> list:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_import_resource_classes(self, request: HttpRequest) -> list[type[SongResource]]:
        # The import page lists the columns it reads: not the exported `duration`.
        return [SongImportResource]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Song]:
        # The likes of a whole page in the page's one query.
        return super().get_queryset(request).annotate(like_count=count_of(Like, "song"))

    @display(description="Cover")
    def display_cover(self, song: Song) -> str:
        return _image_preview(song.image or (song.album.image if song.album else None))

    @display(description="Artist", ordering="artist_name")
    def display_artist(self, song: Song) -> str:
        return _artist_link(song)

    @display(description="Likes", ordering="like_count")
    def display_likes(self, song: Song) -> int:
        return song.like_count

    @display(description="Added", ordering="created_at")
    def display_created(self, song: Song) -> str:
        return date_and_time(song.created_at)

    @display(description="Length", ordering="duration")
    def display_duration(self, song: Song) -> str:
        return minutes_and_seconds(song.duration) if song.duration else "-"

    @display(description="Preview")
    def display_player(self, song: Song) -> str:
        if song.pk is None or not song.audio:
            return "-"
        # The public stream endpoint: in production /media/songs/ is not served directly.
        stream_url = reverse("api:song_stream", kwargs={"song_id": song.pk})
        return format_html(
            '<audio controls preload="none" src="{}" style="height:32px"></audio>', stream_url
        )

    @display(
        description="Processing",
        ordering="processing_state",
        label={
            ProcessingState.PENDING.label: "info",
            ProcessingState.READY.label: "success",
            ProcessingState.FAILED.label: "danger",
        },
    )
    def display_processing(self, song: Song) -> str:
        return song.get_processing_state_display()

    @display(description="Loudness")
    def display_loudness(self, song: Song) -> str:
        gain = replay_gain(song, song.album)
        if gain is None or song.loudness is None or song.true_peak is None:
            return "-"
        return (
            f"{song.loudness:.1f} LUFS, true peak {song.true_peak:.1f} dBTP; "
            f"ReplayGain track {gain.track_gain:+.2f} dB, album {gain.album_gain:+.2f} dB"
        )

    @display(description="Streams as")
    def display_formats(self, song: Song) -> str:
        return ", ".join(ready_formats(song))

    @display(description="Lyrics")
    def display_lyrics(self, song: Song) -> str:
        lyrics = Lyrics.objects.filter(song_id=song.pk).first()
        if lyrics is None:
            return "None"
        kind = "Synced" if lyrics.synced else "Plain"
        first = [line["text"] for line in lyrics.lines[:3]]
        return format_html(
            "{} ({} lines, from {}): {}",
            kind,
            len(lyrics.lines),
            lyrics.get_source_display(),
            " / ".join(first),
        )

    @display(description="Waveform")
    def display_waveform(self, song: Song) -> str:
        return waveform_svg(song)

    @action(description="Process the selected songs' audio again")
    def process_again(self, request: HttpRequest, queryset: QuerySet[Song]) -> None:
        count = services.songs_process_again(song_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} song(s) will be processed again.", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Song, form: SongForm, change: bool) -> None:
        fields = {
            "title": form.cleaned_data["title"],
            "artist": form.cleaned_data["artist_name"],
            "album_id": obj.album_id,
            **{name: form.cleaned_data[name] for name in SONG_DETAILS},
            "image_file": _image_change(form, "image"),
        }
        audio = _new_upload(form, "audio")
        if change:
            song = services.song_update(song_id=obj.pk, audio_file=audio, **fields)
        else:
            fields["image_file"] = _new_upload(form, "image")
            song = services.song_create(audio_file=audio, **fields)
        if lyrics := form.cleaned_data.get("lyrics"):
            services.lyrics_store(song_id=song.pk, parsed=lyrics, source=LyricsSource.UPLOAD)
        elif form.cleaned_data.get("remove_lyrics"):
            with suppress(NotFound):  # none to remove: nothing to do
                services.lyrics_delete(song_id=song.pk)
        _adopt(obj, song)

    def delete_model(self, request: HttpRequest, obj: Song) -> None:
        services.song_delete(song_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Song]) -> None:
        for song_id in queryset.values_list("pk", flat=True):
            services.song_delete(song_id=song_id)


class SongInline(ShownInline):
    """An album's songs: added on the songs page (a song needs an audio upload), deleted on
    the song's own page (which deletes its files too)."""

    model = Song
    fields = [
        "disc_number",
        "track_number",
        "display_title",
        "artist_name",
        "display_duration",
        "display_created",
    ]
    readonly_fields = fields
    ordering = TRACK_ORDER  # as the API lists an album's songs
    # No line with the song's name above each row: the title cell links to the song instead.
    hide_title = True

    @display(description="Title")
    def display_title(self, song: Song) -> str:
        url = reverse("admin:catalog_song_change", args=[song.pk])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, song.title)

    @display(description="Length")
    def display_duration(self, song: Song) -> str:
        return minutes_and_seconds(song.duration)

    @display(description="Added")
    def display_created(self, song: Song) -> str:
        return date_and_time(song.created_at)


@admin.register(Album)
class AlbumAdmin(CatalogAdmin):
    form = AlbumForm
    resource_classes = [AlbumResource]
    inlines = [SongInline]
    list_display = [
        "display_cover",
        "title",
        "display_artist",
        "release_year",
        "genre",
        "display_song_count",
        "display_created",
    ]
    list_display_links = ["title"]
    list_filter = [AlbumGenreFilter, "release_year", "created_at"]
    search_fields = ["title", "artist_name"]
    readonly_fields = ["image_original_name", "created_at", "updated_at"]
    # The image once, with the upload field's own preview (no second "Cover" thumbnail).
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "artist_name",
                    "release_year",
                    "genre",
                    "image",
                    "image_original_name",
                ]
            },
        ),
        DATES_FIELDSET,
    ]
    add_fieldsets = [(None, {"fields": ["title", "artist_name", "release_year", "genre", "image"]})]

    def get_fieldsets(self, request: HttpRequest, obj: Album | None = None) -> list:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Album]:
        # One annotated query for the song counts of a whole page.
        return super().get_queryset(request).annotate(song_count=Count("songs"))

    @display(description="Cover")
    def display_cover(self, album: Album) -> str:
        return _image_preview(album.image)

    @display(description="Artist", ordering="artist_name")
    def display_artist(self, album: Album) -> str:
        return _artist_link(album)

    @display(description="Songs", ordering="song_count")
    def display_song_count(self, album: Album) -> int:
        return album.song_count

    @display(description="Added", ordering="created_at")
    def display_created(self, album: Album) -> str:
        return date_and_time(album.created_at)

    def save_model(self, request: HttpRequest, obj: Album, form: AlbumForm, change: bool) -> None:
        fields = {
            "title": form.cleaned_data["title"],
            "artist": form.cleaned_data["artist_name"],
            "release_year": form.cleaned_data["release_year"],
            "genre": form.cleaned_data["genre"],
            "image_file": _image_change(form, "image"),
        }
        if change:
            album = services.album_update(album_id=obj.pk, **fields)
        else:
            fields["image_file"] = _new_upload(form, "image")
            album = services.album_create(**fields)
        _adopt(obj, album)

    def delete_model(self, request: HttpRequest, obj: Album) -> None:
        services.album_delete(album_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Album]) -> None:
        for album_id in queryset.values_list("pk", flat=True):
            services.album_delete(album_id=album_id)


@admin.register(Artist)
class ArtistAdmin(ModelAdmin):
    """Artists are made by the songs and albums that credit them (API, admin, CSV); here they
    get a picture, a better name, or are merged with their duplicates."""

    form = ArtistForm
    list_display = [
        "display_image",
        "name",
        "display_song_count",
        "display_album_count",
        "display_created",
    ]
    list_display_links = ["name"]
    search_fields = ["name"]
    readonly_fields = ["image_original_name", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "image", "image_original_name"]}),
        DATES_FIELDSET,
    ]
    add_fieldsets = [(None, {"fields": ["name", "image"]})]
    actions = ["merge_artists"]

    def get_fieldsets(self, request: HttpRequest, obj: Artist | None = None) -> list:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artist]:
        return (
            super()
            .get_queryset(request)
            .annotate(song_count=count_of(Song, "artist"), album_count=count_of(Album, "artist"))
        )

    @display(description="Image")
    def display_image(self, artist: Artist) -> str:
        return _image_preview(artist.image)

    @display(description="Songs", ordering="song_count")
    def display_song_count(self, artist: Artist) -> int:
        return artist.song_count

    @display(description="Albums", ordering="album_count")
    def display_album_count(self, artist: Artist) -> int:
        return artist.album_count

    @display(description="Added", ordering="created_at")
    def display_created(self, artist: Artist) -> str:
        return date_and_time(artist.created_at)

    @action(description="Merge the selected artists (into the one with the most songs)")
    def merge_artists(self, request: HttpRequest, queryset: QuerySet[Artist]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        if len(ids) < 2:
            self.message_user(request, "Select two or more artists to merge.", messages.WARNING)
            return
        kept = services.artists_merge(artist_ids=ids)
        self.message_user(request, f"Merged {len(ids)} artists into {kept.name}.", messages.SUCCESS)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The form refuses a taken name; one taken between the form's check and the save
        # (by another admin, a song's write) rolls the whole save back and says so.
        try:
            return super().changeform_view(request, *args, **kwargs)
        except Conflict as error:
            self.message_user(request, error.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Artist, form: ArtistForm, change: bool) -> None:
        if change:
            artist = services.artist_update(
                artist_id=obj.pk,
                name=form.cleaned_data["name"],
                image_file=_image_change(form, "image"),
            )
        else:
            artist = services.artist_create(
                name=form.cleaned_data["name"], image_file=_new_upload(form, "image")
            )
        _adopt(obj, artist)

    def delete_model(self, request: HttpRequest, obj: Artist) -> None:
        services.artist_delete(artist_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Artist]) -> None:
        for artist_id in queryset.values_list("pk", flat=True):
            services.artist_delete(artist_id=artist_id)


@admin.register(Play)
class PlayAdmin(ModelAdmin):
    """Plays are facts: readable, never edited by hand."""

    list_display = ["song", "user", "display_played"]
    list_select_related = ["song", "user"]
    list_filter = ["played_at"]
    search_fields = ["song__title", "song__artist_name", "user__email"]
    date_hierarchy = "played_at"

    @display(description="Played at", ordering="played_at")
    def display_played(self, play: Play) -> str:
        return date_and_time(play.played_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _may_import(request: HttpRequest, model: str | None = None) -> bool:
    models = [model] if model else list(csv_import.RESOURCES)
    return any(request.user.has_perm(f"catalog.import_{name}") for name in models)


@admin.register(ImportRun)
class ImportRunAdmin(ModelAdmin):
    """The admin's CSV imports (catalog/csv_import.py): each run's progress, its preview and
    errors, and the button that confirms it. Read-only: the jobs write these rows."""

    list_display = ["__str__", "model", "state", "rows_done", "rows_total", "user", "created_at"]
    list_filter = ["state", "model"]
    readonly_fields = [
        "model",
        "original_name",
        "state",
        "user",
        "rows_total",
        "rows_done",
        "new_count",
        "updated_count",
        "skipped_count",
        "error_count",
        "created_at",
        "finished_at",
    ]
    fields = readonly_fields
    change_form_after_template = "admin/catalog/importrun/progress.html"

    def get_urls(self) -> list:
        confirm = path(
            "<int:run_id>/confirm/",
            self.admin_site.admin_view(self.confirm_view),
            name="catalog_importrun_confirm",
        )
        return [confirm, *super().get_urls()]

    def confirm_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = get_object_or_404(ImportRun, pk=run_id)
        if request.method != "POST" or not _may_import(request, run.model):
            raise PermissionDenied
        if csv_import.confirm(run):
            messages.success(request, "The import is queued; this page follows its progress.")
        else:
            messages.error(request, csv_import.NOT_PREVIEWED)
        return HttpResponseRedirect(reverse("admin:catalog_importrun_change", args=[run.pk]))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_import(request)

    def has_view_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return _may_import(request, obj.model if obj else None)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def may_import_folders(request: HttpRequest) -> bool:
    """Staff who may add songs: the import makes songs (and their artists and albums)."""
    return (
        request.user.is_active
        and request.user.is_staff
        and request.user.has_perm("catalog.add_song")
    )


class FolderImportForm(forms.ModelForm):
    """The folder of the storage to import, checked (catalog/storage_import.clean_folder)
    before anything is written."""

    class Meta:
        model = FolderImportRun
        fields = ["folder"]
        labels = {"folder": "Folder in the storage"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("folder")
        if field is not None:  # the add page (a run's page shows its fields read-only)
            field.required = False  # an empty one gets the import's own sentence
            field.help_text = _folders_help()

    def clean_folder(self) -> str:
        return storage_import.clean_folder(self.cleaned_data.get("folder") or "")


def _folders_help() -> str:
    base = (
        "Relative to the storage's root (MEDIA_ROOT, or the bucket), e.g. music/albums; "
        "its audio files become songs, each stored as a copy beside the uploads."
    )
    try:
        folders = storage_import.top_level_folders()
    except StorageUnavailable:
        return f"{base} The storage is unavailable: its folders cannot be listed now."
    if not folders:
        return f"{base} The storage has no folder of music at its root."
    return f"{base} Folders at the root: {', '.join(folders)}."


@admin.register(FolderImportRun)
class FolderImportRunAdmin(ModelAdmin):
    """The admin's folder imports (catalog/storage_import.py): "Add" takes a folder of the
    storage and queues its job; each run's page follows its progress, counts and reasons.
    Read-only once made: the job writes these rows."""

    form = FolderImportForm
    list_display = [
        "folder",
        "state",
        "files_done",
        "files_total",
        "added_count",
        "skipped_count",
        "failed_count",
        "user",
        "created_at",
    ]
    list_filter = ["state"]
    progress_fields = [
        "folder",
        "state",
        "user",
        "files_total",
        "files_done",
        "added_count",
        "updated_count",
        "unchanged_count",
        "skipped_count",
        "failed_count",
        "created_at",
        "finished_at",
    ]
    change_form_after_template = "admin/catalog/folderimportrun/progress.html"

    def get_fields(self, request: HttpRequest, obj: FolderImportRun | None = None) -> list[str]:
        return ["folder"] if obj is None else self.progress_fields

    def get_readonly_fields(self, request: HttpRequest, obj: FolderImportRun | None = None):
        return [] if obj is None else self.progress_fields

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        # One button: saving the folder starts its import, then its page follows it.
        extra_context = {
            **(extra_context or {}),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
        }
        return super().add_view(request, form_url, extra_context)

    def save_model(
        self, request: HttpRequest, obj: FolderImportRun, form: FolderImportForm, change: bool
    ) -> None:
        obj.user = request.user
        storage_import.start(obj)

    def response_add(self, request: HttpRequest, obj: FolderImportRun, post_url_continue=None):
        messages.success(request, "The folder import is queued; this page follows its progress.")
        return HttpResponseRedirect(reverse("admin:catalog_folderimportrun_change", args=[obj.pk]))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_import_folders(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_import_folders(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_import_folders(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
