"""The shape each kind of catalog row is read in for its responses, shared by the selectors
and the search engine (catalog/search.py)."""

from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from catalog.models import Album, Artist, Song


def song_rows() -> QuerySet[Song]:
    # The album is joined for the image fallback of SongOut.
    return Song.objects.select_related("album")


def album_rows() -> QuerySet[Album]:
    return Album.objects.annotate(song_count=Count("songs"))


def _rows_of_artist(model: type[Song] | type[Album]) -> Coalesce:
    """How many songs (or albums) credit the outer artist: one count on the by-artist index
    per artist of a page, not a join that multiplies the two counts."""
    rows = (
        model.objects.filter(artist=OuterRef("pk"))
        .order_by()
        .values("artist")
        .annotate(rows=Count("id"))
        .values("rows")
    )
    return Coalesce(Subquery(rows), 0)


def credited() -> Q:
    """The artist is credited by some song or album."""
    return reduce(
        or_,
        (
            Q(Exists(model.objects.filter(artist=OuterRef("pk")).order_by()))
            for model in (Song, Album)
        ),
    )


def credited_artists() -> QuerySet[Artist]:
    """Artists some song or album credits. An artist whose last song and album went stays a
    row (for the admin, which can delete it) but is not listed, counted or shown: deleting
    it then would race a new song crediting it."""
    return Artist.objects.filter(credited())


def artist_rows() -> QuerySet[Artist]:
    return credited_artists().annotate(
        song_count=_rows_of_artist(Song), album_count=_rows_of_artist(Album)
    )
