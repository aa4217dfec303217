"""On PostgreSQL the jobs are procrastinate rows written in the play's transaction, run by a
real worker process (`manage.py procrastinate worker`) against the local fake."""

import pytest
from django.db import connection, transaction

from catalog import services as catalog_services
from scrobbling import services
from scrobbling.models import ScrobbleLink, Service
from scrobbling.services import LISTENBRAINZ_REVOKED
from tests.job_workers import WORKER_ENV, Workers, job_rows, wait_for
from tests.live_servers import _postgres_url

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

SUBMIT = "scrobbling.listens_submit"


def forget_scrobbling_jobs() -> None:
    """procrastinate's tables are not flushed between tests: only this app's rows go."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE %s", ["scrobbling.%"])


@pytest.fixture
def clean_queue():
    forget_scrobbling_jobs()
    yield
    forget_scrobbling_jobs()


def test_a_rolled_back_play_queues_no_job_and_a_committed_one_queues_one(
    make_user, make_song, listenbrainz, clean_queue
):
    user = make_user()
    song = make_song()
    listenbrainz.tokens["token"] = "ada"
    link = services.listenbrainz_link(user=user, token="token")

    def play_then_fail() -> None:
        with transaction.atomic():
            catalog_services.play_record(song_id=song.pk, user=user)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        play_then_fail()
    assert job_rows(SUBMIT) == []

    play = catalog_services.play_record(song_id=song.pk, user=user)
    assert [(status, args) for _, status, _, args in job_rows(SUBMIT)] == [
        ("todo", {"link_id": link.pk, "play_ids": [play.pk]})
    ]


def test_a_worker_retries_until_delivered_once_and_stops_on_a_revoked_token(
    make_user, make_song, listenbrainz, clean_queue, tmp_path
):
    song = make_song("Naima", "John Coltrane")
    ada, bob = make_user(), make_user()
    listenbrainz.tokens.update({"ada-token": "ada", "bob-token": "bob"})
    services.listenbrainz_link(user=ada, token="ada-token")
    bob_link = services.listenbrainz_link(user=bob, token="bob-token")
    workers = Workers(_postgres_url(connection.settings_dict), tmp_path)
    workers.env.update({**WORKER_ENV, "LISTENBRAINZ_API_URL": listenbrainz.url})
    try:
        workers.start(1)
        listenbrainz.fail_next = 2
        play = catalog_services.play_record(song_id=song.pk, user=ada)
        wait_for(
            lambda: [row[1] for row in job_rows(SUBMIT)] == ["succeeded"],
            timeout=60,
            what="the listen delivered",
        )
        ((_, _, attempts, _),) = job_rows(SUBMIT)
        assert attempts == 3
        (listen,) = listenbrainz.listens()
        assert listen["listened_at"] == int(play.played_at.timestamp())
        assert listen["track_metadata"]["track_name"] == "Naima"
        assert listen["track_metadata"]["artist_name"] == "John Coltrane"

        forget_scrobbling_jobs()
        del listenbrainz.tokens["bob-token"]  # revoked on the service's side
        submissions = listenbrainz.submissions()
        catalog_services.play_record(song_id=song.pk, user=bob)
        wait_for(
            lambda: ScrobbleLink.objects.get(pk=bob_link.pk).last_error,
            timeout=60,
            what="bob's link broken",
        )
        wait_for(lambda: [row[1] for row in job_rows(SUBMIT)] == ["succeeded"], what="its end")
        ((_, _, attempts, _),) = job_rows(SUBMIT)
        assert attempts == 1  # no retry
        assert listenbrainz.submissions() == submissions + 1
        bob_link.refresh_from_db()
        assert (bob_link.secret, bob_link.last_error) == ("", LISTENBRAINZ_REVOKED)
        assert len(listenbrainz.listens()) == 1  # ada's only
    finally:
        workers.stop_all()


def test_unlinking_drops_the_listens_still_queued_for_the_worker(
    make_user, make_song, listenbrainz, clean_queue, tmp_path
):
    song = make_song()
    ada = make_user()
    listenbrainz.tokens["ada-token"] = "ada"
    services.listenbrainz_link(user=ada, token="ada-token")
    catalog_services.play_record(song_id=song.pk, user=ada)  # queued, no worker yet
    services.link_delete(user=ada, service=Service.LISTENBRAINZ)
    workers = Workers(_postgres_url(connection.settings_dict), tmp_path)
    workers.env.update({**WORKER_ENV, "LISTENBRAINZ_API_URL": listenbrainz.url})
    try:
        workers.start(1)
        wait_for(
            lambda: [row[1] for row in job_rows(SUBMIT)] == ["succeeded"],
            timeout=60,
            what="the job run",
        )
    finally:
        workers.stop_all()
    assert listenbrainz.submissions() == 0


def test_a_worker_scrobbles_to_last_fm_and_sends_now_playing(
    make_user, make_song, lastfm, clean_queue, tmp_path
):
    from library import services as library_services

    song = make_song("So What", "Miles Davis")
    carol = make_user()
    lastfm.authorised["granted"] = "carol_fm"
    services.lastfm_link(user=carol, token="granted")
    workers = Workers(_postgres_url(connection.settings_dict), tmp_path)
    workers.env.update(
        {
            **WORKER_ENV,
            "LASTFM_API_KEY": lastfm.api_key,
            "LASTFM_API_SECRET": lastfm.api_secret,
            "LASTFM_API_URL": lastfm.url,
            "LASTFM_CA_FILE": lastfm.ca_file,
        }
    )
    try:
        workers.start(1)
        lastfm.fail_next = 1
        play = catalog_services.play_record(song_id=song.pk, user=carol)
        library_services.now_playing_set(user=carol, song_id=song.pk)
        wait_for(lambda: lastfm.scrobbles() and lastfm.now_playing(), timeout=60, what="both")
        assert lastfm.scrobbles() == [
            {
                "artist": "Miles Davis",
                "track": "So What",
                "timestamp": str(int(play.played_at.timestamp())),
                "duration": str(song.duration),
            }
        ]
        assert lastfm.now_playing()[0]["track"] == "So What"
    finally:
        workers.stop_all()
