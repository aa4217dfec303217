"""Reads of the listener's library (playlists, likes, history, and Subsonic's play queue and
bookmarks) and the one search box, shaped for their responses: a page costs the same
queries at any size."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Album, Artist, Like, Play, Song
from catalog.prepared import PreparedValues
from catalog.search import (
    albums_matching,
    artists_matching,
    best_matches_kept,
    ranked,
    songs_matching,
)
from catalog.selectors.rows import credited_artists
from catalog.selectors.songs import songs_in_order
from core.errors import NotFound
from core.queries import count_of
from core.search import TextIndex
from library import smart
from library.models import (
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
from library.smart_schemas import SmartRules
from users.models import User

PLAYLIST_NOT_FOUND = "No playlist with this id."
# Names are searched by the catalog's rules (core/search.py; library migration 0006).
PLAYLISTS = TextIndex("library_playlist", exact=("name",), vocabulary="library_playlistsearchword")


@dataclass(frozen=True)
class SearchResults:
    songs: list[Song]
    albums: list[Album]
    artists: list[Artist]
    playlists: list[Playlist]


def _visible_to(user: User | None) -> Q:
    """Public playlists, and the caller's own."""
    if user is None or not user.is_authenticated:
        return Q(is_public=True)
    return Q(is_public=True) | Q(owner=user)


def _items_of_outer() -> QuerySet[PlaylistItem]:
    return PlaylistItem.objects.filter(playlist=OuterRef("pk")).order_by()


def with_summary(playlists: QuerySet[Playlist]) -> QuerySet[Playlist]:
    """Playlists with their owner, `song_count`, `duration` (seconds) and `first_cover` (the
    stored name of the first song's image, else of its album's): three scalar subqueries in
    the one query of a page, none per playlist."""
    duration = _items_of_outer().values("playlist").annotate(total=Sum("song__duration"))
    cover = (
        _items_of_outer()
        .order_by("position")
        .annotate(
            cover=Case(
                When(~Q(song__image=""), then=F("song__image")),
                default=F("song__album__image"),
                output_field=CharField(),
            )
        )
        .values("cover")[:1]
    )
    is_smart = Q(rules__isnull=False)
    return playlists.select_related("owner").annotate(
        # A smart playlist has no items: its figures as of its last read (library.smart).
        song_count=Case(
            When(is_smart, then=Coalesce("smart_song_count", 0)),
            default=count_of(PlaylistItem, "playlist"),
            output_field=IntegerField(),
        ),
        duration=Case(
            When(is_smart, then=Coalesce("smart_duration", 0)),
            default=Coalesce(Subquery(duration.values("total"), output_field=IntegerField()), 0),
            output_field=IntegerField(),
        ),
        first_cover=Subquery(cover, output_field=CharField()),
    )


def playlists_of(*, user: User, owner_id: int | None = None) -> QuerySet[Playlist]:
    """The caller's playlists, or with `owner_id` that user's public ones; newest first, on
    the (owner, -created_at, -id) index."""
    if owner_id is None:
        playlists = Playlist.objects.filter(owner=user)
    else:
        playlists = Playlist.objects.filter(owner_id=owner_id, is_public=True)
    return with_summary(playlists).order_by("-created_at", "-id")


def playlists_visible(*, user: User, limit: int) -> list[Playlist]:
    """Every playlist the caller may play, up to `limit`: their own, newest first, then
    everyone else's public ones, newest first (on the public playlists' index). Two queries,
    the second skipped when the caller's own fill the limit."""
    own = list(playlists_of(user=user)[:limit])
    if len(own) >= limit:
        return own
    others = with_summary(Playlist.objects.filter(is_public=True).exclude(owner=user))
    return own + list(others.order_by("-created_at", "-id")[: limit - len(own)])


def playlist_get(*, playlist_id: int, user: User | None) -> Playlist:
    """A public playlist or one of the caller's; anything else is a 404. A smart one's
    song_count and duration are computed now (one query more; and one to keep them when
    they changed)."""
    found = with_summary(Playlist.objects.filter(_visible_to(user), pk=playlist_id)).first()
    if found is None:
        raise NotFound(PLAYLIST_NOT_FOUND)
    if found.rules is not None:
        found.song_count, found.duration = smart.refreshed_summary(found)
    return found


def playlist_items(
    *, playlist_id: int, user: User | None
) -> QuerySet[PlaylistItem] | QuerySet[Song]:
    """The items of a playlist the caller may see, by position, each with its song and the
    song's album (SongOut's image fallback). A smart playlist's are its songs as its rules
    take them now, each with its `position` and `added_at` (library.smart.smart_items)."""
    found = (
        Playlist.objects.filter(_visible_to(user), pk=playlist_id)
        .values("rules", "owner_id")
        .first()
    )
    if found is None:
        raise NotFound(PLAYLIST_NOT_FOUND)
    if found["rules"] is not None:
        rules = SmartRules.model_validate(found["rules"])
        return smart.smart_items(rules=rules, owner_id=found["owner_id"])
    return (
        PlaylistItem.objects.filter(playlist_id=playlist_id)
        .select_related("song__album")
        .order_by("position", "id")
    )


def playlist_song_ids(*, playlist_id: int, user: User | None, limit: int) -> list[int]:
    """The first `limit` song ids of a playlist the caller may see, in order, manual or smart
    (NotFound otherwise): two queries."""
    items = playlist_items(playlist_id=playlist_id, user=user)
    column = "pk" if items.model is Song else "song_id"
    return list(items.values_list(column, flat=True)[:limit])


def playlist_songs(*, playlist_id: int, user: User | None) -> list[Song]:
    """The songs of a playlist the caller may see, in order (Subsonic's getPlaylist): two
    queries, manual or smart."""
    items = playlist_items(playlist_id=playlist_id, user=user)
    return [item if isinstance(item, Song) else item.song for item in items]


def search(*, term: str, limit: int, user: User | None) -> SearchResults:
    """The one search box: up to `limit` songs, albums, artists and playlists (public ones and
    the caller's own) matching `term`, best match first in each. Playlists by name, by the
    catalog's rules and ranking (`catalog.search.ranked`: the whole name, every word whole,
    the last word a prefix, then typos; ties to the newer)."""
    visible = _visible_to(user)
    # Whose playlists are visible differs by caller: each caller keeps a ranking of their own.
    viewer = user.pk if user is not None and user.is_authenticated else 0
    playlists = best_matches_kept(
        f"playlists:{viewer}",
        rows=lambda: with_summary(Playlist.objects.filter(visible)),
        term=term,
        limit=limit,
        rank=lambda rows, term, limit: ranked(
            rows, index=PLAYLISTS, term=term, limit=limit, within=visible
        ),
    )
    return SearchResults(
        songs=songs_matching(term=term, limit=limit),
        albums=albums_matching(term=term, limit=limit),
        artists=artists_matching(term=term, limit=limit),
        playlists=playlists,
    )


# --- The listener's likes and history --------------------------------------------------
# Like and Play are catalog's models: catalog's trending and made for you read them too.


def likes_of(*, user: User) -> QuerySet[Like]:
    """The listener's likes, newest first, each with its song and the song's album (SongOut's
    image fallback): one query per page, read on the (user, -liked_at) index."""
    return Like.objects.filter(user=user).select_related("song__album").order_by("-liked_at", "-id")


def songs_liked(*, user: User, song_ids: list[int]) -> list[bool]:
    """Whether the listener likes each of `song_ids`, in their order: one query on the
    (user, song) unique index."""
    liked = set(
        Like.objects.filter(user=user, song_id__in=song_ids).values_list("song_id", flat=True)
    )
    return [song_id in liked for song_id in song_ids]


def plays_of(*, user: User) -> QuerySet[Play]:
    """The listener's plays, newest first, each with its song and the song's album: one query
    per page, read on the (user, played_at) index."""
    return (
        Play.objects.filter(user=user).select_related("song__album").order_by("-played_at", "-id")
    )


# --- What a Subsonic client keeps on the server ------------------------------------------


@dataclass(frozen=True)
class PlayQueueState:
    """The listener's play queue as it stands: its songs in order (without those deleted
    since), the current one and the position in it, and when and by which client it was
    saved."""

    songs: list[Song]
    current_id: int | None
    position_ms: int
    changed_at: datetime
    changed_by: str


def play_queue_of(*, user: User) -> PlayQueueState:
    """The listener's play queue: one query, and one for its songs. A listener who never saved
    one has an empty queue since their account was made. When the current song was deleted,
    the first song is current, from its start."""
    queue = PlayQueue.objects.filter(user=user).first()
    if queue is None:
        return PlayQueueState(
            songs=[], current_id=None, position_ms=0, changed_at=user.date_joined, changed_by=""
        )
    songs = songs_in_order(queue.song_ids)
    current_id, position_ms = queue.current_id, queue.position_ms
    if songs and current_id not in {song.pk for song in songs}:
        current_id, position_ms = songs[0].pk, 0
    elif not songs:
        current_id, position_ms = None, 0
    return PlayQueueState(
        songs=songs,
        current_id=current_id,
        position_ms=position_ms,
        changed_at=queue.changed_at,
        changed_by=queue.changed_by,
    )


def bookmarks_of(*, user: User) -> QuerySet[Bookmark]:
    """The listener's bookmarks (at most MAX_BOOKMARKS), latest change first, each with its
    song and the song's album: one query, on the (user, song) unique index."""
    return (
        Bookmark.objects.filter(user=user)
        .select_related("song__album")
        .order_by("-changed_at", "-id")
    )


# --- Stars, ratings and now playing (the Subsonic API's annotations) ----------------------
# The `..._of` reads take the ids of one page and cost one query each, on the table's
# (user, item) unique index, whatever the page's size.


def song_stars_of(*, user: User, song_ids: Collection[int]) -> dict[int, datetime]:
    """When the listener starred (liked) each of `song_ids` they starred."""
    return dict(
        Like.objects.filter(user=user, song_id__in=song_ids).values_list("song_id", "liked_at")
    )


def album_stars_of(*, user: User, album_ids: Collection[int]) -> dict[int, datetime]:
    return dict(
        AlbumLike.objects.filter(user=user, album_id__in=album_ids).values_list(
            "album_id", "created_at"
        )
    )


def artist_stars_of(*, user: User, artist_ids: Collection[int]) -> dict[int, datetime]:
    return dict(
        ArtistLike.objects.filter(user=user, artist_id__in=artist_ids).values_list(
            "artist_id", "created_at"
        )
    )


def song_ratings_of(*, user: User, song_ids: Collection[int]) -> dict[int, int]:
    """The listener's rating (1 to 5) of each of `song_ids` they rated."""
    return dict(
        Rating.objects.filter(user=user, song_id__in=song_ids).values_list("song_id", "rating")
    )


@dataclass(frozen=True)
class Marks:
    """The listener's marks of one page's songs and albums, by id: `marks_of`."""

    song_stars: dict[int, datetime]
    song_ratings: dict[int, int]
    album_stars: dict[int, datetime]
    album_ratings: dict[int, int]


# What each row of `marks_of`'s one query is: its first column.
_SONG_STAR, _SONG_RATING, _ALBUM_STAR, _ALBUM_RATING = 0, 1, 2, 3
_RATINGS = (_SONG_RATING, _ALBUM_RATING)


def _marks(kind: int, rows: QuerySet, item: str, at: str | None, score: str | None) -> QuerySet:
    """One branch of `marks_of`'s union: (kind, item id, when starred, rating) for each row,
    the columns a branch does not have NULL."""
    return (
        rows.order_by()
        .annotate(
            mark_kind=Value(kind, output_field=IntegerField()),
            mark_item=F(item),
            mark_at=F(at) if at else Value(None, output_field=DateTimeField()),
            mark_score=F(score) if score else Value(None, output_field=IntegerField()),
        )
        .values_list("mark_kind", "mark_item", "mark_at", "mark_score")
    )


def _song_marks(users: list[int], song_ids: list[int]) -> QuerySet:
    likes = Like.objects.filter(user_id__in=users, song_id__in=song_ids)
    ratings = Rating.objects.filter(user_id__in=users, song_id__in=song_ids)
    return _marks(_SONG_STAR, likes, "song_id", "liked_at", None).union(
        _marks(_SONG_RATING, ratings, "song_id", None, "rating"), all=True
    )


def _album_marks(users: list[int], album_ids: list[int]) -> QuerySet:
    stars = AlbumLike.objects.filter(user_id__in=users, album_id__in=album_ids)
    ratings = AlbumRating.objects.filter(user_id__in=users, album_id__in=album_ids)
    return _marks(_ALBUM_STAR, stars, "album_id", "created_at", None).union(
        _marks(_ALBUM_RATING, ratings, "album_id", None, "rating"), all=True
    )


# Built and compiled once per page size (catalog/prepared.py): building and compiling the
# union through the ORM took several times as long as PostgreSQL took to answer it. Prepared
# on PostgreSQL: lookups on unique indexes, one plan suits any ids.
_MARKS_OF_SONGS = PreparedValues(_song_marks, prepare=True)
_MARKS_OF_ALBUMS = PreparedValues(_album_marks, prepare=True)
_MARKS_OF_SONGS_AND_ALBUMS = PreparedValues(
    lambda users, song_ids, album_ids: _song_marks(users, song_ids).union(
        _album_marks(users, album_ids), all=True
    ),
    prepare=True,
)


def marks_of(*, user: User, song_ids: Collection[int], album_ids: Collection[int] = ()) -> Marks:
    """`song_stars_of`, `song_ratings_of`, `album_stars_of` and `album_ratings_of` in one
    query (a UNION ALL of
    their reads, each on its (user, item) unique index): a page of songs (and its album)
    costs one round trip for its marks, not two or three. No query for no ids."""
    songs, albums, users = list(dict.fromkeys(song_ids)), list(dict.fromkeys(album_ids)), [user.pk]
    if songs and albums:
        rows = _MARKS_OF_SONGS_AND_ALBUMS.rows(users, songs, albums)
    elif songs:
        rows = _MARKS_OF_SONGS.rows(users, songs)
    elif albums:
        rows = _MARKS_OF_ALBUMS.rows(users, albums)
    else:
        rows = []
    found: dict[int, dict] = {kind: {} for kind in (*_RATINGS, _SONG_STAR, _ALBUM_STAR)}
    for kind, item, at, score in rows:
        found[kind][item] = score if kind in _RATINGS else at
    return Marks(
        song_stars=found[_SONG_STAR],
        song_ratings=found[_SONG_RATING],
        album_stars=found[_ALBUM_STAR],
        album_ratings=found[_ALBUM_RATING],
    )


def album_ratings_of(*, user: User, album_ids: Collection[int]) -> dict[int, int]:
    """The listener's rating (1 to 5) of each of `album_ids` they rated."""
    return dict(
        AlbumRating.objects.filter(user=user, album_id__in=album_ids).values_list(
            "album_id", "rating"
        )
    )


def album_ratings_by(*, user: User) -> dict[int, int]:
    """Every rating (1 to 5) the listener gave an album, by album id: one query."""
    return dict(AlbumRating.objects.filter(user=user).values_list("album_id", "rating"))


def artist_ratings_of(*, user: User, artist_ids: Collection[int]) -> dict[int, int]:
    """The listener's rating (1 to 5) of each of `artist_ids` they rated."""
    return dict(
        ArtistRating.objects.filter(user=user, artist_id__in=artist_ids).values_list(
            "artist_id", "rating"
        )
    )


def _song_total_duration() -> Coalesce:
    """The seconds of the outer album's songs, as an annotation (one scalar subquery on the
    album's index)."""
    total = (
        Song.objects.filter(album=OuterRef("pk"))
        .order_by()
        .values("album")
        .annotate(total=Sum("duration"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def albums_starred(*, user: User) -> QuerySet[Album]:
    """The listener's starred albums, newest star first, each with `starred_at`,
    `user_rating` (theirs, or None), `song_count` and `total_duration` (an AlbumID3's): one
    query, led by the (user, -created_at) index of AlbumLike."""
    rating = AlbumRating.objects.filter(user=user, album=OuterRef("pk")).values("rating")
    return (
        Album.objects.filter(listener_likes__user=user)
        .annotate(
            starred_at=F("listener_likes__created_at"),
            user_rating=Subquery(rating[:1]),
            song_count=count_of(Song, "album"),
            total_duration=_song_total_duration(),
        )
        .order_by("-starred_at", "-id")
    )


def artists_starred(*, user: User) -> QuerySet[Artist]:
    """The listener's starred artists (those the catalog credits), newest star first, each
    with `starred_at`, `user_rating` (theirs, or None) and `album_count`: one query."""
    rating = ArtistRating.objects.filter(user=user, artist=OuterRef("pk")).values("rating")
    return (
        credited_artists()
        .filter(listener_likes__user=user)
        .annotate(
            starred_at=F("listener_likes__created_at"),
            user_rating=Subquery(rating[:1]),
            album_count=count_of(Album, "artist"),
        )
        .order_by("-starred_at", "-id")
    )


def now_playing() -> QuerySet[NowPlaying]:
    """What active listeners play now (entries not expired), latest start first, each with
    its listener, song and the song's album: one query, on the expires_at index."""
    return (
        NowPlaying.objects.filter(expires_at__gt=timezone.now(), user__is_active=True)
        .select_related("user", "song__album")
        .order_by("-started_at", "-user_id")
    )
