from http import HTTPStatus

import pytest
from django.test import Client

from catalog.models import Album, Song
from core.permissions import ADMIN_REQUIRED
from stats.selectors import count_distinct_artists

STATS = "/api/stats/"


def song(title: str, artist: str, album: Album | None = None) -> Song:
    # Rows only: the stats read names, not files.
    return Song.objects.create(
        title=title, artist=artist, album=album, duration=10, audio=f"songs/{title}.wav"
    )


def test_stats_count_songs_albums_users_and_artists(admin_client: Client, make_user):
    make_user()
    make_user(is_active=False)
    shared = Album.objects.create(title="Kind of Blue", artist="Miles Davis")
    Album.objects.create(title="Pastel Blues", artist="Nina Simone")
    song("So What", "Miles Davis", shared)  # an artist on a song and an album counts once
    song("Freddie Freeloader", "MILES DAVIS")  # names differing only in case count once
    song("Feeling Good", "nina simone")
    song("Strange Fruit", "Billie Holiday")

    response = admin_client.get(STATS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "total_songs": 4,
        "total_albums": 2,
        "total_users": 2,  # the admin and the active listener
        "total_artists": 3,
    }


def test_stats_of_an_empty_catalog(admin_client: Client):
    assert admin_client.get(STATS).json() == {
        "total_songs": 0,
        "total_albums": 0,
        "total_users": 1,
        "total_artists": 0,
    }


def test_distinct_artists_is_one_query(db, django_assert_num_queries):
    for index in range(20):
        song(f"Song {index}", f"Artist {index % 7}")

    with django_assert_num_queries(1):
        assert count_distinct_artists() == 7


def test_stats_are_served_from_the_cache_on_the_next_call(
    admin_client: Client, django_assert_max_num_queries
):
    admin_client.get(STATS)

    # Only the caller's user is read: the totals come from the cache.
    with django_assert_max_num_queries(1):
        response = admin_client.get(STATS)

    assert response.status_code == HTTPStatus.OK


def test_stats_refuse_listeners(auth_client: Client):
    response = auth_client.get(STATS)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": ADMIN_REQUIRED}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_stats_refuse_anonymous_callers(client: Client, db, headers):
    assert client.get(STATS, headers=headers).status_code == HTTPStatus.UNAUTHORIZED
