"""A user's activity set by a write elsewhere (`users.signals.activity_changed`: library's now
playing, from a Subsonic `scrobble` with `submission=false`) reaches open sockets as
`activity_updated`, as the `update_activity` event does: from the process that serves the
sockets (no Redis), and from another process through Redis (a gunicorn worker that holds
no socket)."""

import uuid
from collections.abc import Iterator

import httpx
import pytest

from library.models import NowPlaying
from messaging.realtime import push
from messaging.realtime.presence import IDLE
from messaging.schemas import ACTIVITY_MAX_LENGTH
from tests import live_servers as live
from tests.live_servers import LiveServer
from users import services as user_services
from users.models import User
from users.signals import activity_changed

PLAYING = "Playing Naima by John Coltrane"


def scrobble_now_playing(server: LiveServer, user: User, song_id: int) -> dict:
    """A Subsonic player says it started the song (`scrobble`, `submission=false`), signed in
    with one of `user`'s app passwords; the envelope's contents."""
    secret = user_services.app_password_create(user=user, name="Phone").secret
    params = {
        "id": f"tr-{song_id}",
        "submission": "false",
        "apiKey": secret,
        "v": "1.16.1",
        "c": "DSub",
        "f": "json",
    }
    response = httpx.get(f"{server.url}/rest/scrobble", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["subsonic-response"]


def test_the_realtime_transport_listens_and_does_nothing_without_sockets_here(user):
    # No Redis and no socket served by this process: no one to tell, nothing raised.
    results = activity_changed.send(NowPlaying, user_id=user.pk, activity=PLAYING)

    assert (push.on_activity_changed, None) in results


def test_a_long_activity_is_cut_to_what_update_activity_takes():
    long = "Playing " + "x" * 300

    assert push.shown_activity(PLAYING) == PLAYING
    assert len(push.shown_activity(long)) == ACTIVITY_MAX_LENGTH
    assert push.shown_activity(long).endswith("x…")


def test_a_subsonic_now_playing_shows_as_the_listeners_activity(
    uvicorn_server, sockets, make_user, make_song
):
    song = make_song("Naima", "John Coltrane")
    ada, watcher, offline = make_user(), make_user(), make_user()
    watcher_tab = sockets.open(uvicorn_server, watcher, "watcher")
    ada_tab = sockets.open(uvicorn_server, ada, "ada")

    assert scrobble_now_playing(uvicorn_server, ada, song.pk)["status"] == "ok"

    expected = {"user_id": ada.pk, "activity": PLAYING}
    assert sockets.run(watcher_tab.next("activity_updated")) == expected
    assert sockets.run(ada_tab.next("activity_updated")) == expected
    newcomer = sockets.open(uvicorn_server, make_user(), "newcomer")
    activities = sockets.run(newcomer.next("activities"))
    assert [ada.pk, PLAYING] in activities
    assert [watcher.pk, IDLE] in activities
    # Someone without an open socket is now playing too, but has no activity to show.
    assert scrobble_now_playing(uvicorn_server, offline, song.pk)["status"] == "ok"
    sockets.run(watcher_tab.none("activity_updated", within=1.0))
    assert set(NowPlaying.objects.values_list("user", flat=True)) == {ada.pk, offline.pk}


@pytest.fixture
def gunicorn_on_redis(live_database_url, redis_url, tmp_path) -> Iterator[LiveServer]:
    """gunicorn (WSGI: no Socket.IO in it at all) on the shared database and Redis."""
    env = live.server_env(
        database_url=live_database_url, redis_url=redis_url, env={"WEB_CONCURRENCY": "1"}
    )
    server = live.start_gunicorn(env, tmp_path / f"gunicorn-{uuid.uuid4().hex[:8]}.log")
    yield server
    server.stop()
    print(f"--- gunicorn {server.url} ---\n{server.log()}")  # shown when the test failed


def test_a_now_playing_sent_to_another_process_reaches_the_sockets_through_redis(
    start_server, sockets, redis_url, gunicorn_on_redis, make_user, make_song
):
    sockets_server = start_server(redis_url=redis_url)
    song = make_song("Naima", "John Coltrane")
    ada, watcher = make_user(), make_user()
    watcher_tab = sockets.open(sockets_server, watcher, "watcher")
    sockets.open(sockets_server, ada, "ada")

    # The Subsonic request goes to gunicorn, which holds no socket.
    assert scrobble_now_playing(gunicorn_on_redis, ada, song.pk)["status"] == "ok"

    expected = {"user_id": ada.pk, "activity": PLAYING}
    assert sockets.run(watcher_tab.next("activity_updated")) == expected
    # Presence is shared: a newcomer on the socket server sees the activity gunicorn set.
    newcomer = sockets.open(sockets_server, make_user(), "newcomer")
    assert [ada.pk, PLAYING] in sockets.run(newcomer.next("activities"))
    now_playing = httpx.get(
        f"{gunicorn_on_redis.url}/rest/getNowPlaying",
        params={
            "apiKey": user_services.app_password_create(user=watcher, name="Phone").secret,
            "v": "1.16.1",
            "c": "pytest",
            "f": "json",
        },
        timeout=10,
    ).json()["subsonic-response"]["nowPlaying"]["entry"]
    assert [(entry["title"], entry["playerName"]) for entry in now_playing] == [("Naima", "DSub")]
