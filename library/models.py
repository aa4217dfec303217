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
    # A smart playlist's rules (library.smart_schemas.SmartRules as JSON); null: a manual
    # playlist. A smart one has no items: its songs are computed when read (library.smart).
    rules = models.JSONField(null=True, blank=True, editable=False)
    # A smart playlist's song count and seconds when it was last read alone (lists show
    # these: evaluating every playlist of a page would cost a query each); null: not yet.
    # Nullable without a default, so that SQLite adds them with ALTER TABLE rather than a
    # copy of the table, which would lose the name search's triggers (migration 0006).
    smart_song_count = models.PositiveIntegerField(null=True, editable=False)
    smart_duration = models.PositiveIntegerField(null=True, editable=False)
    # Also moved by every change to the playlist's items (library/services.py).
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # An owner's playlists, newest first (theirs, and their public ones for others).
            models.Index(fields=["owner", "-created_at", "-id"], name="library_playlist_owner_idx"),
            # Everyone's public playlists, newest first (Subsonic's getPlaylists).
            models.Index(
                fields=["-created_at", "-id"],
                condition=models.Q(is_public=True),
                name="library_playlist_public_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_smart(self) -> bool:
        return self.rules is not None


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


# --- What a Subsonic client keeps on the server: the play queue and bookmarks -------------

# The longest play queue a client may save: a whole playlist fits.
MAX_QUEUE_SONGS = MAX_ITEMS
# A position in a song, in milliseconds: up to 2**31 - 1 (24 days) fits the column.
MAX_POSITION_MS = 2**31 - 1
# At most this many bookmarks per listener: getBookmarks answers them all at once.
MAX_BOOKMARKS = 1_000
MAX_CLIENT_NAME = 100
MAX_BOOKMARK_COMMENT = 500


class PlayQueue(models.Model):
    """A listener's play queue as their last client saved it, for the next client to take up
    (Subsonic's savePlayQueue and getPlayQueue): one per listener.

    The songs are a JSON array of ids in order (a song may be there twice), on PostgreSQL and
    SQLite alike: clients save the queue at every change of song, and an array is one row
    written whole, where a table of items would be a delete and an insert per song. Songs
    deleted since are left out when it is read (library.selectors.play_queue_of).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="play_queue"
    )
    song_ids = models.JSONField(default=list)
    # One of song_ids; gone with its song (the reader falls back to the first song then).
    current = models.ForeignKey(
        Song, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position_ms = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)
    # The name of the client that saved it (Subsonic's `c`).
    changed_by = models.CharField(max_length=MAX_CLIENT_NAME, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.user_id}: {len(self.song_ids)} songs"


class Bookmark(models.Model):
    """A listener's place in a song (an audiobook, a long mix), one per listener and song."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="bookmarks",
        db_index=False,  # led by library_bookmark_unique
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="bookmarks")
    position_ms = models.PositiveIntegerField()
    comment = models.CharField(max_length=MAX_BOOKMARK_COMMENT, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "song"], name="library_bookmark_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.song_id} at {self.position_ms} ms"


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


class AlbumRating(models.Model):
    """A listener's rating of an album, 1 to 5: once per listener and album. Its own, not
    drawn from the songs' (as Navidrome and Subsonic keep it)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="album_ratings",
        db_index=False,  # led by library_albumrating_user_album_unique
    )
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="listener_ratings")
    rating = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A page's ratings, and the listener's rated albums, are read on this index.
            models.UniqueConstraint(
                fields=["user", "album"], name="library_albumrating_user_album_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING),
                name="library_albumrating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} rates album {self.album_id}: {self.rating}"


class ArtistRating(models.Model):
    """A listener's rating of an artist, 1 to 5: once per listener and artist."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="artist_ratings",
        db_index=False,  # led by library_artistrating_user_artist_unique
    )
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="listener_ratings")
    rating = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "artist"], name="library_artistrating_user_artist_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING),
                name="library_artistrating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} rates artist {self.artist_id}: {self.rating}"


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
