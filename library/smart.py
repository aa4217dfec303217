"""Smart playlists: rules (library.smart_schemas.SmartRules) compiled into one query over the
catalog's songs.

The per-listener fields (play_count, last_played, liked, rating) are the playlist owner's,
read as scalar subqueries and EXISTS on their tables' (user, ...) indexes; only the ones a
playlist's rules or sort name are computed. Text compares ignoring case (Django's iexact,
icontains, istartswith, iendswith: UPPER(...) LIKE on PostgreSQL, LIKE on SQLite, which folds
ASCII letters only); accents count, unlike the search box. Days are UTC days.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, Lower, RowNumber

from catalog.models import Like, Play, Song
from library.models import Playlist, Rating
from library.smart_schemas import (
    DateRule,
    LikedRule,
    NumberRule,
    Rule,
    RuleGroup,
    SmartRules,
    TextRule,
)

# How many songs a preview answers.
PREVIEW_SIZE = 50

# A rule's field as the column or annotation it reads.
COLUMNS = {
    "title": "title",
    "artist": "artist_name",
    "album": "album__title",
    "genre": "genre",
    "year": "year",
    "duration": "duration",
    "date_added": "created_at",
    "play_count": "smart_play_count",
    "last_played": "smart_last_played",
    "liked": "smart_liked",
    "rating": "smart_rating",
}
_TEXT_LOOKUPS = {
    "is": "iexact",
    "is_not": "iexact",
    "contains": "icontains",
    "not_contains": "icontains",
    "starts_with": "istartswith",
    "ends_with": "iendswith",
}
_NEGATED = frozenset({"is_not", "not_contains"})
_TEXT_SORTS = frozenset({"title", "artist", "album", "genre"})


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _not(q: Q, column: str) -> Q:
    """The rule's negation, a song without a value included (NOT on NULL would drop it)."""
    return ~q | Q(**{f"{column}__isnull": True})


def _text(rule: TextRule) -> Q:
    column = COLUMNS[rule.field]
    q = Q(**{f"{column}__{_TEXT_LOOKUPS[rule.operator]}": rule.value})
    return _not(q, column) if rule.operator in _NEGATED else q


def _number(rule: NumberRule) -> Q:
    column, value = COLUMNS[rule.field], rule.value
    if rule.operator == "in_range":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    if rule.operator == "is_not":
        return _not(Q(**{column: value}), column)
    lookup = {"is": "exact", "gt": "gt", "lt": "lt"}[rule.operator]
    return Q(**{f"{column}__{lookup}": value})


def _date(rule: DateRule, now: datetime) -> Q:
    column, value = COLUMNS[rule.field], rule.value
    if rule.operator == "in_the_last_days":
        return Q(**{f"{column}__gte": now - timedelta(days=value)})
    if rule.operator == "not_in_the_last_days":
        return _not(Q(**{f"{column}__gte": now - timedelta(days=value)}), column)
    if rule.operator == "before":
        return Q(**{f"{column}__lt": _day_start(value)})
    if rule.operator == "after":
        return Q(**{f"{column}__gte": _day_start(value + timedelta(days=1))})
    first, last = value
    return Q(
        **{
            f"{column}__gte": _day_start(first),
            f"{column}__lt": _day_start(last + timedelta(days=1)),
        }
    )


def _condition(node: Rule | RuleGroup, now: datetime) -> Q:
    if isinstance(node, RuleGroup):
        parts = [_condition(child, now) for child in node.rules]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if node.match == "all" else combined | part
        return combined
    if isinstance(node, TextRule):
        return _text(node)
    if isinstance(node, NumberRule):
        return _number(node)
    if isinstance(node, DateRule):
        return _date(node, now)
    assert isinstance(node, LikedRule)
    return Q(smart_liked=node.value)


def _fields_named(node: Rule | RuleGroup) -> Iterable[str]:
    if isinstance(node, RuleGroup):
        for child in node.rules:
            yield from _fields_named(child)
    else:
        yield node.field


def _listener_annotations(owner_id: int, fields: set[str]) -> dict:
    """The owner's per-song figures the rules need, as subqueries on the outer song."""
    plays = Play.objects.filter(user_id=owner_id, song=OuterRef("pk")).order_by().values("song")
    wanted = {
        "play_count": lambda: Coalesce(
            Subquery(plays.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
        ),
        "last_played": lambda: Subquery(plays.annotate(last=Max("played_at")).values("last")),
        "liked": lambda: Exists(Like.objects.filter(user_id=owner_id, song=OuterRef("pk"))),
        "rating": lambda: Coalesce(
            Subquery(
                Rating.objects.filter(user_id=owner_id, song=OuterRef("pk")).values("rating")[:1]
            ),
            0,
        ),
    }
    return {COLUMNS[name]: build() for name, build in wanted.items() if name in fields}


def _order(rules: SmartRules) -> list:
    """The sort, songs without a value last either way, ties to the older song (by id)."""
    column = COLUMNS[rules.sort]
    key = Lower(column) if rules.sort in _TEXT_SORTS else F(column)
    descending = rules.order == "desc"
    return [
        key.desc(nulls_last=True) if descending else key.asc(nulls_last=True),
        F("id").asc(),
    ]


def matching_songs(
    *, rules: SmartRules, owner_id: int, now: datetime | None = None
) -> QuerySet[Song]:
    """Every song the rules take, in their order (no limit), with `album` joined: one query."""
    now = now or datetime.now(UTC)
    fields = set(_fields_named(rules)) | {rules.sort}
    return (
        Song.objects.annotate(**_listener_annotations(owner_id, fields))
        .filter(_condition(rules, now))
        .select_related("album")
        .order_by(*_order(rules))
    )


def smart_items(*, rules: SmartRules, owner_id: int, now: datetime | None = None) -> QuerySet[Song]:
    """The playlist's songs as its items: each song with its 0-based `position` and
    `added_at` (when it came into the catalog), at most `limit`, by ("position", "id") so
    that pages and cursors work as on a manual playlist. One query per page (the limit is a
    filter on the row number, which Django computes in a subquery)."""
    songs = matching_songs(rules=rules, owner_id=owner_id, now=now)
    return (
        songs.annotate(
            position=Window(RowNumber(), order_by=_order(rules)) - 1,
            added_at=F("created_at"),
        )
        .filter(position__lt=rules.limit)
        .order_by("position", "id")
    )


def preview(*, rules: SmartRules, owner_id: int) -> list[Song]:
    """The first songs the rules would take, nothing written: one query."""
    return list(matching_songs(rules=rules, owner_id=owner_id)[: min(PREVIEW_SIZE, rules.limit)])


def summary(*, rules: SmartRules, owner_id: int) -> tuple[int, int]:
    """(song count, total seconds) of the playlist as it reads now: one query."""
    songs = matching_songs(rules=rules, owner_id=owner_id)
    durations = list(songs.values_list("duration", flat=True)[: rules.limit])
    return len(durations), sum(durations)


def rules_of(playlist: Playlist) -> SmartRules:
    return SmartRules.model_validate(playlist.rules)


def refreshed_summary(playlist: Playlist) -> tuple[int, int]:
    """A smart playlist's (song count, seconds) now, kept on its row when they changed, for
    the lists to show (a write on read, of two integers, only when they moved)."""
    count, seconds = summary(rules=rules_of(playlist), owner_id=playlist.owner_id)
    if (count, seconds) != (playlist.smart_song_count, playlist.smart_duration):
        Playlist.objects.filter(pk=playlist.pk).update(
            smart_song_count=count, smart_duration=seconds
        )
        playlist.smart_song_count, playlist.smart_duration = count, seconds
    return count, seconds
