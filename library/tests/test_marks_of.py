"""library.selectors.marks_of: a page's stars and ratings in one query, as the separate reads
(song_stars_of, song_ratings_of, album_stars_of, album_ratings_of) answer them."""

from datetime import datetime

import pytest

from library import selectors, services


@pytest.fixture
def page(make_song, make_album):
    album = make_album("Kind of Blue", "Miles Davis")
    other = make_album("Blue Train", "John Coltrane")
    songs = [make_song(f"Track {n}", "Miles Davis", album=album) for n in range(4)]
    return album, other, songs


def test_one_query_answers_what_the_three_reads_answer(
    user, make_user, page, django_assert_num_queries
):
    album, other, songs = page
    services.stars_add(user=user, song_ids=[songs[0].pk, songs[2].pk], album_ids=[album.pk])
    services.song_rate(user=user, song_id=songs[2].pk, rating=4)
    services.song_rate(user=user, song_id=songs[3].pk, rating=1)
    services.album_rate(user=user, album_id=album.pk, rating=3)
    someone_else = make_user(email="else@example.com")
    services.stars_add(user=someone_else, song_ids=[songs[1].pk], album_ids=[other.pk])
    services.song_rate(user=someone_else, song_id=songs[1].pk, rating=5)
    services.album_rate(user=someone_else, album_id=other.pk, rating=2)
    song_ids = [song.pk for song in songs]

    with django_assert_num_queries(1):
        marks = selectors.marks_of(user=user, song_ids=song_ids, album_ids=[album.pk, other.pk])

    assert marks.song_stars == selectors.song_stars_of(user=user, song_ids=song_ids)
    assert set(marks.song_stars) == {songs[0].pk, songs[2].pk}
    assert all(
        isinstance(moment, datetime) and moment.tzinfo for moment in marks.song_stars.values()
    )
    assert marks.song_ratings == {songs[2].pk: 4, songs[3].pk: 1}
    assert marks.album_stars == selectors.album_stars_of(user=user, album_ids=[album.pk, other.pk])
    assert set(marks.album_stars) == {album.pk}
    assert marks.album_ratings == {album.pk: 3}


def test_songs_alone_or_albums_alone_cost_one_query_and_no_ids_none(
    user, page, django_assert_num_queries
):
    album, _, songs = page
    services.stars_add(user=user, song_ids=[songs[0].pk], album_ids=[album.pk])

    with django_assert_num_queries(1):
        songs_only = selectors.marks_of(user=user, song_ids=[songs[0].pk])
    with django_assert_num_queries(1):
        albums_only = selectors.marks_of(user=user, song_ids=[], album_ids=[album.pk])
    with django_assert_num_queries(0):
        nothing = selectors.marks_of(user=user, song_ids=[])

    assert (set(songs_only.song_stars), songs_only.album_stars) == ({songs[0].pk}, {})
    assert (albums_only.song_stars, set(albums_only.album_stars)) == ({}, {album.pk})
    assert nothing == selectors.Marks(
        song_stars={}, song_ratings={}, album_stars={}, album_ratings={}
    )
