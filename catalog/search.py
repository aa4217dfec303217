"""The catalog's search engine: `?search=` on the lists and the one search box's ranking.

Text is compared folded (`_Fold`: lower case, and without accents on PostgreSQL) with a
literal "contains" (`_Contains`) that PostgreSQL answers from the trigram indexes of catalog
migrations 0003 and 0006 (and library's for playlists). `matching` filters a list by
`?search=` (and by `?artist=` and `?genre=`) and `search_count` counts it; `best_match_first`
ranks the matches and `best_matches_kept` keeps a term's ranking for the search box
(library/selectors.py).

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
    Case,
    CharField,
    F,
    FloatField,
    Func,
    IntegerField,
    Lookup,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Greatest, Length, Upper
from django.db.models.lookups import Exact

from catalog.models import Album, Artist, Song
from catalog.selectors.rows import album_rows, artist_rows, credited, song_rows

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


def matching(
    rows: QuerySet, *, search: str | None, artist: str | None, genre: str | None = None
) -> QuerySet:
    """Songs or albums whose title or artist contains `search` (ignoring case, and accents on
    PostgreSQL), by `artist` ignoring case, of `genre` ignoring case."""
    if search and search.strip():
        rows = rows.filter(containing(search.strip(), ("title", "artist_name")))
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
    if isinstance(node, _Contains):
        return True
    return any(_searches(child) for child in getattr(node, "children", ()))


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


class _Similarity(Func):
    """pg_trgm's similarity of two texts, 0 to 1."""

    function = "similarity"
    arity = 2
    output_field = FloatField()


def best_match_first(
    rows: QuerySet, *, columns: Sequence[str], term: str, within: Q | None = None
) -> QuerySet:
    """`rows` whose `columns` contain `term` (as `?search=` matches: case, and on PostgreSQL
    accents, ignored), best match first. `within`: the condition `rows` already hold (the
    candidates are looked for among those rows only).

    PostgreSQL finds them on the trigram indexes and ranks them by trigram similarity to the
    term; SQLite ranks an exact match first, then a prefix, then the rest. Ties: the shorter
    first text, then the newest row."""
    found = containing(term, columns)
    candidates = rows.model.objects.filter(within or Q(), found).order_by().values("pk")
    candidates = candidates[:SEARCH_CANDIDATES]
    if connection.vendor == "postgresql":
        folded = _Fold(Value(term))
        similarities = [_Similarity(_Fold(column), folded) for column in columns]
        rank = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
    else:
        lowered = term.lower()
        rank = Case(
            When(reduce(or_, (Q(**{f"{column}__iexact": lowered}) for column in columns)), then=2),
            When(
                reduce(or_, (Q(**{f"{column}__istartswith": lowered}) for column in columns)),
                then=1,
            ),
            default=0,
            output_field=IntegerField(),
        )
    ranked = rows.filter(pk__in=candidates).alias(search_rank=rank)
    return ranked.order_by(F("search_rank").desc(), Length(columns[0]), "-pk")


def best_matches_kept(
    kind: str,
    *,
    rows: Callable[[], QuerySet[_M]],
    columns: Sequence[str],
    term: str,
    limit: int,
    within: Callable[[], Q] | None = None,
) -> list[_M]:
    """The first `limit` of `rows()` matching `term`, best first (`best_match_first`, where
    `within()` is what `rows()` already holds to).

    The ranked ids are kept SEARCH_CACHE_SECONDS per `kind` and term: the same term again (by
    anyone who shares `kind`) costs one read of those rows by id, neither a trigram search nor
    the building of its query (a few milliseconds of the ORM's time). The rows are read fresh
    from `rows()` either way, so an edit shows at once and a row deleted, or no longer in
    `rows()`, drops out; a new row is found once the term's ranking expires."""
    seconds = settings.SEARCH_CACHE_SECONDS
    identity = f"{connection.alias}\0{kind}\0{limit}\0{term.casefold()}"
    key = "catalog:search:" + hashlib.sha256(identity.encode()).hexdigest()
    ids = cache.get(key) if seconds else None
    if ids is None:
        condition = within() if within is not None else None
        ranked = best_match_first(rows(), columns=columns, term=term, within=condition)
        found = list(ranked[:limit])
        if seconds:
            cache.set(key, [row.pk for row in found], seconds)
        return found
    by_id = rows().in_bulk(ids) if ids else {}
    return [by_id[pk] for pk in ids if pk in by_id]


def songs_matching(*, term: str, limit: int) -> list[Song]:
    """Songs by title or credited artist, best match first."""
    columns = ("title", "artist_name")
    return best_matches_kept("songs", rows=song_rows, columns=columns, term=term, limit=limit)


def albums_matching(*, term: str, limit: int) -> list[Album]:
    """Albums by title or credited artist, best match first."""
    columns = ("title", "artist_name")
    return best_matches_kept("albums", rows=album_rows, columns=columns, term=term, limit=limit)


def artists_matching(*, term: str, limit: int) -> list[Artist]:
    """Credited artists by name, best match first."""
    return best_matches_kept(
        "artists", rows=artist_rows, columns=("name",), term=term, limit=limit, within=credited
    )
