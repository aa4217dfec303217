import random
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.selectors.songs import SONG_NOT_FOUND
from library.models import MAX_ITEMS, Playlist, PlaylistItem
from library.selectors import PLAYLIST_NOT_FOUND
from library.services import PLAYLIST_FULL, insert_past_end_message, no_item_at_message
from tests.api_shapes import song_out
from tests.helpers import bearer, iso, song_ids


def songs_url(playlist_id: int) -> str:
    return f"/api/playlists/{playlist_id}/songs/"


def move_url(playlist_id: int) -> str:
    return f"{songs_url(playlist_id)}move/"


def item_url(playlist_id: int, position: int | str) -> str:
    return f"{songs_url(playlist_id)}{position}/"


def item_out(item: PlaylistItem, *, image: str | None = None) -> dict:
    item.refresh_from_db()
    return {
        "position": item.position,
        "added_at": iso(item.added_at),
        "song": song_out(item.song, image=image),
    }


def error(loc: list, msg: str, type_: str = "value_error") -> dict:
    return {"loc": loc, "msg": msg, "type": type_}


@pytest.fixture
def songs(make_song, make_album):
    album = make_album(image=True)
    return [make_song(f"Song {n}", album=album if n % 2 else None) for n in range(4)]


# --- Reading ----------------------------------------------------------------------------


def test_items_come_by_position_with_their_songs(auth_client: Client, user, make_playlist, songs):
    a, b, c, _ = songs
    playlist = make_playlist(user, songs=[b, a, b, c])
    items = list(playlist.items.order_by("position"))
    album_image = b.album.image.name

    response = auth_client.get(songs_url(playlist.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "items": [
            item_out(items[0], image=album_image),
            item_out(items[1]),
            item_out(items[2], image=album_image),
            item_out(items[3]),
        ],
        "count": 4,
        "next": None,
    }


def test_a_public_playlists_items_are_readable_by_anyone(
    client: Client, user, make_user, make_playlist, songs
):
    playlist = make_playlist(user, is_public=True, songs=songs[:1])
    expected = {"items": [item_out(playlist.items.get())], "count": 1, "next": None}

    anonymous = client.get(songs_url(playlist.pk))
    other = client.get(songs_url(playlist.pk), headers=bearer(make_user()))

    assert (anonymous.status_code, other.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert anonymous.json() == other.json() == expected


def test_a_private_playlists_items_are_a_404_for_others(
    client: Client, user, make_user, make_playlist, songs
):
    playlist = make_playlist(user, songs=songs[:1])

    for headers in ({}, bearer(make_user())):
        response = client.get(songs_url(playlist.pk), headers=headers)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": PLAYLIST_NOT_FOUND}


def test_pages_of_items_follow_the_cursor(auth_client: Client, user, make_playlist, songs):
    playlist = make_playlist(user, songs=songs * 2)

    first = auth_client.get(f"{songs_url(playlist.pk)}?limit=5").json()
    second = auth_client.get(f"{songs_url(playlist.pk)}?limit=5&cursor={first['next']}").json()

    assert first["count"] == 8
    assert [item["position"] for item in first["items"] + second["items"]] == list(range(8))
    assert second["next"] is None


def test_the_items_list_costs_the_same_queries_for_2_or_20_items(
    auth_client: Client, user, make_playlist, songs
):
    def queries_for(count: int) -> int:
        playlist = make_playlist(user, songs=[songs[n % 4] for n in range(count)])
        with CaptureQueriesContext(connection) as queries:
            response = auth_client.get(f"{songs_url(playlist.pk)}?limit=50")
        assert response.status_code == HTTPStatus.OK
        assert len(response.json()["items"]) == count
        return len(queries)

    # The caller, the playlist's visibility, the page with songs and albums joined.
    assert queries_for(2) == queries_for(20) == 3


# --- Adding -----------------------------------------------------------------------------


def test_add_puts_the_song_at_the_end_by_default(auth_client: Client, user, make_playlist, songs):
    playlist = make_playlist(user, songs=songs[:2])
    before = playlist.updated_at

    response = auth_client.post(
        songs_url(playlist.pk), {"song_id": songs[0].pk}, "application/json"
    )

    item = PlaylistItem.objects.get(playlist=playlist, position=2)
    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == item_out(item)
    # The same song may be there twice.
    assert song_ids(playlist) == [songs[0].pk, songs[1].pk, songs[0].pk]
    assert playlist.updated_at > before


@pytest.mark.parametrize("position", [0, 1, 2])
def test_add_at_a_position_moves_the_later_songs_down(
    auth_client: Client, user, make_playlist, songs, position
):
    a, b, c, _ = songs
    playlist = make_playlist(user, songs=[a, b])

    response = auth_client.post(
        songs_url(playlist.pk), {"song_id": c.pk, "position": position}, "application/json"
    )

    expected = [a.pk, b.pk]
    expected.insert(position, c.pk)
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["position"] == position
    assert song_ids(playlist) == expected


def test_an_unknown_song_is_a_404_and_writes_nothing(auth_client: Client, user, make_playlist):
    playlist = make_playlist(user)

    response = auth_client.post(songs_url(playlist.pk), {"song_id": 999}, "application/json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": SONG_NOT_FOUND}
    assert not PlaylistItem.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"song_id": "{song}", "position": 3},
            [error(["body", "position"], insert_past_end_message(2))],
        ),
        (
            {"song_id": "{song}", "position": -1},
            [
                error(
                    ["body", "position"],
                    "Input should be greater than or equal to 0",
                    "greater_than_equal",
                )
            ],
        ),
        ({"position": 0}, [error(["body", "song_id"], "Field required", "missing")]),
        # JSON numbers must be numbers: lax mode would read false as position 0, true as id 1.
        (
            {"song_id": "{song}", "position": False},
            [error(["body", "position"], "Input should be a valid integer", "int_type")],
        ),
        (
            {"song_id": True},
            [error(["body", "song_id"], "Input should be a valid integer", "int_type")],
        ),
        (
            {"song_id": 0},
            [
                error(
                    ["body", "song_id"],
                    "Input should be greater than or equal to 1",
                    "greater_than_equal",
                )
            ],
        ),
    ],
)
def test_add_refuses_bad_input_and_writes_nothing(
    auth_client: Client, user, make_playlist, songs, body, expected
):
    playlist = make_playlist(user, songs=songs[:2])
    body = {key: songs[3].pk if value == "{song}" else value for key, value in body.items()}

    response = auth_client.post(songs_url(playlist.pk), body, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"detail": expected}
    assert song_ids(playlist) == [songs[0].pk, songs[1].pk]


def test_a_full_playlist_refuses_one_more_song(auth_client: Client, user, make_playlist, songs):
    playlist = make_playlist(user)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=playlist, song=songs[0], position=position)
        for position in range(MAX_ITEMS)
    )

    at_end = auth_client.post(songs_url(playlist.pk), {"song_id": songs[1].pk}, "application/json")
    at_start = auth_client.post(
        songs_url(playlist.pk), {"song_id": songs[1].pk, "position": 0}, "application/json"
    )

    for response in (at_end, at_start):
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json() == {"detail": [error(["body"], PLAYLIST_FULL)]}
    assert playlist.items.count() == MAX_ITEMS
    assert not playlist.items.filter(song=songs[1]).exists()
    assert set(playlist.items.values_list("position", flat=True)) == set(range(MAX_ITEMS))


def test_one_below_the_cap_a_song_still_goes_in(auth_client: Client, user, make_playlist, songs):
    playlist = make_playlist(user)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=playlist, song=songs[0], position=position)
        for position in range(MAX_ITEMS - 1)
    )

    response = auth_client.post(
        songs_url(playlist.pk), {"song_id": songs[1].pk, "position": 0}, "application/json"
    )

    assert response.status_code == HTTPStatus.CREATED
    assert song_ids(playlist)[:2] == [songs[1].pk, songs[0].pk]
    assert playlist.items.count() == MAX_ITEMS


# --- Removing ---------------------------------------------------------------------------


def test_remove_takes_out_one_item_and_closes_the_gap(
    auth_client: Client, user, make_playlist, songs
):
    a, b, c, _ = songs
    playlist = make_playlist(user, songs=[a, b, a, c])
    before = playlist.updated_at

    response = auth_client.delete(item_url(playlist.pk, 1))

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert song_ids(playlist) == [a.pk, a.pk, c.pk]
    assert playlist.updated_at > before


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("2", error(["path", "position"], no_item_at_message(2))),
        (
            "-1",
            error(
                ["path", "position"],
                "Input should be greater than or equal to 0",
                "greater_than_equal",
            ),
        ),
        (
            "x",
            error(
                ["path", "position"],
                "Input should be a valid integer, unable to parse string as an integer",
                "int_parsing",
            ),
        ),
    ],
)
def test_remove_refuses_a_position_with_no_item(
    auth_client: Client, user, make_playlist, songs, position, expected
):
    playlist = make_playlist(user, songs=songs[:2])

    response = auth_client.delete(item_url(playlist.pk, position))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"detail": [expected]}
    assert song_ids(playlist) == [songs[0].pk, songs[1].pk]


# --- Moving -----------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), [(0, 3), (3, 0), (1, 2), (2, 1), (0, 1), (2, 2)])
def test_move_puts_the_item_at_its_new_position(
    auth_client: Client, user, make_playlist, songs, source, target
):
    playlist = make_playlist(user, songs=songs)

    response = auth_client.post(
        move_url(playlist.pk), {"from_position": source, "to_position": target}, "application/json"
    )

    expected = [song.pk for song in songs]
    expected.insert(target, expected.pop(source))
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert song_ids(playlist) == expected


def test_move_refuses_positions_past_the_end_and_writes_nothing(
    auth_client: Client, user, make_playlist, songs
):
    playlist = make_playlist(user, songs=songs[:2])

    both = auth_client.post(
        move_url(playlist.pk), {"from_position": 2, "to_position": 5}, "application/json"
    )
    one = auth_client.post(
        move_url(playlist.pk), {"from_position": 0, "to_position": 2}, "application/json"
    )
    negative = auth_client.post(
        move_url(playlist.pk), {"from_position": -1, "to_position": 0}, "application/json"
    )

    message = no_item_at_message(2)
    assert both.status_code == one.status_code == negative.status_code == 422
    assert both.json() == {
        "detail": [
            error(["body", "from_position"], message),
            error(["body", "to_position"], message),
        ]
    }
    assert one.json() == {"detail": [error(["body", "to_position"], message)]}
    assert [item["loc"] for item in negative.json()["detail"]] == [["body", "from_position"]]
    assert song_ids(playlist) == [songs[0].pk, songs[1].pk]


def test_the_messages_count_songs_in_good_english():
    assert insert_past_end_message(1) == (
        "The playlist has 1 song: a song can go at positions 0 to 1."
    )
    assert no_item_at_message(1) == "There is no song at this position: the playlist has 1 song."


def test_an_empty_playlist_has_nothing_to_move_or_remove(auth_client: Client, user, make_playlist):
    playlist = make_playlist(user)

    moved = auth_client.post(
        move_url(playlist.pk), {"from_position": 0, "to_position": 0}, "application/json"
    )
    removed = auth_client.delete(item_url(playlist.pk, 0))

    assert moved.status_code == removed.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert removed.json() == {"detail": [error(["path", "position"], no_item_at_message(0))]}


# --- A long random sequence against a model ---------------------------------------------


def test_200_random_writes_keep_positions_contiguous_and_in_the_models_order(
    auth_client: Client, user, make_playlist, songs
):
    playlist = make_playlist(user)
    model: list[int] = []
    rng = random.Random(20261127)

    for step in range(200):
        kind = rng.choice(["insert", "insert", "append", "move", "delete"]) if model else "append"
        if kind in ("insert", "append"):
            song = rng.choice(songs).pk
            body = {"song_id": song}
            position = len(model)
            if kind == "insert":
                position = body["position"] = rng.randint(0, len(model))
            response = auth_client.post(songs_url(playlist.pk), body, "application/json")
            assert response.status_code == HTTPStatus.CREATED, (step, response.json())
            assert response.json()["position"] == position
            model.insert(position, song)
        elif kind == "move":
            source, target = rng.randrange(len(model)), rng.randrange(len(model))
            response = auth_client.post(
                move_url(playlist.pk),
                {"from_position": source, "to_position": target},
                "application/json",
            )
            assert response.status_code == HTTPStatus.NO_CONTENT, (step, response.content)
            model.insert(target, model.pop(source))
        else:
            position = rng.randrange(len(model))
            response = auth_client.delete(item_url(playlist.pk, position))
            assert response.status_code == HTTPStatus.NO_CONTENT, (step, response.content)
            model.pop(position)
        assert song_ids(playlist) == model, step

    listed = auth_client.get(f"{songs_url(playlist.pk)}?limit=200").json()
    assert [item["song"]["id"] for item in listed["items"]] == model
    assert Playlist.objects.get().pk == playlist.pk


@pytest.mark.parametrize("positions", [(False, 1), (0, True)])
def test_move_refuses_positions_that_are_not_json_integers(
    auth_client: Client, user, make_playlist, songs, positions
):
    playlist = make_playlist(user, songs=songs[:3])
    body = {"from_position": positions[0], "to_position": positions[1]}

    response = auth_client.post(move_url(playlist.pk), body, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [item["type"] for item in response.json()["detail"]] == ["int_type"]
    assert song_ids(playlist) == [song.pk for song in songs[:3]]
