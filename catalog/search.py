"""The catalog's search engine: `?search=` on the lists and the one search box's ranking.

A term is words (core/search.py): a row matches when each word is found in one of its
fields (a song's title, artist and album title; an album's title and artist; an artist's
name), in any order, the last word as a prefix, accents and case ignored, on the text
indexes of catalog migration 0012 (PostgreSQL full-text search, SQLite FTS5). `matching`
filters a list by `?search=` (and by `?artist=` and `?genre=`) and `search_count` counts
it; `best_matches_kept` ranks the matches for the search box (library/selectors.py, whose
playlists `ranked` orders too) and Subsonic's search3: the whole term as a title or artist
first, then every word whole, then the last word as a prefix, then (only when those find
fewer than asked) the rows found with a vocabulary word like each unknown word (typos);
ties to the more played song, then the newer row. A term with no word at all (emoji only)
is looked for literally (`containing`).

A search is never a prepared statement (only catalog/prepared.py's reads are: settings.py),
so PostgreSQL plans each for its own term; nothing here has to ask for that.
"""

import hashlib
from collections.abc import Callable, Sequence
from functools import reduce
from operator import or_
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    CharField,
    F,
    Func,
    Lookup,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Upper
from django.db.models.lookups import Exact

from catalog.models import Album, Artist, Play, Song
from catalog.selectors.rows import album_rows, artist_rows, song_rows
from core.queries import count_of
from core.search import Matches, Query, TextIndex, Tier, fuzzy_query, looked_up, words_of

_M = TypeVar("_M", Song, Album, Artist)


class _Fold(Func):
    """Text as search compares it: lower case without accents on PostgreSQL (`music_fold`,
    made by catalog migration 0003 and indexed there with trigrams), lower case elsewhere."""

    function = "LOWER"
    arity = 1
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="music_fold", **extra_context)


class _Contains(Lookup):
    """`lhs` contains `rhs` literally: `lhs LIKE '%' || rhs || '%'`, with `%`, `_` and `\\`
    in `rhs` escaped after it is folded (unaccent turns a fullwidth percent sign into `%`).

    Not Django's `contains`, which casts the left side (`::text`) on PostgreSQL, so that
    the left side stays exactly the indexed expression."""

    lookup_name = "search_contains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        pattern = connection.pattern_ops["contains"].format(connection.pattern_esc.format(rhs))
        return f"{lhs} {pattern}", [*lhs_params, *rhs_params]


def containing(term: str, columns: Sequence[str]) -> Q:
    """One of `columns` contains `term`, ignoring case (and accents on PostgreSQL): on
    PostgreSQL a BitmapOr of the columns' trigram indexes."""
    folded = _Fold(Value(term))
    return reduce(or_, (Q(_Contains(_Fold(column), folded)) for column in columns))


def genre_is(genre: str) -> Q:
    """The row's genre is `genre` ignoring case (ASCII letters only on SQLite, as `iexact`):
    UPPER on both sides, the leading column of each table's genre index."""
    return Q(Exact(Upper("genre"), Upper(Value(genre))))


VOCABULARY = "catalog_searchword"
SONGS = TextIndex("catalog_song", exact=("title", "artist"), vocabulary=VOCABULARY)
ALBUMS = TextIndex("catalog_album", exact=("title", "artist"), vocabulary=VOCABULARY)
ARTISTS = TextIndex("catalog_artist", exact=("name",), vocabulary=VOCABULARY)
_INDEXES = {Song: SONGS, Album: ALBUMS, Artist: ARTISTS}
_LITERAL_COLUMNS = {Song: ("title", "artist_name"), Album: ("title", "artist_name")}
_LITERAL_COLUMNS[Artist] = ("name",)


def found_by(rows: QuerySet, term: str) -> QuerySet:
    """`rows` (songs, albums or artists) found by every word of `term` (the last as a
    prefix); when none is, by the vocabulary's words like the unknown ones (one more query
    to know). A term without words: its rows containing it literally."""
    words = words_of(term)
    if not words:
        return rows.filter(containing(term, _LITERAL_COLUMNS[rows.model]))
    index = _INDEXES[rows.model]
    exact = rows.filter(Matches(index, Query.of(words)))
    if exact.exists():
        return exact
    fuzzy = fuzzy_query(index, words)
    return rows.filter(Matches(index, fuzzy)) if fuzzy is not None else exact


def matching(
    rows: QuerySet, *, search: str | None, artist: str | None, genre: str | None = None
) -> QuerySet:
    """Songs or albums found by `search` (`found_by`), by `artist` ignoring case, of
    `genre` ignoring case."""
    if search and search.strip():
        rows = found_by(rows, search.strip())
    if artist and artist.strip():
        rows = rows.filter(artist_name__iexact=artist.strip())
    if genre and genre.strip():
        rows = rows.filter(genre_is(genre.strip()))
    return rows


# A search found in at least this many rows has its count kept for SEARCH_COUNT_SECONDS: a
# term found in most rows (`?search=a`) folds every row to count them (over a second at a
# million songs), so it is counted once per interval rather than once per request. Smaller
# counts come from the trigram indexes and are always exact.
SEARCH_COUNT_CACHE_MIN_ROWS = 10_000
SEARCH_COUNT_SECONDS = 10


def _searches(node: object) -> bool:
    """Whether a filter tree holds a `?search=` condition."""
    if isinstance(node, (_Contains, Matches)):
        return True
    inner = [*getattr(node, "children", ()), *[getattr(node, "lhs", None)] * hasattr(node, "lhs")]
    return any(_searches(child) for child in inner)


def search_count(rows: QuerySet) -> int | None:
    """The count of a song or album list filtered by `?search=`, None for any other list.

    Exact, except that a count of at least SEARCH_COUNT_CACHE_MIN_ROWS may be up to
    SEARCH_COUNT_SECONDS old. The cache key is a hash of the list's database, model and SQL
    with its parameters (the term and every other filter), ordering aside."""
    if not _searches(rows.query.where):
        return None
    unordered = rows.order_by()
    sql, params = unordered.query.sql_with_params()
    identity = repr((unordered.db, rows.model._meta.label, sql, params))
    key = "catalog:search-count:" + hashlib.sha256(identity.encode()).hexdigest()
    count = cache.get(key)
    if count is None:
        count = unordered.count()
        if count >= SEARCH_COUNT_CACHE_MIN_ROWS:
            cache.set(key, count, SEARCH_COUNT_SECONDS)
    return count


# --- The one search box (its playlists part is library's) --------------------------------

# A term is looked for in at most this many rows of each kind, which are then ranked: a
# term found in most of a million songs ("song") costs 45 ms instead of 3 s, and the best
# match among the first 1,000 found leads. Selective terms are ranked over every match.
SEARCH_CANDIDATES = 1_000


def ranked(
    rows: QuerySet,
    *,
    index: TextIndex,
    term: str,
    limit: int,
    within: Q | None = None,
    ties: Sequence[str] = ("-created_at", "-pk"),
    annotations: dict | None = None,
) -> list:
    """The first `limit` of `rows` found by `term`, best first: exact (3), every word whole
    (2), the last word a prefix (1); when none is found, by the typos' words (0).
    `within`: the condition `rows` already hold. `ties`: the order within a rank, by the
    `annotations` given. At most SEARCH_CANDIDATES rows of each pass are ranked."""
    words = words_of(term)
    extra = annotations or {}
    if not words:
        columns = _LITERAL_COLUMNS.get(rows.model, index.exact)
        return list(rows.filter(containing(term, columns)).alias(**extra).order_by(*ties)[:limit])

    def one_pass(query: Query, tier) -> list:
        candidates = rows.model.objects.filter(within or Q(), Matches(index, query))
        ids = candidates.order_by().values("pk")[:SEARCH_CANDIDATES]
        found = rows.filter(pk__in=ids).alias(search_rank=tier, **extra)
        return list(found.order_by(F("search_rank").desc(), *ties)[:limit])

    # One pass finds the rows with every word, the last whole or as the start of a word, and
    # ranks them (3, 2, 1); the fuzzy step follows when it found nothing. When the last word
    # is a whole word of the vocabulary, the words it starts are looked for by name
    # (`Vocabulary.completions`) rather than as `word:*`, which would first gather every row
    # of every word it starts, its own included (a million rows for "song" at a million
    # songs); when it is not ("zeph", as typed), `word:*` is cheap and complete. A pass the
    # vocabulary says must find nothing (a word no row holds) is skipped.
    vocabulary = looked_up(index, words)
    found = []
    if vocabulary.may_match:
        if vocabulary.known[-1]:
            last = (words[-1], *vocabulary.completions)
            query = Query((*[(word,) for word in words[:-1]], last), prefix=False)
        else:
            query = Query.of(words)
        found = one_pass(query, Tier(index, term, words))
    if not found:
        fuzzy = fuzzy_query(index, words)
        if fuzzy is not None:
            found = one_pass(fuzzy, Value(0))
    return found


def best_matches_kept(
    kind: str,
    *,
    rows: Callable[[], QuerySet[_M]],
    term: str,
    limit: int,
    rank: Callable[[QuerySet, str, int], list[_M]],
) -> list[_M]:
    """The first `limit` of `rows()` matching `term`, best first, as `rank(rows, term,
    limit)` orders them.

    The ranked ids are kept SEARCH_CACHE_SECONDS per `kind` and term: the same term again (by
    anyone who shares `kind`) costs one read of those rows by id, neither a search nor the
    building of its query. The rows are read fresh from `rows()` either way, so an edit shows
    at once and a row deleted, or no longer in `rows()`, drops out; a new row is found once
    the term's ranking expires."""
    seconds = settings.SEARCH_CACHE_SECONDS
    identity = f"{connection.alias}\0{kind}\0{limit}\0{term.casefold()}"
    key = "catalog:search:" + hashlib.sha256(identity.encode()).hexdigest()
    ids = cache.get(key) if seconds else None
    if ids is None:
        found = rank(rows(), term, limit)
        if seconds:
            cache.set(key, [row.pk for row in found], seconds)
        return found
    by_id = rows().in_bulk(ids) if ids else {}
    return [by_id[pk] for pk in ids if pk in by_id]


def _rank_songs(rows: QuerySet, term: str, limit: int) -> list[Song]:
    return ranked(
        rows,
        index=SONGS,
        term=term,
        limit=limit,
        ties=("-search_plays", "-created_at", "-pk"),
        annotations={"search_plays": count_of(Play, "song")},
    )


def songs_matching(*, term: str, limit: int) -> list[Song]:
    """Songs by title, credited artist or album title, best match first (ties: the more
    played, then the newer)."""
    return best_matches_kept("songs", rows=song_rows, term=term, limit=limit, rank=_rank_songs)


def albums_matching(*, term: str, limit: int) -> list[Album]:
    """Albums by title or credited artist, best match first (ties: the newer)."""

    def rank(rows: QuerySet, term: str, limit: int) -> list[Album]:
        return ranked(rows, index=ALBUMS, term=term, limit=limit)

    return best_matches_kept("albums", rows=album_rows, term=term, limit=limit, rank=rank)


def artists_matching(*, term: str, limit: int) -> list[Artist]:
    """Credited artists by name, best match first (ties: the newer)."""

    def rank(rows: QuerySet, term: str, limit: int) -> list[Artist]:
        # `rows` are credited artists: an uncredited name (rare) only takes a candidate's place.
        return ranked(rows, index=ARTISTS, term=term, limit=limit)

    return best_matches_kept("artists", rows=artist_rows, term=term, limit=limit, rank=rank)
