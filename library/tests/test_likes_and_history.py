"""Likes (`/api/songs/{id}/like/`, `/api/me/likes/`) and history (`/api/me/history/`): the
listener's library, served by library/controllers.py."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import Like, Play
from catalog.selectors.songs import SONG_NOT_FOUND
from config.api import AUTHENTICATION_REQUIRED
from core.schemas import MAX_ID
from library import services
from library.schemas import IDS_COUNT, IDS_INVALID, MAX_CONTAINS_IDS
from tests.api_shapes import song_out
from tests.helpers import iso

LIKES = "/api/me/likes/"
CONTAINS = "/api/me/likes/contains/"
HISTORY = "/api/me/history/"


def like_url(song_id: int) -> str:
    return f"/api/songs/{song_id}/like/"


def ids_error(message: str) -> dict:
    return {"detail": [{"loc": ["query", "ids"], "msg": message, "type": "value_error"}]}


@pytest.fixture
def songs(make_song, make_album):
    album = make_album(image=True)
    return [make_song(f"Song {number}", album=album if number % 2 else None) for number in range(4)]


def liked(song, moment) -> dict:
    return {"liked_at": iso(moment), "song": song_out(song, image=None)}


# --- Liking -----------------------------------------------------------------------------


def test_liking_twice_is_one_like_that_keeps_its_first_date(auth_client: Client, user, songs):
    first = auth_client.put(like_url(songs[0].pk))
    like = Like.objects.get()
    second = auth_client.put(like_url(songs[0].pk))

    assert (first.status_code, second.status_code) == (HTTPStatus.NO_CONTENT, HTTPStatus.NO_CONTENT)
    assert first.content == second.content == b""
    assert list(Like.objects.values_list("user", "song", "liked_at")) == [
        (user.pk, songs[0].pk, like.liked_at)
    ]


def test_unliking_twice_is_fine_and_leaves_other_likes(auth_client: Client, user, songs):
    services.song_like(user=user, song_id=songs[0].pk)
    services.song_like(user=user, song_id=songs[1].pk)

    first = auth_client.delete(like_url(songs[0].pk))
    second = auth_client.delete(like_url(songs[0].pk))

    assert (first.status_code, second.status_code) == (HTTPStatus.NO_CONTENT, HTTPStatus.NO_CONTENT)
    assert list(Like.objects.values_list("song", flat=True)) == [songs[1].pk]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_likes_need_a_listener(client: Client, method, songs):
    response = getattr(client, method)(like_url(songs[0].pk))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": AUTHENTICATION_REQUIRED}
    assert not Like.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_an_unknown_song_is_a_404(auth_client: Client, method, db):
    response = getattr(auth_client, method)(like_url(999))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": SONG_NOT_FOUND}
    assert not Like.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_an_id_beyond_any_row_is_a_422(auth_client: Client, method, db):
    response = getattr(auth_client, method)(like_url(MAX_ID + 1))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["path", "song_id"]
    assert not Like.objects.exists()


def test_a_deleted_song_takes_its_likes_and_keeps_nobody_elses(user, make_user, songs):
    other = make_user()
    for who in (user, other):
        services.song_like(user=who, song_id=songs[0].pk)
    services.song_like(user=other, song_id=songs[1].pk)

    catalog_services.song_delete(song_id=songs[0].pk)

    assert list(Like.objects.values_list("user", "song")) == [(other.pk, songs[1].pk)]


def test_a_deleted_account_takes_its_likes(user, make_user, songs):
    other = make_user()
    services.song_like(user=user, song_id=songs[0].pk)
    services.song_like(user=other, song_id=songs[0].pk)

    user.delete()

    assert list(Like.objects.values_list("user", flat=True)) == [other.pk]


# --- The list of likes ----------------------------------------------------------------


def _like_at(user, song, moment) -> Like:
    return Like.objects.create(user=user, song=song, liked_at=moment)


def test_likes_are_listed_newest_first_without_anyone_elses(
    auth_client: Client, user, make_user, songs
):
    now = timezone.now()
    _like_at(user, songs[0], now - timedelta(minutes=2))
    _like_at(user, songs[1], now)
    _like_at(user, songs[2], now - timedelta(minutes=1))
    _like_at(make_user(), songs[3], now + timedelta(minutes=1))

    response = auth_client.get(LIKES)

    assert response.status_code == HTTPStatus.OK
    album_cover = songs[1].album.image.name
    assert response.json() == {
        "items": [
            {"liked_at": iso(now), "song": song_out(songs[1], image=album_cover)},
            liked(songs[2], now - timedelta(minutes=1)),
            liked(songs[0], now - timedelta(minutes=2)),
        ],
        "count": 3,
        "next": None,
    }


def test_likes_come_in_pages_by_offset_and_by_cursor(auth_client: Client, user, songs):
    now = timezone.now()
    for number, song in enumerate(songs):
        _like_at(user, song, now - timedelta(minutes=number))

    first = auth_client.get(LIKES, {"limit": 3}).json()
    after = auth_client.get(LIKES, {"limit": 3, "cursor": first["next"]}).json()
    skipped = auth_client.get(LIKES, {"limit": 3, "offset": 3}).json()

    assert [item["song"]["id"] for item in first["items"]] == [song.pk for song in songs[:3]]
    assert first["count"] == 4
    assert [item["song"]["id"] for item in after["items"]] == [songs[3].pk]
    assert after["next"] is None
    assert skipped["items"] == after["items"]


def test_likes_need_a_listener_and_valid_page_parameters(client: Client, auth_client: Client, db):
    anonymous = client.get(LIKES)
    too_many = auth_client.get(LIKES, {"limit": 201})

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert too_many.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("path", [LIKES, HISTORY])
def test_a_page_costs_the_same_queries_whatever_its_size(
    auth_client: Client, user, songs, path, django_assert_num_queries
):
    for song in songs:
        Like.objects.create(user=user, song=song)
        Play.objects.create(user=user, song=song)

    # The caller (token auth), then the page; a page before the last also counts.
    with django_assert_num_queries(2):
        whole = auth_client.get(path, {"limit": 200})
    with django_assert_num_queries(3):
        one = auth_client.get(path, {"limit": 1})
    with django_assert_num_queries(3):
        three = auth_client.get(path, {"limit": 3})

    pages = (whole, one, three)
    assert [page.status_code for page in pages] == [HTTPStatus.OK] * 3
    assert [len(page.json()["items"]) for page in pages] == [len(songs), 1, 3]


# --- Which songs are liked ----------------------------------------------------------------


def test_contains_answers_in_the_order_asked_in_one_query(
    auth_client: Client, user, make_user, songs, django_assert_num_queries
):
    services.song_like(user=user, song_id=songs[2].pk)
    services.song_like(user=user, song_id=songs[0].pk)
    services.song_like(user=make_user(), song_id=songs[1].pk)
    ids = [songs[0].pk, songs[1].pk, 999, songs[2].pk, songs[0].pk]

    with django_assert_num_queries(2):  # the caller, then the likes
        response = auth_client.get(CONTAINS, {"ids": ",".join(map(str, ids))})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [True, False, False, True, True]


def test_contains_also_takes_the_ids_repeated(auth_client: Client, user, songs):
    services.song_like(user=user, song_id=songs[1].pk)

    response = auth_client.get(CONTAINS, {"ids": [songs[0].pk, songs[1].pk]})

    assert response.json() == [False, True]


def test_contains_takes_up_to_the_limit_of_ids(auth_client: Client, db):
    response = auth_client.get(CONTAINS, {"ids": ",".join(["1"] * MAX_CONTAINS_IDS)})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [False] * MAX_CONTAINS_IDS


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("", IDS_INVALID),
        (",".join(["1"] * (MAX_CONTAINS_IDS + 1)), IDS_COUNT),
        ("1,,2", IDS_INVALID),
        ("1,two", IDS_INVALID),
        ("1, 2", IDS_INVALID),
        ("-1", IDS_INVALID),
        ("0", IDS_INVALID),
        ("1.0", IDS_INVALID),
        (str(MAX_ID + 1), IDS_INVALID),
    ],
)
def test_contains_refuses_bad_ids(auth_client: Client, db, ids, message):
    response = auth_client.get(CONTAINS, {"ids": ids})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == ids_error(message)


def test_contains_needs_ids_and_a_listener(client: Client, auth_client: Client, db):
    missing = auth_client.get(CONTAINS)
    anonymous = client.get(CONTAINS, {"ids": "1"})

    assert missing.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert missing.json()["detail"][0]["loc"] == ["query", "ids"]
    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED


# --- History ----------------------------------------------------------------------------


def test_history_lists_the_callers_plays_newest_first(auth_client: Client, user, make_user, songs):
    now = timezone.now()
    old = Play.objects.create(user=user, song=songs[0], played_at=now - timedelta(hours=1))
    new = Play.objects.create(user=user, song=songs[1], played_at=now)
    again = Play.objects.create(user=user, song=songs[0], played_at=now - timedelta(minutes=1))
    Play.objects.create(user=make_user(), song=songs[2], played_at=now)

    response = auth_client.get(HISTORY)

    assert response.status_code == HTTPStatus.OK
    album_cover = songs[1].album.image.name
    assert response.json() == {
        "items": [
            {"played_at": iso(new.played_at), "song": song_out(songs[1], image=album_cover)},
            {"played_at": iso(again.played_at), "song": song_out(songs[0])},
            {"played_at": iso(old.played_at), "song": song_out(songs[0])},
        ],
        "count": 3,
        "next": None,
    }


def test_history_comes_in_pages_and_needs_a_listener(
    client: Client, auth_client: Client, user, songs
):
    now = timezone.now()
    for number, song in enumerate(songs):
        Play.objects.create(user=user, song=song, played_at=now - timedelta(minutes=number))

    first = auth_client.get(HISTORY, {"limit": 2}).json()
    second = auth_client.get(HISTORY, {"limit": 2, "cursor": first["next"]}).json()
    anonymous = client.get(HISTORY)

    assert first["count"] == 4
    assert [item["song"]["id"] for item in first["items"] + second["items"]] == [
        song.pk for song in songs
    ]
    assert second["next"] is None
    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
