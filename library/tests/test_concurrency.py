"""Two listeners' apps writing one playlist at once: only a real server database shows races
(PostgreSQL in CI)."""

import random
import threading
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client

from tests.helpers import bearer, song_ids

pytestmark = pytest.mark.postgres_only  # needs concurrent connections

INITIAL = 10
STEPS = 60


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_leave_positions_0_to_n_minus_1(user, make_playlist, make_song):
    songs = [make_song(f"Song {number}") for number in range(5)]
    playlist = make_playlist(user, songs=[songs[n % 5] for n in range(INITIAL)])
    headers = bearer(user)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    inserted: list[int] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(headers=headers)
        barrier.wait(timeout=10)
        try:
            for _ in range(STEPS):
                # Nothing is deleted, so positions below INITIAL always hold an item.
                if rng.random() < 0.4:
                    song = rng.choice(songs).pk
                    response = client.post(
                        f"/api/playlists/{playlist.pk}/songs/",
                        {"song_id": song, "position": rng.randrange(INITIAL)},
                        content_type="application/json",
                    )
                    inserted.append(song)
                else:
                    response = client.post(
                        f"/api/playlists/{playlist.pk}/songs/move/",
                        {
                            "from_position": rng.randrange(INITIAL),
                            "to_position": rng.randrange(INITIAL),
                        },
                        content_type="application/json",
                    )
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(statuses) == 2 * STEPS
    assert set(statuses) <= {HTTPStatus.CREATED, HTTPStatus.NO_CONTENT}
    ids = song_ids(playlist)  # checks the positions are exactly 0..n-1
    assert len(ids) == INITIAL + len(inserted)
    # Every song that went in is there, as many times as it went in (moves lose nothing).
    expected = [songs[n % 5].pk for n in range(INITIAL)] + inserted
    assert sorted(ids) == sorted(expected)
