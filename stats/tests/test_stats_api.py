from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Album, Song
from core.permissions import ADMIN_REQUIRED
from stats import selectors
from tests.helpers import DEFAULT_PASSWORD, credited
from tests.media_samples import upload, wav_bytes

STATS = "/api/stats/"


def song(title: str, artist: str, album: Album | None = None) -> Song:
    # Rows only: the stats read names, not files.
    return Song.objects.create(
        title=title, **credited(artist), album=album, duration=10, audio=f"songs/{title}.wav"
    )


def test_stats_count_songs_albums_users_and_artists(admin_client: Client, make_user):
    make_user()
    make_user(is_active=False)
    shared = Album.objects.create(title="Kind of Blue", **credited("Miles Davis"))
    Album.objects.create(title="Pastel Blues", **credited("Nina Simone"))
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


def test_total_artists_counts_artists_whatever_their_spelling_on_each_row(admin_client: Client):
    for index in range(20):
        name = f"Artist {index % 7}"
        song(f"Song {index}", name.upper() if index % 2 else name)
    song("Halo", "Beyoncé")
    song("Halo (live)", "BEYONCE")

    assert admin_client.get(STATS).json()["total_artists"] == 8


def test_stats_are_served_from_the_cache_on_the_next_call(
    admin_client: Client, django_assert_max_num_queries
):
    first = totals(admin_client)

    # Only the caller's user is read: the totals come from the cache.
    with django_assert_max_num_queries(1):
        response = admin_client.get(STATS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == first


def test_stats_refuse_listeners(auth_client: Client):
    response = auth_client.get(STATS)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": ADMIN_REQUIRED}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_stats_refuse_anonymous_callers(client: Client, db, headers):
    assert client.get(STATS, headers=headers).status_code == HTTPStatus.UNAUTHORIZED


# --- Totals that follow writes --------------------------------------------------------
# These commit for real (transactional_db): the cache is refreshed once a write commits.


def totals(client: Client) -> dict:
    response = client.get(STATS)
    assert response.status_code == HTTPStatus.OK
    return response.json()


def counting_queries(queries: CaptureQueriesContext) -> list[str]:
    """The aggregates among `queries` (the totals are four COUNTs)."""
    return [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]


def test_a_song_created_through_the_api_counts_at_the_next_read(
    admin_client: Client, transactional_db
):
    assert totals(admin_client)["total_songs"] == 0  # now cached

    created = admin_client.post(
        "/api/songs/",
        {"title": "So What", "artist": "Miles Davis", "audio_file": upload("a.wav", wav_bytes())},
    )

    assert created.status_code == HTTPStatus.CREATED
    assert totals(admin_client) == {
        "total_songs": 1,
        "total_albums": 0,
        "total_users": 1,
        "total_artists": 1,
    }


def test_deleting_an_album_through_the_api_counts_at_the_next_read(
    admin_client: Client, transactional_db, make_album, make_song
):
    album = make_album(title="Kind of Blue", artist="Miles Davis")
    make_song(title="So What", artist="Miles Davis", album=album)
    make_song(title="Strange Fruit", artist="Billie Holiday")
    assert totals(admin_client)["total_albums"] == 1

    assert admin_client.delete(f"/api/albums/{album.pk}/").status_code == HTTPStatus.NO_CONTENT

    assert totals(admin_client) == {
        "total_songs": 1,
        "total_albums": 0,
        "total_users": 1,
        "total_artists": 1,
    }


def test_renaming_an_artist_counts_at_the_next_read(
    admin_client: Client, transactional_db, make_song
):
    song_ = make_song(title="So What", artist="Miles Davis")
    make_song(title="Blue in Green", artist="Miles Davis")
    assert totals(admin_client)["total_artists"] == 1

    response = admin_client.patch(
        f"/api/songs/{song_.pk}/", {"artist": "Bill Evans"}, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.OK
    assert totals(admin_client)["total_artists"] == 2


def test_registrations_and_deactivations_count_at_the_next_read(
    admin_client: Client, staff_client: Client, transactional_db
):
    assert totals(admin_client)["total_users"] == 1

    registered = Client().post(
        "/api/auth/registration/",
        {
            "email": "new@example.com",
            "password1": "Lyric-Bassline-42",
            "password2": "Lyric-Bassline-42",
            "full_name": "New Listener",
        },
        "application/json",
    )
    assert registered.status_code == HTTPStatus.CREATED
    assert totals(admin_client)["total_users"] == 2

    # An admin action in the panel.
    staff_client.post(
        reverse("admin:users_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [registered.json()["user"]["id"]]},
    )
    assert totals(admin_client)["total_users"] == 1


def test_deleting_a_song_in_the_admin_counts_at_the_next_read(
    admin_client: Client, staff_client: Client, transactional_db, make_song
):
    song_ = make_song()
    assert totals(admin_client)["total_songs"] == 1

    staff_client.post(reverse("admin:catalog_song_delete", args=[song_.pk]), {"post": "yes"})

    assert totals(admin_client)["total_songs"] == 0


def test_a_read_storm_counts_once_and_sign_ins_do_not_recount(
    admin_client: Client, admin_user, transactional_db
):
    with CaptureQueriesContext(connection) as first:
        totals(admin_client)

    with CaptureQueriesContext(connection) as storm:
        for _ in range(20):
            totals(admin_client)
        # A sign-in saves the user's last_login: no total moves.
        signed_in = Client().post(
            "/api/auth/login/",
            {"email": admin_user.email, "password": DEFAULT_PASSWORD},
            "application/json",
        )
        assert signed_in.status_code == HTTPStatus.OK
        assert signed_in.json()["user"]["id"] == admin_user.pk
        totals(admin_client)

    assert len(counting_queries(first)) == 4
    assert counting_queries(storm) == []


def test_a_count_running_while_a_write_commits_is_not_served_after_it(
    admin_client: Client, transactional_db, make_song, monkeypatch
):
    # The first read counts, then a song is created (and committed) before that read stores
    # its totals: the stored totals are already old, and the next read must not use them.
    active_users = selectors.active_users
    writes = iter([lambda: make_song(title="Late", artist="Someone")])

    class CountThenWrite:
        def count(self) -> int:
            counted = active_users().count()
            for write in writes:
                write()
            return counted

    monkeypatch.setattr(selectors, "active_users", CountThenWrite)

    assert totals(admin_client)["total_songs"] == 0
    assert totals(admin_client)["total_songs"] == 1


def test_a_rolled_back_write_keeps_the_cached_totals(admin_client: Client, transactional_db):
    totals(admin_client)

    def create_then_fail() -> None:
        with transaction.atomic():
            song("Never", "Nobody")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        create_then_fail()

    with CaptureQueriesContext(connection) as read:
        assert totals(admin_client)["total_songs"] == 0
    assert counting_queries(read) == []
