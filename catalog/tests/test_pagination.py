"""Cursor pagination: `next` walks a whole list once, in order, whatever is inserted meanwhile."""

import random
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from catalog.models import Song
from core.pagination import (
    CURSOR_INVALID,
    CURSOR_OTHER_LIST,
    CURSOR_OTHER_QUERY,
    CURSOR_WITH_OFFSET,
)
from messaging.models import Message
from tests.helpers import bearer, credited

SONGS = "/api/songs/"


def add_songs(count: int, *, start: int = 0, at=None) -> list[Song]:
    moment = at or timezone.now()
    songs = [
        Song(
            title=f"Song {random.choice('ABC')}",  # many equal titles: the id breaks ties
            **credited("Artist"),
            duration=60,
            audio="songs/shared.wav",
            # Groups of three share a timestamp, so created_at ties too.
            created_at=moment - timedelta(seconds=(start + index) // 3),
        )
        for index in range(count)
    ]
    return Song.objects.bulk_create(songs)


def walk(client: Client, query: dict) -> tuple[list[int], int]:
    """Follow `next` from the first page; the ids seen and the number of pages."""
    seen: list[int] = []
    response = client.get(SONGS, query).json()
    pages = 1
    while True:
        seen += [item["id"] for item in response["items"]]
        if response["next"] is None:
            return seen, pages
        response = client.get(SONGS, {**query, "cursor": response["next"]}).json()
        pages += 1


@pytest.mark.parametrize("ordering", ["-created_at", "created_at", "title", "artist"])
def test_next_walks_every_song_once_in_order(client: Client, db, ordering):
    add_songs(23)

    seen, pages = walk(client, {"limit": 5, "ordering": ordering})

    expected = [
        song["id"]
        for song in client.get(SONGS, {"limit": 200, "ordering": ordering}).json()["items"]
    ]
    assert seen == expected
    assert len(set(seen)) == 23
    assert pages == 5


def test_inserts_during_the_walk_neither_repeat_nor_skip_what_was_there(client: Client, db):
    add_songs(20)
    before = [s["id"] for s in client.get(SONGS, {"limit": 200}).json()["items"]]
    first = client.get(SONGS, {"limit": 4}).json()
    seen = [item["id"] for item in first["items"]]
    cursor = first["next"]
    while cursor:
        # Newer songs than any seen: they belong before the walk's position.
        add_songs(2, at=timezone.now() + timedelta(hours=1))
        page = client.get(SONGS, {"limit": 4, "cursor": cursor}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]

    assert seen == before


def test_the_last_page_has_no_next_and_count_is_exact(client: Client, db):
    add_songs(3)

    body = client.get(SONGS, {"limit": 3}).json()

    assert (len(body["items"]), body["count"], body["next"]) == (3, 3, None)


def test_offset_pages_also_give_a_cursor_to_the_page_after(client: Client, db):
    add_songs(10)
    everything = [s["id"] for s in client.get(SONGS, {"limit": 200}).json()["items"]]

    page = client.get(SONGS, {"limit": 3, "offset": 4}).json()
    after = client.get(SONGS, {"limit": 3, "cursor": page["next"]}).json()

    assert [s["id"] for s in page["items"]] == everything[4:7]
    assert [s["id"] for s in after["items"]] == everything[7:10]


def refused(response) -> list[dict]:
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    return response.json()["detail"]


def test_cursor_with_offset_is_422(client: Client, db):
    add_songs(4)
    cursor = client.get(SONGS, {"limit": 2}).json()["next"]

    detail = refused(client.get(SONGS, {"cursor": cursor, "offset": 2}))

    assert detail == [
        {"loc": ["query", "cursor"], "msg": CURSOR_WITH_OFFSET, "type": "value_error"}
    ]


def test_a_tampered_malformed_or_foreign_cursor_is_422(client: Client, db):
    add_songs(4)
    cursor = client.get(SONGS, {"limit": 2}).json()["next"]
    data = signing.loads(cursor, salt="core.pagination.cursor")
    forged = signing.dumps({**data, "v": [data["v"][0], 1]}, salt="another salt", compress=True)
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")

    for bad in [tampered, forged, "not-a-cursor"]:
        detail = refused(client.get(SONGS, {"cursor": bad}))
        assert detail == [
            {"loc": ["query", "cursor"], "msg": CURSOR_INVALID, "type": "value_error"}
        ]


def test_a_page_by_cursor_costs_the_same_queries_at_any_depth(
    client: Client, db, django_assert_num_queries
):
    add_songs(60)
    cursor = client.get(SONGS, {"limit": 5}).json()["next"]
    deep = client.get(SONGS, {"limit": 5, "offset": 50}).json()["next"]

    for start in (cursor, deep):
        with django_assert_num_queries(2):  # the page and the count
            assert client.get(SONGS, {"limit": 5, "cursor": start}).status_code == HTTPStatus.OK


def cursor_refusal(msg: str) -> list[dict]:
    return [{"loc": ["query", "cursor"], "msg": msg, "type": "value_error"}]


def test_a_cursor_from_one_list_is_422_on_every_other_list(make_user, make_album, db):
    ada, bob = make_user(), make_user()
    client = Client(headers=bearer(ada))
    for index in range(3):
        make_album(title=f"Album {index}")
        Message.objects.create(sender=ada, receiver=bob, content=f"#{index}")
    add_songs(3)
    albums_cursor = client.get("/api/albums/", {"limit": 1}).json()["next"]
    assert albums_cursor is not None

    # The same ordering (newest first, then id) as the albums: only the list tells them apart.
    for other in [
        SONGS,
        "/api/messages/",
        "/api/users/",
        "/api/artists/",
        f"/api/users/{bob.pk}/messages/",
        "/api/me/likes/",
        "/api/me/history/",
        "/api/playlists/",
    ]:
        assert refused(client.get(other, {"limit": 1, "cursor": albums_cursor})) == (
            cursor_refusal(CURSOR_OTHER_LIST)
        ), other


def test_a_conversations_cursor_is_422_on_another_conversation(make_user, db):
    ada, bob, cyd = make_user(), make_user(), make_user()
    for index in range(3):
        Message.objects.create(sender=ada, receiver=bob, content=f"#{index}")
        Message.objects.create(sender=ada, receiver=cyd, content=f"#{index}")
    client = Client(headers=bearer(ada))
    cursor = client.get(f"/api/users/{bob.pk}/messages/", {"limit": 1}).json()["next"]

    other = client.get(f"/api/users/{cyd.pk}/messages/", {"limit": 1, "cursor": cursor})
    own = client.get(f"/api/users/{bob.pk}/messages/", {"limit": 1, "cursor": cursor})

    assert refused(other) == cursor_refusal(CURSOR_OTHER_LIST)
    assert own.status_code == HTTPStatus.OK
    assert [item["content"] for item in own.json()["items"]] == ["#1"]


def test_a_cursor_given_other_filters_or_another_ordering_is_422(client: Client, db):
    add_songs(6)
    query = {"limit": 2, "ordering": "title", "search": "Song"}
    cursor = client.get(SONGS, query).json()["next"]

    for changed in [
        {"ordering": "-created_at"},
        {"ordering": None},
        {"search": "Song A"},
        {"search": None},
        {"artist": "Artist"},
    ]:
        other = {key: value for key, value in {**query, **changed}.items() if value is not None}
        detail = refused(client.get(SONGS, {**other, "cursor": cursor}))
        assert detail == cursor_refusal(CURSOR_OTHER_QUERY), changed


def test_a_cursor_works_on_its_own_list_with_the_same_filters_in_any_order(client: Client, db):
    add_songs(9)
    query = {"search": "Song", "artist": "Artist", "ordering": "title"}
    everything = [s["id"] for s in client.get(SONGS, {**query, "limit": 200}).json()["items"]]
    cursor = client.get(SONGS, {**query, "limit": 4}).json()["next"]

    # The same filters in another order, trimmed differently, with another limit.
    after = client.get(
        f"{SONGS}?ordering=title&limit=3&artist=Artist&cursor={cursor}&search=%20Song%20"
    )

    assert after.status_code == HTTPStatus.OK, after.json()
    assert [s["id"] for s in after.json()["items"]] == everything[4:7]


def test_the_default_ordering_named_or_not_is_the_same_list(client: Client, db):
    add_songs(5)
    everything = [s["id"] for s in client.get(SONGS, {"limit": 200}).json()["items"]]
    cursor = client.get(SONGS, {"limit": 2}).json()["next"]

    after = client.get(SONGS, {"limit": 2, "ordering": "-created_at", "cursor": cursor})

    assert [s["id"] for s in after.json()["items"]] == everything[2:4]
