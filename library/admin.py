"""Playlists in the Unfold admin: read and moderate (rename, change visibility, delete); the
songs in them are the listeners' to arrange. A smart playlist shows its rules, read only, and
no items: its songs are computed when a listener reads it. Play queues and bookmarks (what
Subsonic clients keep) are readable lists, never edited by hand."""

import json

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from core.admin_format import date_and_time
from core.forms import TextRuleModelForm
from library.models import Bookmark, Playlist, PlaylistItem, PlayQueue


class PlaylistItemInline(TabularInline):
    model = PlaylistItem
    fields = ["display_position", "display_song", "display_added"]
    readonly_fields = fields
    ordering = ["position"]
    extra = 0
    hide_title = True
    can_delete = False
    # One page of a 10,000-song playlist is plenty to moderate it.
    per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[PlaylistItem]:
        return super().get_queryset(request).select_related("song")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @display(description="#")
    def display_position(self, item: PlaylistItem) -> int:
        # Stored 0-based (as the API counts); a person counts from 1.
        return item.position + 1

    @display(description="Added")
    def display_added(self, item: PlaylistItem) -> str:
        return date_and_time(item.added_at)

    @display(description="Song")
    def display_song(self, item: PlaylistItem) -> str:
        url = reverse("admin:catalog_song_change", args=[item.song_id])
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a> <span class="text-xs">{}</span>',
            url,
            item.song.title,
            item.song.artist,
        )


@admin.register(Playlist)
class PlaylistAdmin(ModelAdmin):
    form = TextRuleModelForm  # the name follows the API's text rule
    inlines = [PlaylistItemInline]
    list_display = [
        "name",
        "display_owner",
        "display_visibility",
        "display_song_count",
        "display_updated",
    ]
    list_display_links = ["name"]
    list_select_related = ["owner"]
    list_filter = ["is_public"]
    search_fields = ["name", "owner__email"]
    fields = [
        "name",
        "is_public",
        "display_owner",
        "description",
        "display_kind",
        "display_rules",
        "image",
        "image_original_name",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "display_owner",
        "display_kind",
        "display_rules",
        "description",
        "image",
        "image_original_name",
        "created_at",
        "updated_at",
    ]
    empty_results_text = (
        "Listeners make playlists in the app; they appear here to be renamed, hidden or, "
        "when needed, deleted."
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Playlist]:
        # One annotated query for the song counts of a whole page.
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(song_count=Count("items"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # listeners make playlists

    def get_inlines(self, request: HttpRequest, obj: Playlist | None = None) -> list:
        # A smart playlist has no items of its own to show.
        return [] if obj is not None and obj.is_smart else self.inlines

    @display(description="Kind")
    def display_kind(self, playlist: Playlist) -> str:
        return "Smart" if playlist.is_smart else "Manual"

    @display(description="Rules")
    def display_rules(self, playlist: Playlist) -> str:
        if not playlist.is_smart:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(playlist.rules, indent=2))

    @display(description="Owner", ordering="owner__email")
    def display_owner(self, playlist: Playlist) -> str:
        owner = playlist.owner
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a> <span class="text-xs">{}</span>',
            reverse("admin:users_user_change", args=[owner.pk]),
            owner.get_full_name(),
            owner.email,
        )

    @display(
        description="Visibility",
        ordering="is_public",
        label={"Public": "success", "Private": "info"},
    )
    def display_visibility(self, playlist: Playlist) -> str:
        return "Public" if playlist.is_public else "Private"

    @display(description="Songs", ordering="song_count")
    def display_song_count(self, playlist: Playlist) -> int:
        if playlist.is_smart:  # as of its last read (library.smart.refreshed_summary)
            return playlist.smart_song_count or 0
        return playlist.song_count

    @display(description="Updated", ordering="updated_at")
    def display_updated(self, playlist: Playlist) -> str:
        return date_and_time(playlist.updated_at)


class _ReadOnly(ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PlayQueue)
class PlayQueueAdmin(_ReadOnly):
    list_display = ["user", "display_songs", "current", "changed_by", "display_changed"]
    list_select_related = ["user", "current"]
    search_fields = ["user__email"]

    @display(description="Songs")
    def display_songs(self, queue: PlayQueue) -> int:
        return len(queue.song_ids)

    @display(description="Changed", ordering="changed_at")
    def display_changed(self, queue: PlayQueue) -> str:
        return date_and_time(queue.changed_at)


@admin.register(Bookmark)
class BookmarkAdmin(_ReadOnly):
    list_display = ["user", "song", "position_ms", "comment", "display_changed"]
    list_select_related = ["user", "song"]
    search_fields = ["user__email", "song__title"]

    @display(description="Changed", ordering="changed_at")
    def display_changed(self, bookmark: Bookmark) -> str:
        return date_and_time(bookmark.changed_at)
