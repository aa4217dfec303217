from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.models import Song
from core.files.uploads import original_name_field

# A playlist holds at most this many items (API.md: more is a 422).
MAX_ITEMS = 10_000


class Playlist(models.Model):
    """A listener's list of songs, private unless they make it public."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,  # a deleted account takes its playlists
        related_name="playlists",
        db_index=False,  # led by library_playlist_owner_idx below
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True, default="")
    is_public = models.BooleanField(default=False)
    image = models.ImageField(upload_to="playlist_images/", blank=True)
    image_original_name = original_name_field()
    created_at = models.DateTimeField(default=timezone.now)
    # Also moved by every change to the playlist's items (library/services.py).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # An owner's playlists, newest first (theirs, and their public ones for others).
            models.Index(fields=["owner", "-created_at", "-id"], name="library_playlist_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaylistItem(models.Model):
    """One song at one position of a playlist. Positions run 0..n-1 without gaps; the same
    song may be in a playlist more than once."""

    playlist = models.ForeignKey(
        Playlist,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # led by library_item_position_unique
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="playlist_items")
    # Never negative; while items shift, a write parks them at SHIFT and above for a moment
    # (library/services.py), so the unique position holds at every row of every UPDATE.
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # The playlist's items in order are read on this index too.
            models.UniqueConstraint(
                fields=["playlist", "position"], name="library_item_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist_id}[{self.position}]: {self.song_id}"
