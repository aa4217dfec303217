"""Plays and "now playing" sent as listens by background jobs (SQLite: the in-process runner
after commit), through liblistenbrainz to the local fake: what it received, retries with
backoff, a revoked token, unlinking, and whose plays go where."""

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from catalog import services as catalog_services
from catalog.models import Play, Song
from core.models import JobFailure
from core.sealing import seal
from scrobbling import services, tasks
from scrobbling.listenbrainz import SUBMISSION_CLIENT
from scrobbling.models import ScrobbleLink, Service
from scrobbling.services import LISTENBRAINZ_REVOKED, SEAL_PURPOSE
from scrobbling.tests.fakes import FakeListenBrainz
from subsonic import ids
from subsonic.tests.calls import api_key, call
from tests.helpers import bearer
from users import services as users_services
from users.models import User

# The in-process runner's jobs run here after commit; on PostgreSQL a worker runs them
# (test_scrobbling_postgres.py).
pytestmark = [
    pytest.mark.skipif(
        settings.JOBS_BACKEND != "in_process", reason="jobs run in this process on SQLite only"
    ),
    pytest.mark.django_db(transaction=True),
]

TOKEN = "5c9e0c0a-1111-4a5b-9c3d-8e2f4a6b7c8d"


def wait_for(condition: Callable[[], object], *, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def linked(user: User, fake: FakeListenBrainz, token: str = TOKEN) -> ScrobbleLink:
    fake.tokens[token] = f"user{user.pk}"
    return services.listenbrainz_link(user=user, token=token)


@pytest.fixture
def song(make_album, make_song) -> Song:
    album = make_album("Blue Train", "John Coltrane")
    return make_song("Moment's Notice", "John Coltrane", album=album)


def play_over_rest(user: User, song: Song) -> Play:
    response = Client(headers=bearer(user)).post(f"/api/songs/{song.pk}/plays/")
    assert response.status_code == 201, response.content
    return Play.objects.get(pk=response.json()["id"])


def test_a_rest_play_is_sent_as_a_single_listen(user, song, listenbrainz):
    linked(user, listenbrainz)

    play = play_over_rest(user, song)

    wait_for(lambda: listenbrainz.received, what="the listen")
    assert listenbrainz.received == [
        {
            "listen_type": "single",
            "token": TOKEN,
            "payload": [
                {
                    "listened_at": int(play.played_at.timestamp()),
                    "track_metadata": {
                        "artist_name": "John Coltrane",
                        "track_name": "Moment's Notice",
                        "release_name": "Blue Train",
                        "additional_info": {
                            "submission_client": SUBMISSION_CLIENT,
                            "duration_ms": song.duration * 1000,
                        },
                    },
                }
            ],
        }
    ]


def test_a_subsonic_scrobble_of_several_plays_is_one_import_and_now_playing_is_sent(
    user, make_song, song, listenbrainz
):
    other = make_song("Lazy Bird", "John Coltrane")
    linked(user, listenbrainz)
    secret = users_services.app_password_create(user=user, name="Phone").secret
    client = Client()
    times = [datetime(2026, 5, 1, 12, 0, tzinfo=UTC), datetime(2026, 5, 1, 12, 4, tzinfo=UTC)]

    call(
        client,
        "scrobble",
        api_key(secret),
        method="post",
        id=[ids.song_id(song.pk), ids.song_id(other.pk)],
        time=[str(int(moment.timestamp() * 1000)) for moment in times],
        submission="true",
    )
    call(client, "scrobble", api_key(secret), id=ids.song_id(other.pk), submission="false")

    wait_for(lambda: len(listenbrainz.received) == 2, what="the listens and now playing")
    imported = listenbrainz.listens("import")
    assert [(one["listened_at"], one["track_metadata"]["track_name"]) for one in imported] == [
        (int(times[0].timestamp()), "Moment's Notice"),
        (int(times[1].timestamp()), "Lazy Bird"),
    ]
    (playing,) = listenbrainz.listens("playing_now")
    assert "listened_at" not in playing
    assert playing["track_metadata"]["track_name"] == "Lazy Bird"
    assert playing["track_metadata"]["artist_name"] == "John Coltrane"


def test_a_rolled_back_play_sends_nothing(user, song, listenbrainz):
    linked(user, listenbrainz)

    def play_then_fail() -> None:
        with transaction.atomic():
            catalog_services.play_record(song_id=song.pk, user=user)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        play_then_fail()

    catalog_services.play_record(song_id=song.pk, user=user)  # one that commits, after it
    wait_for(lambda: listenbrainz.received, what="the committed play")
    time.sleep(0.3)
    assert len(listenbrainz.listens()) == 1


def test_failures_are_retried_with_backoff_and_the_listen_is_delivered_once(
    user, song, listenbrainz
):
    linked(user, listenbrainz)
    listenbrainz.fail_next = 2

    play_over_rest(user, song)

    wait_for(lambda: listenbrainz.received, what="the listen after two failures")
    time.sleep(0.5)  # no late duplicate
    assert len(listenbrainz.listens()) == 1
    assert listenbrainz.submissions() == 3
    failures = JobFailure.objects.filter(task_name="scrobbling.listens_submit")
    assert sorted(failures.values_list("attempt", flat=True)) == [1, 2]
    assert "503" in failures.first().error


def test_a_revoked_token_stops_at_once_and_tells_the_listener(user, song, listenbrainz):
    link = linked(user, listenbrainz)
    del listenbrainz.tokens[TOKEN]  # revoked on the service's side

    play_over_rest(user, song)

    wait_for(lambda: ScrobbleLink.objects.get(pk=link.pk).last_error, what="the link broken")
    time.sleep(0.5)  # no retry comes
    assert listenbrainz.submissions() == 1
    assert listenbrainz.received == []
    assert not JobFailure.objects.exists()
    status = Client(headers=bearer(user)).get("/api/me/scrobbling/").json()["listenbrainz"]
    assert status == {
        "available": True,
        "linked": False,
        "username": f"user{user.pk}",
        "last_error": LISTENBRAINZ_REVOKED,
    }
    # While broken, later plays queue nothing and send nothing.
    play_over_rest(user, song)
    time.sleep(0.3)
    assert listenbrainz.submissions() == 1


def test_unlinking_drops_the_listens_still_queued(user, song, listenbrainz, settings):
    settings.JOBS_RETRY_BASE_SECONDS = 1.0
    linked(user, listenbrainz)
    listenbrainz.fail_next = 1

    play_over_rest(user, song)
    wait_for(lambda: JobFailure.objects.exists(), what="the first attempt's failure")
    Client(headers=bearer(user)).delete("/api/me/scrobbling/listenbrainz/")

    time.sleep(1.5)  # past the retry's time: it found no link
    assert listenbrainz.submissions() == 1
    assert listenbrainz.received == []


def test_a_listener_without_a_link_sends_nothing(user, song, listenbrainz):
    play_over_rest(user, song)
    time.sleep(0.3)
    assert listenbrainz.requests == []


def test_another_listeners_link_is_never_used(make_user, song, listenbrainz):
    owner, other = make_user(), make_user()
    link = linked(owner, listenbrainz)

    play = play_over_rest(other, song)
    time.sleep(0.3)
    assert listenbrainz.requests[1:] == []  # the owner's token check only

    # Even a job naming the owner's link with the other's play: not sent.
    tasks.listens_submit(link_id=link.pk, play_ids=[play.pk])
    assert listenbrainz.received == []


def test_a_token_this_server_can_no_longer_open_breaks_the_link(user, song, listenbrainz):
    link = ScrobbleLink.objects.create(
        user=user, service=Service.LISTENBRAINZ, secret=seal(TOKEN, purpose=b"another key")
    )
    play = catalog_services.play_record(song_id=song.pk, user=user)

    tasks.listens_submit(link_id=link.pk, play_ids=[play.pk])

    link.refresh_from_db()
    assert (link.secret, link.last_error) == ("", services.SEALED_UNREADABLE)
    assert listenbrainz.received == []
    assert SEAL_PURPOSE != b"another key"
