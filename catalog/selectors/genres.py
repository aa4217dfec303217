"""The genres with their counts.

A genre is a song's or album's `genre` text, compared ignoring case: "rock" and "Rock" are
one genre, here and in `?genre=` (`catalog.search.genre_is`: UPPER on both sides, as the
genre index of each table is built, catalog/models.py). Writes keep one spelling per genre
(`services.genre_spelling`); should a genre have several all the same (rows written around
the services), it is named by the spelling most of its songs and albums use (ties: the
first in code-point order), as an artist is (catalog migration 0006).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Value
from django.db.models.functions import Upper

from catalog.models import Album, Song
from catalog.selectors.discovery import refreshed

# The genre list's cache key: bump the version when `Genre` changes.
GENRES_KEY = "catalog:genres:v1"


@dataclass(frozen=True)
class Genre:
    name: str
    song_count: int
    album_count: int


def genre_list() -> list[Genre]:
    """Every genre some song or album has, with how many of each, by name ignoring case.

    Recomputed at most once per DISCOVERY_REFRESH_SECONDS for all processes (as trending is:
    `discovery.refreshed`): counting reads every row that has a genre, about half a second
    at a million songs even from the genre indexes alone."""
    return refreshed(GENRES_KEY, _counted_genres)


def _spellings(model: type[Song] | type[Album]) -> QuerySet:
    """(genre key, spelling, songs, albums) per spelling of the genres of `model`'s rows, one
    of the two counts zero: a scan of its genre index (index-only on PostgreSQL)."""
    counted = Count("pk")
    return (
        model.objects.annotate(genre_key=Upper("genre"))
        .filter(genre_key__isnull=False)
        .order_by()
        .values_list("genre_key", "genre")
        .annotate(
            songs=counted if model is Song else Value(0),
            albums=counted if model is Album else Value(0),
        )
    )


def _counted_genres() -> list[Genre]:
    """The genre list counted now: both tables' spellings in one query (a UNION of two
    grouped scans), added up here per genre."""
    songs: Counter[str] = Counter()
    albums: Counter[str] = Counter()
    spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for key, spelling, song_count, album_count in _spellings(Song).union(
        _spellings(Album), all=True
    ):
        songs[key] += song_count
        albums[key] += album_count
        spellings[key][spelling] += song_count + album_count
    genres = [
        Genre(
            name=min(named, key=lambda spelling: (-named[spelling], spelling)),
            song_count=songs[key],
            album_count=albums[key],
        )
        for key, named in spellings.items()
    ]
    return sorted(genres, key=lambda genre: (genre.name.casefold(), genre.name))
