from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.models import Album, Artist, Song
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


# --- The listener's stars, ratings and now playing (the Subsonic API's annotations) -----
# A starred song is catalog's Like (the REST likes are the same thing); albums and artists
# have their own tables, in the same shape.


class AlbumLike(models.Model):
    """A listener's starred album: once per listener and album, gone with either."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="album_likes",
        db_index=False,  # led by library_albumlike_user_album_unique and ..._user_idx
    )
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="listener_likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "album"], name="library_albumlike_user_album_unique"
            )
        ]
        indexes = [
            # A listener's starred albums, newest first.
            models.Index(fields=["user", "-created_at"], name="library_albumlike_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes album {self.album_id}"


class ArtistLike(models.Model):
    """A listener's starred artist: once per listener and artist, gone with either."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="artist_likes",
        db_index=False,  # led by library_artistlike_user_artist_unique and ..._user_idx
    )
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="listener_likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "artist"], name="library_artistlike_user_artist_unique"
            )
        ]
        indexes = [
            # A listener's starred artists, newest first.
            models.Index(fields=["user", "-created_at"], name="library_artistlike_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes artist {self.artist_id}"


# A rating is 1 to 5 stars; no rating is no row.
MIN_RATING = 1
MAX_RATING = 5


class Rating(models.Model):
    """A listener's rating of a song, 1 to 5: once per listener and song."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="ratings",
        db_index=False,  # led by library_rating_user_song_unique
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="ratings")
    rating = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A page's ratings are read on this index: (user, song IN (...)).
            models.UniqueConstraint(
                fields=["user", "song"], name="library_rating_user_song_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING),
                name="library_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} rates {self.song_id}: {self.rating}"


class NowPlaying(models.Model):
    """The song a listener's player said it started, until about when it ends (`expires_at`):
    one row per listener, replaced by the next. A table rather than the cache, whose default
    (local memory) one process alone would see, and which cannot list every listener's."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="now_playing",
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="now_playing")
    # The player's name as it signs its requests (Subsonic's `c`).
    player_name = models.CharField(max_length=100, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "now playing"
        indexes = [
            # Who is playing now: the entries not yet expired, newest first.
            models.Index(fields=["expires_at"], name="library_nowplaying_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} plays {self.song_id}"
