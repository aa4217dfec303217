"""The catalog in the Unfold admin: songs, albums (with their songs inline) and plays."""

from datetime import datetime

from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime
from import_export.admin import ImportExportModelAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import display

from catalog import services
from catalog.models import Album, Play, Song
from catalog.resources import AlbumResource, SongImportResource, SongResource
from core.files.audio import verify_audio
from core.files.images import verify_image
from core.forms import VerifiedUploadsForm
from core.updates import UNSET, Unset


def _image_preview(field_file) -> str:
    if not field_file:
        return "-"
    return format_html(
        '<img src="{}" alt="" style="height:40px;width:40px;object-fit:cover;border-radius:4px">',
        field_file.url,
    )


def _minutes_and_seconds(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _date_and_time(moment: datetime) -> str:
    """A short date and time on one line: Django's long format wraps in narrow columns."""
    return format_html(
        '<span style="white-space:nowrap">{}</span>', f"{localtime(moment):%Y-%m-%d %H:%M}"
    )


# On change pages only (each admin's `add_fieldsets` leaves it out): no dates before a save.
DATES_FIELDSET = ("Dates", {"fields": ["created_at", "updated_at"]})


class SongForm(VerifiedUploadsForm):
    upload_checks = {"audio": verify_audio, "image": verify_image}

    class Meta:
        model = Song
        fields = ["title", "artist", "album", "audio", "image"]


class AlbumForm(VerifiedUploadsForm):
    upload_checks = {"image": verify_image}

    class Meta:
        model = Album
        fields = ["title", "artist", "release_year", "image"]


class CatalogAdmin(ModelAdmin, ImportExportModelAdmin):
    """CSV import/export in Unfold's forms; every save and delete goes through the services
    the API uses, so files are stored, replaced and deleted the same way."""

    import_form_class = ImportForm
    export_form_class = ExportForm


def _new_upload(form: VerifiedUploadsForm, field: str) -> UploadedFile | None:
    """The file uploaded in `field` by this form, None when the stored one is kept."""
    upload = form.cleaned_data.get(field)
    return upload if isinstance(upload, UploadedFile) else None


def _image_change(form: VerifiedUploadsForm, field: str) -> UploadedFile | Unset | None:
    """A new image, None when the admin ticked "Clear", UNSET when the image stays."""
    if form.cleaned_data.get(field) is False:  # Django's clearable input says "clear"
        return None
    return _new_upload(form, field) or UNSET


def _adopt(obj: Model, saved: Model) -> None:
    """Make the admin's instance the row a service saved: it redirects and logs with it."""
    obj.pk = saved.pk
    obj.refresh_from_db()


@admin.register(Song)
class SongAdmin(CatalogAdmin):
    form = SongForm
    resource_classes = [SongResource]
    list_display = [
        "display_cover",
        "title",
        "artist",
        "album",
        "display_duration",
        "display_player",
        "display_created",
    ]
    list_display_links = ["title"]
    list_filter = [("album", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["album"]
    search_fields = ["title", "artist", "album__title"]
    autocomplete_fields = ["album"]
    readonly_fields = [
        "display_duration",
        "display_player",
        "audio_original_name",
        "image_original_name",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["title", "artist", "album"]}),
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
        DATES_FIELDSET,
    ]
    add_fieldsets = [
        (None, {"fields": ["title", "artist", "album"]}),
        # The length is read from the upload and the player needs a saved song.
        ("Files", {"fields": ["audio", "image"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Song | None = None) -> list:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_import_resource_classes(self, request: HttpRequest) -> list[type[SongResource]]:
        # The import page lists the columns it reads: not the exported `duration`.
        return [SongImportResource]

    @display(description="Cover")
    def display_cover(self, song: Song) -> str:
        return _image_preview(song.image or (song.album.image if song.album else None))

    @display(description="Added", ordering="created_at")
    def display_created(self, song: Song) -> str:
        return _date_and_time(song.created_at)

    @display(description="Length", ordering="duration")
    def display_duration(self, song: Song) -> str:
        return _minutes_and_seconds(song.duration) if song.duration else "-"

    @display(description="Preview")
    def display_player(self, song: Song) -> str:
        if song.pk is None or not song.audio:
            return "-"
        # The public stream endpoint: in production /media/songs/ is not served directly.
        stream_url = reverse("api:song_stream", kwargs={"song_id": song.pk})
        return format_html(
            '<audio controls preload="none" src="{}" style="height:32px"></audio>', stream_url
        )

    def save_model(self, request: HttpRequest, obj: Song, form: SongForm, change: bool) -> None:
        fields = {
            "title": form.cleaned_data["title"],
            "artist": form.cleaned_data["artist"],
            "album_id": obj.album_id,
            "image_file": _image_change(form, "image"),
        }
        audio = _new_upload(form, "audio")
        if change:
            song = services.song_update(song_id=obj.pk, audio_file=audio, **fields)
        else:
            fields["image_file"] = _new_upload(form, "image")
            song = services.song_create(audio_file=audio, **fields)
        _adopt(obj, song)

    def delete_model(self, request: HttpRequest, obj: Song) -> None:
        services.song_delete(song_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Song]) -> None:
        for song_id in queryset.values_list("pk", flat=True):
            services.song_delete(song_id=song_id)


class SongInline(TabularInline):
    model = Song
    fields = ["display_title", "artist", "display_duration", "display_created"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    extra = 0
    # No line with the song's name above each row: the title cell links to the song instead.
    hide_title = True
    can_delete = False  # through the song's own page, which deletes its files too

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a song needs an audio upload: add it on the songs page

    @display(description="Title")
    def display_title(self, song: Song) -> str:
        url = reverse("admin:catalog_song_change", args=[song.pk])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, song.title)

    @display(description="Length")
    def display_duration(self, song: Song) -> str:
        return _minutes_and_seconds(song.duration)

    @display(description="Added")
    def display_created(self, song: Song) -> str:
        return _date_and_time(song.created_at)


@admin.register(Album)
class AlbumAdmin(CatalogAdmin):
    form = AlbumForm
    resource_classes = [AlbumResource]
    inlines = [SongInline]
    list_display = [
        "display_cover",
        "title",
        "artist",
        "release_year",
        "display_song_count",
        "display_created",
    ]
    list_display_links = ["title"]
    list_filter = ["release_year", "created_at"]
    search_fields = ["title", "artist"]
    readonly_fields = ["image_original_name", "created_at", "updated_at"]
    # The image once, with the upload field's own preview (no second "Cover" thumbnail).
    fieldsets = [
        (None, {"fields": ["title", "artist", "release_year", "image", "image_original_name"]}),
        DATES_FIELDSET,
    ]
    add_fieldsets = [(None, {"fields": ["title", "artist", "release_year", "image"]})]

    def get_fieldsets(self, request: HttpRequest, obj: Album | None = None) -> list:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Album]:
        # One annotated query for the song counts of a whole page.
        return super().get_queryset(request).annotate(song_count=Count("songs"))

    @display(description="Cover")
    def display_cover(self, album: Album) -> str:
        return _image_preview(album.image)

    @display(description="Songs", ordering="song_count")
    def display_song_count(self, album: Album) -> int:
        return album.song_count

    @display(description="Added", ordering="created_at")
    def display_created(self, album: Album) -> str:
        return _date_and_time(album.created_at)

    def save_model(self, request: HttpRequest, obj: Album, form: AlbumForm, change: bool) -> None:
        fields = {
            "title": form.cleaned_data["title"],
            "artist": form.cleaned_data["artist"],
            "release_year": form.cleaned_data["release_year"],
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


@admin.register(Play)
class PlayAdmin(ModelAdmin):
    """Plays are facts: readable, never edited by hand."""

    list_display = ["song", "user", "display_played"]
    list_select_related = ["song", "user"]
    list_filter = ["played_at"]
    search_fields = ["song__title", "song__artist", "user__email"]
    date_hierarchy = "played_at"

    @display(description="Played at", ordering="played_at")
    def display_played(self, play: Play) -> str:
        return _date_and_time(play.played_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
