"""Every write to the listener's library: playlists, likes, and (at the end) what Subsonic
clients keep on the server: the play queue, bookmarks, stars, ratings and now playing.

Each write to a playlist locks its row first (`SELECT ... FOR UPDATE`), so the writes to one
playlist run one after the other and its positions stay 0..n-1. Items shift in two UPDATEs:
the rows that move are first parked at their new position plus SHIFT (above every real
position), then brought down by SHIFT. No row ever takes a position another row still holds,
whatever order the database updates them in, so the unique (playlist, position) constraint
holds throughout on PostgreSQL and SQLite alike, without a deferred constraint.
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone

from catalog.models import Album, Artist, Like, Song
from catalog.selectors.albums import ALBUM_NOT_FOUND
from catalog.selectors.artists import ARTIST_NOT_FOUND
from catalog.selectors.songs import SONG_NOT_FOUND
from catalog.signals import now_playing_changed
from core.errors import Invalid, NotFound, PermissionDenied, error_item
from core.files.images import verify_image
from core.files.storage import save_with_files
from core.text import clean_text
from core.updates import UNSET, Unset, model_update
from library.models import (
    MAX_BOOKMARK_COMMENT,
    MAX_BOOKMARKS,
    MAX_CLIENT_NAME,
    MAX_ITEMS,
    MAX_POSITION_MS,
    MAX_QUEUE_SONGS,
    MAX_RATING,
    MIN_RATING,
    AlbumLike,
    AlbumRating,
    ArtistLike,
    ArtistRating,
    Bookmark,
    NowPlaying,
    Playlist,
    PlaylistItem,
    PlayQueue,
    Rating,
)
from library.selectors import PLAYLIST_NOT_FOUND
from library.smart_schemas import SmartRules, rules_json
from users.models import User
from users.signals import activity_changed

NOT_YOUR_PLAYLIST = "Only the playlist's owner can change it."
SMART_PLAYLIST_READ_ONLY = (
    "This is a smart playlist: its songs come from its rules and cannot be added, moved or "
    "removed. Change its rules instead."
)
MANUAL_TAKES_NO_RULES = (
    "A manual playlist cannot become smart: create a smart playlist with these rules instead."
)
PLAYLIST_FULL = f"A playlist holds at most {MAX_ITEMS:,} songs."


def _songs(count: int) -> str:
    return f"{count} song" if count == 1 else f"{count} songs"


def insert_past_end_message(count: int) -> str:
    return f"The playlist has {_songs(count)}: a song can go at positions 0 to {count}."


def no_item_at_message(count: int) -> str:
    return f"There is no song at this position: the playlist has {_songs(count)}."


# Far above any position (at most MAX_ITEMS), far below the column's limit (2**31 - 1).
SHIFT = 1_000_000_000


def _locked_own(*, playlist_id: int, user: User) -> Playlist:
    """The caller's playlist, its row locked until the transaction ends.

    Someone else's playlist is a 404 when private (its existence is not told) and a 403 when
    public (anyone can see it, only its owner can change it)."""
    playlist = Playlist.objects.select_for_update().filter(pk=playlist_id).first()
    if playlist is None or (playlist.owner_id != user.pk and not playlist.is_public):
        raise NotFound(PLAYLIST_NOT_FOUND)
    if playlist.owner_id != user.pk:
        raise PermissionDenied(NOT_YOUR_PLAYLIST)
    return playlist


def _locked_own_manual(*, playlist_id: int, user: User) -> Playlist:
    """`_locked_own`, refused (422) when smart: its songs are its rules' to choose."""
    playlist = _locked_own(playlist_id=playlist_id, user=user)
    if playlist.is_smart:
        raise Invalid.of_items(error_item(("body",), SMART_PLAYLIST_READ_ONLY))
    return playlist


def _touch(playlist: Playlist) -> None:
    playlist.save(update_fields=["updated_at"])  # auto_now: the time of this change


def _move(playlist: Playlist, low: int, high: int, position: Combinable) -> None:
    """Give the items at positions low..high the new `position` (an expression of their own
    F("position")), through the parking range above SHIFT."""
    if low > high:
        return
    items = PlaylistItem.objects.filter(playlist=playlist)
    items.filter(position__gte=low, position__lte=high).update(position=position + SHIFT)
    items.filter(position__gte=SHIFT).update(position=F("position") - SHIFT)


def _item_count(playlist: Playlist) -> int:
    return PlaylistItem.objects.filter(playlist=playlist).count()


def _check_songs_exist(song_ids: Collection[int]) -> None:
    """NotFound unless every one of `song_ids` is a song: one query."""
    wanted = set(song_ids)
    if wanted and Song.objects.filter(pk__in=wanted).count() != len(wanted):
        raise NotFound(SONG_NOT_FOUND)


def _check_fits(count: int) -> None:
    if count > MAX_ITEMS:
        raise Invalid.of_items(error_item(("body",), PLAYLIST_FULL))


def _append(playlist: Playlist, song_ids: Sequence[int], *, start: int) -> None:
    """Put `song_ids` in this order at positions start, start + 1, ... (the end)."""
    PlaylistItem.objects.bulk_create(
        (
            PlaylistItem(playlist=playlist, song_id=song_id, position=start + offset)
            for offset, song_id in enumerate(song_ids)
        ),
        batch_size=1000,
    )


def playlist_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    is_public: bool = False,
    song_ids: Sequence[int] = (),
    rules: SmartRules | None = None,
) -> Playlist:
    """A new playlist; with `song_ids`, those songs in that order (Subsonic's createPlaylist),
    all of it or, when one is not a song, nothing. With `rules`, a smart playlist (no
    songs of its own: library.smart computes them when read)."""
    if rules is not None and song_ids:
        raise ValueError("A smart playlist takes rules, not songs.")
    if not song_ids:
        return Playlist.objects.create(
            owner=owner,
            name=name,
            description=description,
            is_public=is_public,
            rules=None if rules is None else rules_json(rules),
        )
    _check_fits(len(song_ids))
    _check_songs_exist(song_ids)
    try:
        with transaction.atomic():
            playlist = Playlist.objects.create(
                owner=owner, name=name, description=description, is_public=is_public
            )
            _append(playlist, song_ids, start=0)
    except IntegrityError as error:  # a song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error
    return playlist


def playlist_update(
    *,
    playlist_id: int,
    user: User,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    is_public: bool | Unset = UNSET,
    image_file: UploadedFile | Unset | None = UNSET,
    rules: SmartRules | Unset = UNSET,
) -> Playlist:
    """Change the fields given; `image_file` replaces the image (the old file goes after
    commit), None removes it, UNSET keeps it. `rules` replace a smart playlist's (a manual
    one is refused: 422)."""
    if isinstance(image_file, UploadedFile):  # checked before anything is locked or stored
        verify_image(image_file, field="image_file")
    with transaction.atomic():
        playlist = _locked_own(playlist_id=playlist_id, user=user)
        data = {
            "name": name,
            "description": description,
            "is_public": is_public,
            "image": image_file,
            "rules": UNSET if isinstance(rules, Unset) else rules_json(rules),
        }
        if not isinstance(rules, Unset) and not playlist.is_smart:
            raise Invalid("rules", MANUAL_TAKES_NO_RULES)
        model_update(instance=playlist, data=data)
        save_with_files(playlist)
    return playlist


@transaction.atomic
def playlist_delete(*, playlist_id: int, user: User) -> None:
    """Delete the playlist and its items; its image goes after commit (library/signals.py)."""
    _locked_own(playlist_id=playlist_id, user=user).delete()


def playlist_item_add(
    *, playlist_id: int, user: User, song_id: int, position: int | None = None
) -> PlaylistItem:
    """Put the song at `position` (0..n; None: at the end); the items from there on move
    down one. The same song may be in a playlist more than once."""
    try:
        with transaction.atomic():
            return _add(playlist_id=playlist_id, user=user, song_id=song_id, position=position)
    except IntegrityError as error:  # the song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error


def _add(*, playlist_id: int, user: User, song_id: int, position: int | None) -> PlaylistItem:
    playlist = _locked_own_manual(playlist_id=playlist_id, user=user)
    song = Song.objects.select_related("album").filter(pk=song_id).first()
    if song is None:
        raise NotFound(SONG_NOT_FOUND)
    count = _item_count(playlist)
    if count >= MAX_ITEMS:
        raise Invalid.of_items(error_item(("body",), PLAYLIST_FULL))
    if position is None:
        position = count
    elif position > count:
        raise Invalid("position", insert_past_end_message(count))
    _move(playlist, position, count - 1, F("position") + 1)
    item = PlaylistItem.objects.create(playlist=playlist, song=song, position=position)
    _touch(playlist)
    return item


@transaction.atomic
def playlist_item_remove(*, playlist_id: int, user: User, position: int) -> None:
    """Take out the item at `position`; the items after it move up one."""
    playlist = _locked_own_manual(playlist_id=playlist_id, user=user)
    count = _item_count(playlist)
    if position >= count:
        raise Invalid("position", no_item_at_message(count), location="path")
    PlaylistItem.objects.filter(playlist=playlist, position=position).delete()
    _move(playlist, position + 1, count - 1, F("position") - 1)
    _touch(playlist)


@transaction.atomic
def playlist_item_move(
    *, playlist_id: int, user: User, from_position: int, to_position: int
) -> None:
    """Move the item at `from_position` to `to_position`; the items between shift by one
    towards the gap it left."""
    playlist = _locked_own_manual(playlist_id=playlist_id, user=user)
    count = _item_count(playlist)
    errors = [
        error_item(("body", field), no_item_at_message(count))
        for field, value in (("from_position", from_position), ("to_position", to_position))
        if value >= count
    ]
    if errors:
        raise Invalid.of_items(*errors)
    if from_position == to_position:
        return
    step = -1 if from_position < to_position else 1
    position = Case(
        When(position=from_position, then=Value(to_position)),
        default=F("position") + step,
    )
    _move(playlist, min(from_position, to_position), max(from_position, to_position), position)
    _touch(playlist)


def playlist_edit(
    *,
    playlist_id: int,
    user: User,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    is_public: bool | Unset = UNSET,
    song_ids: Sequence[int] | Unset = UNSET,
    remove_positions: Collection[int] = (),
    append_song_ids: Sequence[int] = (),
) -> None:
    """Subsonic's changes to a playlist, made together or not at all: the fields given (by
    playlist_update), then its songs replaced by `song_ids` (createPlaylist with an id), or
    the songs at `remove_positions` (counted before this change) taken out and
    `append_song_ids` put at the end (updatePlaylist). Every check runs before any write."""
    if not isinstance(song_ids, Unset) and (remove_positions or append_song_ids):
        raise ValueError("Replace the songs, or remove and append: not both.")
    try:
        with transaction.atomic():
            _edit(
                playlist_id=playlist_id,
                user=user,
                fields={"name": name, "description": description, "is_public": is_public},
                song_ids=song_ids,
                remove_positions=set(remove_positions),
                append_song_ids=append_song_ids,
            )
    except IntegrityError as error:  # a song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error


def _edit(
    *,
    playlist_id: int,
    user: User,
    fields: dict[str, str | bool | Unset],
    song_ids: Sequence[int] | Unset,
    remove_positions: set[int],
    append_song_ids: Sequence[int],
) -> None:
    playlist = _locked_own_manual(playlist_id=playlist_id, user=user)
    count = _item_count(playlist)
    if any(not 0 <= position < count for position in remove_positions):
        raise Invalid("positions", no_item_at_message(count))
    if isinstance(song_ids, Unset):
        added, kept = append_song_ids, count - len(remove_positions)
    else:
        added, kept = song_ids, 0
    _check_fits(kept + len(added))
    _check_songs_exist(added)
    if any(value is not UNSET for value in fields.values()):
        playlist_update(playlist_id=playlist_id, user=user, **fields)
    if not isinstance(song_ids, Unset):
        PlaylistItem.objects.filter(playlist=playlist).delete()
    elif remove_positions:
        PlaylistItem.objects.filter(playlist=playlist, position__in=remove_positions).delete()
        playlists_renumber(playlist_ids=[playlist.pk])  # positions 0..n-1 again
    elif not added:
        return  # the songs stay as they are
    _append(playlist, added, start=kept)
    _touch(playlist)


def playlists_renumber(*, playlist_ids: Iterable[int]) -> None:
    """Close the gaps that deleted items left in these playlists: positions 0..n-1 again in
    the same order. Called with the rows already locked (library/signals.py)."""
    for playlist_id in sorted(set(playlist_ids)):
        items = PlaylistItem.objects.filter(playlist_id=playlist_id)
        positions = items.order_by("position").values_list("pk", "position")
        moved = [
            PlaylistItem(pk=pk, position=index + SHIFT)
            for index, (pk, position) in enumerate(positions)
            if position != index
        ]
        if not moved:
            continue
        PlaylistItem.objects.bulk_update(moved, ["position"], batch_size=1000)
        items.filter(position__gte=SHIFT).update(position=F("position") - SHIFT)
        Playlist.objects.filter(pk=playlist_id).update(updated_at=timezone.now())


# --- Likes ------------------------------------------------------------------------------


def song_like(*, user: User, song_id: int) -> None:
    """Like the song; liking it again changes nothing (it keeps its first `liked_at`)."""
    if not Song.objects.filter(pk=song_id).exists():
        raise NotFound(SONG_NOT_FOUND)
    try:
        with transaction.atomic():
            # ON CONFLICT DO NOTHING: two requests at once make one like, neither fails.
            Like.objects.bulk_create([Like(user=user, song_id=song_id)], ignore_conflicts=True)
    except IntegrityError as error:  # the song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error


def song_unlike(*, user: User, song_id: int) -> None:
    """Take the like back; a song not liked stays not liked, an unknown song is a 404."""
    deleted, _ = Like.objects.filter(user=user, song_id=song_id).delete()
    if not deleted and not Song.objects.filter(pk=song_id).exists():
        raise NotFound(SONG_NOT_FOUND)


# --- The play queue and bookmarks (Subsonic) ----------------------------------------------

QUEUE_TOO_LONG = f"A play queue holds at most {MAX_QUEUE_SONGS:,} songs."
CURRENT_NOT_QUEUED = "The current song must be one of the queue's songs."
POSITION_OUT_OF_RANGE = f"A position is 0 to {MAX_POSITION_MS:,} milliseconds."
TOO_MANY_BOOKMARKS = f"You have {MAX_BOOKMARKS:,} bookmarks: delete one to make another."
COMMENT_TOO_LONG = f"A comment is at most {MAX_BOOKMARK_COMMENT} characters."


def _check_position(position_ms: int) -> None:
    if not 0 <= position_ms <= MAX_POSITION_MS:
        raise Invalid("position", POSITION_OUT_OF_RANGE)


def play_queue_save(
    *,
    user: User,
    song_ids: Sequence[int],
    current_id: int | None = None,
    position_ms: int = 0,
    client: str = "",
) -> PlayQueue:
    """Replace the listener's play queue: `song_ids` in order, `current_id` (one of them; the
    first when None) played up to `position_ms`, saved by the client named `client`. No
    songs clears it. Nothing is saved when a song is not found or a value is out of range."""
    if len(song_ids) > MAX_QUEUE_SONGS:
        raise Invalid("id", QUEUE_TOO_LONG)
    if not song_ids:
        current_id, position_ms = None, 0
    elif current_id is None:
        current_id = song_ids[0]
    elif current_id not in song_ids:
        raise Invalid("current", CURRENT_NOT_QUEUED)
    _check_position(position_ms)
    _check_songs_exist(song_ids)
    try:
        with transaction.atomic():
            queue, _ = PlayQueue.objects.update_or_create(
                user=user,
                defaults={
                    "song_ids": list(song_ids),
                    "current_id": current_id,
                    "position_ms": position_ms,
                    "changed_at": timezone.now(),
                    "changed_by": client[:MAX_CLIENT_NAME],
                },
            )
    except IntegrityError as error:  # the current song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error
    return queue


def _clean_comment(comment: str) -> str:
    try:
        comment = clean_text(comment, multiline=True, required=False)
    except ValueError as error:
        raise Invalid("comment", str(error)) from None
    if len(comment) > MAX_BOOKMARK_COMMENT:
        raise Invalid("comment", COMMENT_TOO_LONG)
    return comment


def bookmark_save(*, user: User, song_id: int, position_ms: int, comment: str = "") -> Bookmark:
    """Bookmark the song at `position_ms`, replacing the listener's bookmark of it (position
    and comment) if there is one."""
    comment = _clean_comment(comment)
    _check_position(position_ms)
    _check_songs_exist([song_id])
    try:
        with transaction.atomic():
            mine = Bookmark.objects.filter(user=user)
            if not mine.filter(song_id=song_id).exists() and mine.count() >= MAX_BOOKMARKS:
                raise Invalid("id", TOO_MANY_BOOKMARKS)
            now = timezone.now()
            changes = {"position_ms": position_ms, "comment": comment, "changed_at": now}
            bookmark, _ = Bookmark.objects.update_or_create(
                user=user,
                song_id=song_id,
                defaults=changes,
                create_defaults={**changes, "created_at": now},
            )
    except IntegrityError as error:  # the song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error
    return bookmark


def bookmark_delete(*, user: User, song_id: int) -> None:
    """Delete the listener's bookmark of the song; none there is no error, an unknown song is."""
    deleted, _ = Bookmark.objects.filter(user=user, song_id=song_id).delete()
    if not deleted and not Song.objects.filter(pk=song_id).exists():
        raise NotFound(SONG_NOT_FOUND)


# --- Stars: liked songs (catalog's Like), albums and artists ------------------------------

STARRED_GONE = "Something you starred was deleted a moment ago; nothing was starred."


def _check_all_exist(
    *, song_ids: Collection[int], album_ids: Collection[int], artist_ids: Collection[int]
) -> None:
    """NotFound (naming the kind) unless every id is a row: one query per kind given."""
    for model, wanted, not_found in (
        (Song, song_ids, SONG_NOT_FOUND),
        (Album, album_ids, ALBUM_NOT_FOUND),
        (Artist, artist_ids, ARTIST_NOT_FOUND),
    ):
        wanted = set(wanted)
        if wanted and len(model.objects.filter(pk__in=wanted).values_list("pk")) != len(wanted):
            raise NotFound(not_found)


def stars_add(
    *,
    user: User,
    song_ids: Collection[int] = (),
    album_ids: Collection[int] = (),
    artist_ids: Collection[int] = (),
) -> None:
    """Star every song, album and artist given, or none when any of them does not exist.
    Starring again changes nothing: a star keeps its first time."""
    _check_all_exist(song_ids=song_ids, album_ids=album_ids, artist_ids=artist_ids)
    now = timezone.now()  # one moment for the whole call
    try:
        with transaction.atomic():
            # ON CONFLICT DO NOTHING: two calls at once make one star, neither fails.
            Like.objects.bulk_create(
                [Like(user=user, song_id=pk, liked_at=now) for pk in set(song_ids)],
                ignore_conflicts=True,
            )
            AlbumLike.objects.bulk_create(
                [AlbumLike(user=user, album_id=pk, created_at=now) for pk in set(album_ids)],
                ignore_conflicts=True,
            )
            ArtistLike.objects.bulk_create(
                [ArtistLike(user=user, artist_id=pk, created_at=now) for pk in set(artist_ids)],
                ignore_conflicts=True,
            )
    except IntegrityError as error:  # one of them was deleted since the check
        raise NotFound(STARRED_GONE) from error


@transaction.atomic
def stars_remove(
    *,
    user: User,
    song_ids: Collection[int] = (),
    album_ids: Collection[int] = (),
    artist_ids: Collection[int] = (),
) -> None:
    """Take the stars back, or none when any of them does not exist; what was not starred
    stays not starred."""
    _check_all_exist(song_ids=song_ids, album_ids=album_ids, artist_ids=artist_ids)
    if song_ids:
        Like.objects.filter(user=user, song_id__in=set(song_ids)).delete()
    if album_ids:
        AlbumLike.objects.filter(user=user, album_id__in=set(album_ids)).delete()
    if artist_ids:
        ArtistLike.objects.filter(user=user, artist_id__in=set(artist_ids)).delete()


# --- Ratings ------------------------------------------------------------------------------

RATING_OUT_OF_RANGE = f"A rating is {MIN_RATING} to {MAX_RATING} stars, or 0 to remove the rating."


def song_rate(*, user: User, song_id: int, rating: int) -> None:
    """Rate the song 1 to 5 (rating it again replaces the rating); 0 removes the rating."""
    _rate(Rating, Song, "song", SONG_NOT_FOUND, user=user, pk=song_id, rating=rating)


def album_rate(*, user: User, album_id: int, rating: int) -> None:
    """Rate the album 1 to 5, apart from its songs' ratings; 0 removes the rating."""
    _rate(AlbumRating, Album, "album", ALBUM_NOT_FOUND, user=user, pk=album_id, rating=rating)


def artist_rate(*, user: User, artist_id: int, rating: int) -> None:
    """Rate the artist 1 to 5; 0 removes the rating."""
    _rate(ArtistRating, Artist, "artist", ARTIST_NOT_FOUND, user=user, pk=artist_id, rating=rating)


def _rate(
    rating_model: type[Rating | AlbumRating | ArtistRating],
    rated_model: type[Song | Album | Artist],
    field: str,
    not_found: str,
    *,
    user: User,
    pk: int,
    rating: int,
) -> None:
    """The listener's rating of one song, album or artist (`field`): set (an upsert, so two
    ratings at once leave one row, the last one's) or, for 0, removed. Out of range is
    Invalid and an unknown row NotFound, nothing written."""
    if rating != 0 and not MIN_RATING <= rating <= MAX_RATING:
        raise Invalid("rating", RATING_OUT_OF_RANGE)
    if not rated_model.objects.filter(pk=pk).exists():
        raise NotFound(not_found)
    if rating == 0:
        rating_model.objects.filter(user=user, **{f"{field}_id": pk}).delete()
        return
    row = rating_model(user=user, rating=rating, updated_at=timezone.now(), **{f"{field}_id": pk})
    try:
        with transaction.atomic():
            rating_model.objects.bulk_create(
                [row],
                update_conflicts=True,
                unique_fields=["user", field],
                update_fields=["rating", "updated_at"],
            )
    except IntegrityError as error:  # the row was deleted a moment ago
        raise NotFound(not_found) from error


# --- Now playing --------------------------------------------------------------------------

# A song stays "now playing" this long past its end: a pause, a slow start, a late report.
NOW_PLAYING_MARGIN = timedelta(minutes=2)
PLAYER_NAME_MAX_LENGTH = NowPlaying._meta.get_field("player_name").max_length


def now_playing_activity(song: Song) -> str:
    """The listener's activity while the song plays, as players word it over Socket.IO."""
    return f"Playing {song.title} by {song.artist_name}"


def now_playing_set(*, user: User, song_id: int, player_name: str = "") -> NowPlaying:
    """The listener's player started the song: it is their "now playing" until its end (plus
    NOW_PLAYING_MARGIN) or their next song. Once committed, `activity_changed` tells
    whoever listens (the Socket.IO transport shows it as their activity)."""
    song = Song.objects.filter(pk=song_id).only("title", "artist_name", "duration").first()
    if song is None:
        raise NotFound(SONG_NOT_FOUND)
    now = timezone.now()
    entry = NowPlaying(
        user=user,
        song=song,
        player_name=player_name[:PLAYER_NAME_MAX_LENGTH],
        started_at=now,
        expires_at=now + timedelta(seconds=song.duration) + NOW_PLAYING_MARGIN,
    )
    try:
        with transaction.atomic():
            # An upsert on the listener: one entry each, the latest player's.
            NowPlaying.objects.bulk_create(
                [entry],
                update_conflicts=True,
                unique_fields=["user"],
                update_fields=["song", "player_name", "started_at", "expires_at"],
            )
    except IntegrityError as error:  # the song was deleted a moment ago
        raise NotFound(SONG_NOT_FOUND) from error
    # In the caller's transaction: scrobbling queues "playing now" for the listener's links.
    now_playing_changed.send(sender=NowPlaying, user_id=user.pk, song_id=song.pk)
    activity = now_playing_activity(song)
    # Never before commit; `robust`: a failing listener must not fail the request.
    transaction.on_commit(
        lambda: activity_changed.send(sender=NowPlaying, user_id=user.pk, activity=activity),
        robust=True,
    )
    return entry
