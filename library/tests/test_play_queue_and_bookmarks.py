"""What Subsonic clients keep on the server: the play queue and bookmarks (library's services
and selectors; the Subsonic endpoints are tested in subsonic/tests/test_bookmarks.py)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.selectors.songs import SONG_NOT_FOUND
from core.errors import Invalid, NotFound
from core.text import CONTROL_CHARACTERS
from library import selectors, services
from library.models import MAX_CLIENT_NAME, MAX_POSITION_MS, Bookmark, PlayQueue
from library.services import (
    COMMENT_TOO_LONG,
    CURRENT_NOT_QUEUED,
    POSITION_OUT_OF_RANGE,
    QUEUE_TOO_LONG,
)


@pytest.fixture
def songs(make_song):
    return [make_song(f"Song {n}") for n in range(3)]


# --- The play queue ---------------------------------------------------------------------


def test_a_queue_never_saved_is_empty_since_the_account_was_made(user):
    queue = selectors.play_queue_of(user=user)

    assert queue == selectors.PlayQueueState(
        songs=[], current_id=None, position_ms=0, changed_at=user.date_joined, changed_by=""
    )


def test_a_saved_queue_reads_back_in_order_with_repeats(user, songs):
    a, _, c = songs

    services.play_queue_save(
        user=user, song_ids=[c.pk, a.pk, c.pk], current_id=a.pk, position_ms=61_000, client="DSub"
    )
    queue = selectors.play_queue_of(user=user)

    assert [song.pk for song in queue.songs] == [c.pk, a.pk, c.pk]
    assert (queue.current_id, queue.position_ms, queue.changed_by) == (a.pk, 61_000, "DSub")
    assert timezone.now() - queue.changed_at < timedelta(minutes=1)


def test_saving_again_replaces_the_queue_and_no_songs_clear_it(user, songs):
    a, b, c = songs
    services.play_queue_save(user=user, song_ids=[a.pk, b.pk], current_id=b.pk, position_ms=5)

    services.play_queue_save(user=user, song_ids=[c.pk], client="x" * (MAX_CLIENT_NAME + 9))
    replaced = selectors.play_queue_of(user=user)
    services.play_queue_save(user=user, song_ids=[], current_id=None, position_ms=9)
    cleared = selectors.play_queue_of(user=user)

    # No current song: the first one.
    assert ([s.pk for s in replaced.songs], replaced.current_id) == ([c.pk], c.pk)
    assert replaced.changed_by == "x" * MAX_CLIENT_NAME
    assert (cleared.songs, cleared.current_id, cleared.position_ms) == ([], None, 0)
    assert PlayQueue.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "error", "sentence"),
    [
        (lambda a, b: {"song_ids": [b.pk, 999_999]}, NotFound, SONG_NOT_FOUND),
        (lambda a, b: {"current_id": a.pk}, Invalid, CURRENT_NOT_QUEUED),
        (lambda a, b: {"position_ms": MAX_POSITION_MS + 1}, Invalid, POSITION_OUT_OF_RANGE),
    ],
)
def test_a_refused_queue_keeps_the_saved_one(user, songs, change, error, sentence):
    a, b, c = songs
    services.play_queue_save(user=user, song_ids=[a.pk], current_id=a.pk, position_ms=7)
    attempt = {"song_ids": [b.pk, c.pk], "current_id": b.pk, "position_ms": 0}

    with pytest.raises(error) as refused:
        services.play_queue_save(user=user, **{**attempt, **change(a, b)})

    assert refused.value.detail == sentence
    queue = selectors.play_queue_of(user=user)
    assert ([s.pk for s in queue.songs], queue.current_id, queue.position_ms) == ([a.pk], a.pk, 7)


def test_a_queue_too_long_is_refused(user, songs, monkeypatch):
    monkeypatch.setattr(services, "MAX_QUEUE_SONGS", 2)

    with pytest.raises(Invalid, match=QUEUE_TOO_LONG):
        services.play_queue_save(user=user, song_ids=[s.pk for s in songs])

    assert not PlayQueue.objects.exists()


def test_deleted_songs_leave_the_queue_and_the_first_song_becomes_current(user, songs):
    a, b, c = songs
    services.play_queue_save(user=user, song_ids=[a.pk, b.pk, c.pk], current_id=b.pk, position_ms=9)

    b.delete()
    queue = selectors.play_queue_of(user=user)

    assert [s.pk for s in queue.songs] == [a.pk, c.pk]
    assert (queue.current_id, queue.position_ms) == (a.pk, 0)


def test_reading_a_queue_costs_two_queries(user, songs, django_assert_num_queries):
    services.play_queue_save(user=user, song_ids=[s.pk for s in songs] * 20)

    with django_assert_num_queries(2):  # the queue, its songs with their albums
        queue = selectors.play_queue_of(user=user)
        titles = [song.album_id and song.album.title for song in queue.songs]

    assert len(titles) == 60


# --- Bookmarks ----------------------------------------------------------------------------


def test_a_bookmark_is_one_per_song_and_saving_again_moves_it(user, songs):
    first = services.bookmark_save(user=user, song_id=songs[0].pk, position_ms=1000, comment="a")

    again = services.bookmark_save(user=user, song_id=songs[0].pk, position_ms=2000)

    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.position_ms, again.comment) == (2000, "")
    assert again.created_at == first.created_at
    assert again.changed_at > first.changed_at
    assert first.created_at == first.changed_at


def test_bookmarks_read_latest_change_first_and_only_the_listeners_own(
    user, make_user, songs, django_assert_num_queries
):
    a, b, c = songs
    for song in (a, b, c):
        services.bookmark_save(user=user, song_id=song.pk, position_ms=10)
    services.bookmark_save(user=user, song_id=a.pk, position_ms=20)
    services.bookmark_save(user=make_user(), song_id=b.pk, position_ms=30)

    with django_assert_num_queries(1):
        listed = [(bm.song.title, bm.position_ms) for bm in selectors.bookmarks_of(user=user)]

    assert listed == [(a.title, 20), (c.title, 10), (b.title, 10)]


@pytest.mark.parametrize(
    ("change", "error", "sentence"),
    [
        ({"song_id": 999_999}, NotFound, SONG_NOT_FOUND),
        ({"position_ms": MAX_POSITION_MS + 1}, Invalid, POSITION_OUT_OF_RANGE),
        ({"comment": "x" * 501}, Invalid, COMMENT_TOO_LONG),
        ({"comment": "a\x00b"}, Invalid, CONTROL_CHARACTERS),
    ],
)
def test_a_refused_bookmark_writes_nothing(user, songs, change, error, sentence):
    services.bookmark_save(user=user, song_id=songs[0].pk, position_ms=5, comment="kept")
    attempt = {"song_id": songs[0].pk, "position_ms": 6, "comment": ""}

    with pytest.raises(error) as refused:
        services.bookmark_save(user=user, **{**attempt, **change})

    assert refused.value.detail == sentence
    assert list(Bookmark.objects.values_list("position_ms", "comment")) == [(5, "kept")]


def test_a_listener_has_at_most_so_many_bookmarks(user, songs, monkeypatch):
    monkeypatch.setattr(services, "MAX_BOOKMARKS", 2)
    services.bookmark_save(user=user, song_id=songs[0].pk, position_ms=1)
    services.bookmark_save(user=user, song_id=songs[1].pk, position_ms=1)

    with pytest.raises(Invalid):
        services.bookmark_save(user=user, song_id=songs[2].pk, position_ms=1)
    services.bookmark_save(user=user, song_id=songs[1].pk, position_ms=2)  # a move is fine

    assert Bookmark.objects.count() == 2


def test_deleting_a_bookmark(user, make_user, songs):
    other = make_user()
    services.bookmark_save(user=user, song_id=songs[0].pk, position_ms=1)
    services.bookmark_save(user=other, song_id=songs[0].pk, position_ms=1)

    services.bookmark_delete(user=user, song_id=songs[0].pk)
    services.bookmark_delete(user=user, song_id=songs[1].pk)  # none there: nothing to do
    with pytest.raises(NotFound, match=SONG_NOT_FOUND):
        services.bookmark_delete(user=user, song_id=999_999)

    assert list(Bookmark.objects.values_list("user", flat=True)) == [other.pk]


def test_the_admin_lists_queues_and_bookmarks_read_only(staff_client: Client, user, songs):
    services.play_queue_save(user=user, song_ids=[songs[0].pk], client="DSub")
    services.bookmark_save(user=user, song_id=songs[1].pk, position_ms=1, comment="chapter 2")

    queues = staff_client.get(reverse("admin:library_playqueue_changelist"))
    bookmarks = staff_client.get(reverse("admin:library_bookmark_changelist"))
    change = staff_client.get(reverse("admin:library_bookmark_add"))

    assert queues.status_code == HTTPStatus.OK
    assert "DSub" in queues.content.decode()
    assert bookmarks.status_code == HTTPStatus.OK
    assert "chapter 2" in bookmarks.content.decode()
    assert change.status_code == HTTPStatus.FORBIDDEN
