"""getPlayQueue, savePlayQueue, getBookmarks, createBookmark, deleteBookmark: the listener's
own, refused whole (nothing saved) on an unknown song or a bad value, query counts."""

import pytest
from django.test import Client

from catalog.selectors.songs import SONG_NOT_FOUND
from library import services
from library.models import Bookmark, PlayQueue
from library.services import CURRENT_NOT_QUEUED, POSITION_OUT_OF_RANGE
from subsonic import ids
from subsonic.tests.calls import CLIENT_NAME, LISTENER_EMAIL, answer, api_key, call, error_of


def sid(song) -> str:
    return ids.song_id(song.pk)


@pytest.fixture
def songs(make_song, make_album):
    album = make_album()
    return [make_song(f"Song {n}", album=album if n % 2 else None) for n in range(3)]


def saved_queue(user) -> tuple:
    queue = PlayQueue.objects.get(user=user)
    return (queue.song_ids, queue.current_id, queue.position_ms, queue.changed_by)


# --- The play queue -----------------------------------------------------------------------


def test_a_queue_never_saved_is_empty(client: Client, secret: str, listener):
    queue = answer(call(client, "getPlayQueue", api_key(secret)))["playQueue"]

    # Required by the specification: whose, changed when (the account's start), by whom.
    assert queue == {
        "position": 0,
        "username": LISTENER_EMAIL,
        "changed": queue["changed"],
        "changedBy": "",
        "entry": [],
    }
    assert queue["changed"].startswith(listener.date_joined.strftime("%Y-%m-%dT%H:%M:%S"))


def test_a_saved_queue_is_read_back(client: Client, secret: str, listener, songs):
    a, _, c = songs

    saved = call(
        client,
        "savePlayQueue",
        api_key(secret),
        method="post",
        id=[sid(c), sid(a), sid(c)],
        current=sid(a),
        position="61500",
    )
    queue = answer(call(client, "getPlayQueue", api_key(secret)))["playQueue"]

    assert answer(saved)["status"] == "ok"
    assert [entry["id"] for entry in queue["entry"]] == [sid(c), sid(a), sid(c)]
    assert (queue["current"], queue["position"], queue["changedBy"]) == (
        sid(a),
        61_500,
        CLIENT_NAME,
    )
    assert queue["username"] == LISTENER_EMAIL
    assert queue["entry"][1]["title"] == a.title


def test_no_current_is_the_first_song_and_no_ids_clear_the_queue(
    client: Client, secret: str, listener, songs
):
    a, b, _ = songs

    call(client, "savePlayQueue", api_key(secret), id=[sid(b), sid(a)])
    first = answer(call(client, "getPlayQueue", api_key(secret)))["playQueue"]
    call(client, "savePlayQueue", api_key(secret), position="500")
    cleared = answer(call(client, "getPlayQueue", api_key(secret)))["playQueue"]

    assert (first["current"], first["position"]) == (sid(b), 0)
    assert cleared["entry"] == []
    assert "current" not in cleared
    assert saved_queue(listener) == ([], None, 0, CLIENT_NAME)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"id": ["tr-999999"], "current": None}, {"code": 70, "message": SONG_NOT_FOUND}),
        ({"id": ["al-1"]}, {"code": 70, "message": "No such item: al-1."}),
        ({"current": "tr-999999"}, {"code": 0, "message": CURRENT_NOT_QUEUED}),
        ({"position": "2147483648"}, {"code": 0, "message": POSITION_OUT_OF_RANGE}),
        (
            {"position": "1.5"},
            {"code": 0, "message": "position must be a whole number of at most 18 digits."},
        ),
    ],
)
def test_a_refused_queue_saves_nothing(
    client: Client, secret: str, listener, songs, params: dict, expected: dict
):
    a, b, c = songs
    services.play_queue_save(user=listener, song_ids=[a.pk], position_ms=7, client="Before")
    valid = {"id": [sid(b), sid(c)], "current": sid(c), "position": "10"}

    response = call(client, "savePlayQueue", api_key(secret), **{**valid, **params})

    assert error_of(response) == expected
    assert saved_queue(listener) == ([a.pk], a.pk, 7, "Before")


def test_each_listener_has_their_own_queue(client: Client, secret: str, make_user, songs):
    services.play_queue_save(user=make_user(), song_ids=[songs[0].pk], client="Theirs")

    queue = answer(call(client, "getPlayQueue", api_key(secret)))["playQueue"]

    assert (queue["entry"], queue["changedBy"]) == ([], "")


def test_the_queue_costs_three_queries_whatever_its_length(
    client: Client, secret: str, listener, songs, django_assert_num_queries
):
    services.play_queue_save(user=listener, song_ids=[s.pk for s in songs] * 30)
    call(client, "ping", api_key(secret))  # the key's first use is recorded: one write

    with django_assert_num_queries(3):  # sign-in, the queue, its songs with their albums
        response = call(client, "getPlayQueue", api_key(secret))

    assert len(answer(response)["playQueue"]["entry"]) == 90


# --- Bookmarks ----------------------------------------------------------------------------


def test_bookmarks_are_made_moved_listed_and_deleted(client: Client, secret: str, songs):
    a, b, _ = songs

    call(client, "createBookmark", api_key(secret), id=sid(a), position="1000", comment="Ch. 1")
    call(client, "createBookmark", api_key(secret), id=sid(b), position="5")
    moved = call(client, "createBookmark", api_key(secret), id=sid(a), position="2000")
    listed = answer(call(client, "getBookmarks", api_key(secret)))["bookmarks"]["bookmark"]
    deleted = call(client, "deleteBookmark", api_key(secret), id=sid(b))
    after = answer(call(client, "getBookmarks", api_key(secret)))["bookmarks"]["bookmark"]

    assert answer(moved)["status"] == "ok"
    # Latest change first; saving again replaces the position and the comment.
    assert [(bm["entry"]["id"], bm["position"], bm["comment"]) for bm in listed] == [
        (sid(a), 2000, ""),
        (sid(b), 5, ""),
    ]
    assert listed[0]["username"] == LISTENER_EMAIL
    assert listed[0]["created"] <= listed[0]["changed"]
    assert answer(deleted)["status"] == "ok"
    assert [bm["entry"]["id"] for bm in after] == [sid(a)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"id": "tr-999999"}, {"code": 70, "message": SONG_NOT_FOUND}),
        ({"id": None}, {"code": 10, "message": "Required parameter is missing: id."}),
        ({"position": None}, {"code": 10, "message": "Required parameter is missing: position."}),
        (
            {"position": "-5"},
            {"code": 0, "message": "position must be a whole number of at most 18 digits."},
        ),
        ({"comment": "x" * 501}, {"code": 0, "message": "A comment is at most 500 characters."}),
    ],
)
def test_a_refused_bookmark_saves_nothing(
    client: Client, secret: str, listener, songs, params: dict, expected: dict
):
    services.bookmark_save(user=listener, song_id=songs[0].pk, position_ms=7, comment="kept")
    valid = {"id": sid(songs[0]), "position": "10", "comment": "new"}

    response = call(client, "createBookmark", api_key(secret), **{**valid, **params})

    assert error_of(response) == expected
    assert list(Bookmark.objects.values_list("position_ms", "comment")) == [(7, "kept")]


def test_someone_elses_bookmarks_are_neither_listed_nor_deleted(
    client: Client, secret: str, make_user, songs
):
    services.bookmark_save(user=make_user(), song_id=songs[0].pk, position_ms=7)

    listed = answer(call(client, "getBookmarks", api_key(secret)))["bookmarks"]
    deleted = call(client, "deleteBookmark", api_key(secret), id=sid(songs[0]))
    unknown = call(client, "deleteBookmark", api_key(secret), id="tr-999999")

    assert listed == {"bookmark": []}
    assert answer(deleted)["status"] == "ok"
    assert error_of(unknown) == {"code": 70, "message": SONG_NOT_FOUND}
    assert Bookmark.objects.count() == 1


def test_bookmarks_cost_two_queries_whatever_their_number(
    client: Client, secret: str, listener, songs, django_assert_num_queries
):
    for song in songs:
        services.bookmark_save(user=listener, song_id=song.pk, position_ms=1)
    call(client, "ping", api_key(secret))  # the key's first use is recorded: one write

    with django_assert_num_queries(2):  # sign-in, the bookmarks with their songs and albums
        response = call(client, "getBookmarks", api_key(secret))

    assert len(answer(response)["bookmarks"]["bookmark"]) == 3
