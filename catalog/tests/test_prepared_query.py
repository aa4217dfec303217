"""catalog/prepared.py: a queryset compiled once answers as the ORM would, for any value."""

import pytest
from django.db import connection

from catalog.models import Song
from catalog.prepared import PreparedQuery, PreparedValues

pytestmark = pytest.mark.django_db

BY_ID = PreparedQuery(lambda song_id: Song.objects.select_related("album").filter(pk=song_id))
BY_ALBUM = PreparedQuery(
    lambda album_id: Song.objects.filter(album_id=album_id).order_by("created_at", "id")
)


def fields(song: Song) -> tuple:
    return (song.pk, song.title, song.artist_name, song.album_id, song.created_at, song.audio.name)


def test_each_value_reads_its_own_rows_as_the_orm_does(
    make_song, make_album, django_assert_num_queries
):
    album = make_album()
    songs = [make_song(f"Track {n}", album=album if n else None) for n in range(3)]

    for song in songs:
        with django_assert_num_queries(1):  # the album comes joined, as select_related does
            (found,) = BY_ID.rows(song.pk)
            album_title = found.album.title if found.album_id else None
        assert fields(found) == fields(Song.objects.get(pk=song.pk))
        assert album_title == (album.title if song.album_id else None)

    assert [fields(song) for song in BY_ALBUM.rows(album.pk)] == [
        fields(song) for song in Song.objects.filter(album=album).order_by("created_at", "id")
    ]


def test_an_unknown_value_finds_nothing(db):
    assert BY_ID.rows(987654) == []


@pytest.mark.postgres_only
def test_on_postgresql_its_statement_alone_is_prepared_once_and_reused(make_song):
    song = make_song()
    same_read = Song.objects.select_related("album").filter(pk=song.pk)

    for _ in range(6):
        assert BY_ID.rows(song.pk)[0].pk == song.pk
        # The same SQL through the ORM: run as often, never prepared (prepare_threshold None).
        assert list(same_read.all()) == [song]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        ((statement, runs),) = cursor.fetchall()

    sql, _ = same_read.query.sql_with_params()
    assert statement == sql.replace("%s", "$1")
    assert runs == 6  # the six reads of BY_ID, prepared once; none of the ORM's
    assert connection.connection.prepare_threshold is None  # as it was before each read


def test_a_query_that_does_not_use_its_value_once_is_refused(db):
    twice = PreparedQuery(lambda value: Song.objects.filter(pk=value, album_id=value))

    with pytest.raises(ValueError, match="once"):
        twice.rows(1)


def test_a_text_value_reads_its_rows_as_the_orm_does(make_song):
    """A text column's filter turns the placeholder into text: it is found there too."""
    by_title = PreparedQuery(lambda title: Song.objects.filter(title=title).order_by("id"))
    blue, _ = make_song("Blue in Green"), make_song("So What")

    assert [song.pk for song in by_title.rows("Blue in Green")] == [blue.pk]
    assert by_title.rows("Flamenco Sketches") == []


# --- PreparedValues: compiled once per number of values -----------------------------------

TITLES_OF = PreparedValues(
    lambda albums, songs: (
        Song.objects.filter(album_id__in=albums, pk__in=songs)
        .order_by("id")
        .values_list("pk", "title", "created_at")
    )
)


def test_values_read_as_the_orm_reads_them_whatever_their_number(
    make_song, make_album, django_assert_num_queries
):
    album, other = make_album(), make_album("Other")
    songs = [make_song(f"Track {n}", album=album) for n in range(4)]
    elsewhere = make_song("Elsewhere", album=other)

    for chosen in ([songs[0]], songs[1:3], [*songs, elsewhere], [elsewhere]):
        pks = [song.pk for song in chosen]
        with django_assert_num_queries(1):
            found = TITLES_OF.rows([album.pk], pks)
        expected = Song.objects.filter(album=album, pk__in=pks).order_by("id")
        assert found == list(expected.values_list("pk", "title", "created_at"))
    assert TITLES_OF.rows([album.pk, other.pk], [elsewhere.pk])[0][:2] == (
        elsewhere.pk,
        "Elsewhere",
    )


def test_values_compiled_once_per_shape_and_the_oldest_shape_dropped(make_song, monkeypatch):
    song = make_song()
    read = PreparedValues(lambda songs: Song.objects.filter(pk__in=songs).values_list("pk"))
    monkeypatch.setattr(PreparedValues, "MAX_SHAPES", 2)
    compiled = []
    real_compile = PreparedValues._compile
    monkeypatch.setattr(
        PreparedValues,
        "_compile",
        lambda self, shapes, shape: compiled.append(shape) or real_compile(self, shapes, shape),
    )

    for ids in ([song.pk], [song.pk], [song.pk, 0], [song.pk, 0, 1], [song.pk]):
        assert read.rows(ids) == [(song.pk,)]

    # (1,) compiled, kept, then dropped for (3,) as the oldest of two, so compiled again.
    assert compiled == [(1,), (2,), (3,), (1,)]


def test_a_values_read_that_leaves_out_a_value_is_refused(db):
    first_only = PreparedValues(lambda songs: Song.objects.filter(pk=songs[0]).values_list("pk"))

    with pytest.raises(ValueError, match="each of its values"):
        first_only.rows([1, 2])


@pytest.mark.postgres_only
def test_on_postgresql_prepared_values_are_prepared_once_per_shape(make_song):
    song = make_song()
    read = PreparedValues(
        lambda songs: Song.objects.filter(pk__in=songs).values_list("pk"), prepare=True
    )

    for _ in range(3):
        assert read.rows([song.pk]) == [(song.pk,)]
        assert read.rows([song.pk, 0]) == [(song.pk,)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s ORDER BY length(statement)",
            ['%"catalog_song"."id" IN ($1%'],
        )
        prepared = cursor.fetchall()

    assert [(statement.count("$"), runs) for statement, runs in prepared] == [(1, 3), (2, 3)]
    assert connection.connection.prepare_threshold is None
