"""The production layout, with real processes: gunicorn serves the HTTP API (`config.wsgi`, sync
workers, deploy/gunicorn.conf.py) and uvicorn serves Socket.IO (`config.asgi`), both on one
database and one Redis, so a message sent over REST to gunicorn reaches a socket on uvicorn.

The servers come from the live-server fixtures of tests/live_servers.py (same database
sharing, same environment); gunicorn gets a launcher of its own below. Redis is the run's own
(`test_redis`, tests/redis_servers.py), and only keys under this run's prefix are written.
"""

import http.client
import json
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import Song
from core.body_limit import REQUEST_TOO_LARGE
from messaging.models import Message
from tests import live_servers as live
from tests.helpers import bearer, credited
from tests.live_servers import (
    PROJECT,
    LiveServer,
    assert_delivered_once,
    post_message,
)

# The live-server fixtures of the messaging tests, used here as well.

GUNICORN_CONF = PROJECT / "deploy" / "gunicorn.conf.py"
# Two sync workers: a request may land on either, as in production.
WORKERS = 2
ANSWER_SECONDS = 10
MESSAGES = "/api/messages/"

# --- gunicorn ----------------------------------------------------------------------------


@pytest.fixture
def gunicorn_server(live_database_url, redis_url, tmp_path) -> Iterator[LiveServer]:
    """gunicorn on the shared database and Redis, answering its health check; stopped after."""
    env = live.server_env(
        database_url=live_database_url,
        redis_url=redis_url,
        env={"WEB_CONCURRENCY": str(WORKERS), "FORWARDED_ALLOW_IPS": "127.0.0.1"},
    )
    log_path = tmp_path / f"gunicorn-{uuid.uuid4().hex[:8]}.log"
    server = live.start_gunicorn(env, log_path)
    yield server
    server.stop()
    print(f"--- gunicorn {server.url} ---\n{server.log()}")  # shown when the test failed


# --- Helpers -----------------------------------------------------------------------------


def post_declaring(
    server: LiveServer, path: str, *, length: int, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """POST `body` under a Content-Length of our choosing, which httpx would not send as given
    (http.client sends what it is told). The answer comes as an httpx.Response."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=ANSWER_SECONDS)
    try:
        connection.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(length)}.items():
            connection.putheader(name, value)
        connection.endheaders(message_body=body)
        # A timeout here means the worker is waiting for body bytes that never come.
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


# --- The tests ---------------------------------------------------------------------------


def test_gunicorn_answers_health_and_the_song_list(gunicorn_server):
    moment = timezone.now()
    # Rows this process writes, seen by gunicorn's workers: the database is shared.
    songs = Song.objects.bulk_create(
        Song(
            title=f"Song {index}",
            **credited("Artist"),
            duration=60,
            audio="songs/shared.wav",
            created_at=moment - timedelta(seconds=index),
        )
        for index in range(3)
    )

    health = httpx.get(f"{gunicorn_server.url}/api/health/", timeout=ANSWER_SECONDS)
    first = httpx.get(f"{gunicorn_server.url}/api/songs/?limit=2", timeout=ANSWER_SECONDS)

    # Answered by gunicorn itself, not by a uvicorn left over somewhere.
    assert health.headers["server"] == "gunicorn"
    assert health.status_code == HTTPStatus.OK
    assert health.headers["content-type"].startswith("application/json")
    assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}

    assert first.status_code == HTTPStatus.OK, first.text
    assert first.headers["content-type"].startswith("application/json")
    page = first.json()
    assert set(page) == {"items", "count", "next"}
    assert page["count"] == 3
    # Newest first; audio URLs are absolute, built from the Host gunicorn passed on.
    assert [item["id"] for item in page["items"]] == [songs[0].pk, songs[1].pk]
    assert page["items"][0]["audio_url"] == (
        f"{gunicorn_server.url}/api/songs/{songs[0].pk}/stream/"
    )
    assert page["next"]
    rest = httpx.get(
        f"{gunicorn_server.url}/api/songs/",
        params={"limit": 2, "cursor": page["next"]},
        timeout=ANSWER_SECONDS,
    ).json()
    assert [item["id"] for item in rest["items"]] == [songs[2].pk]
    assert rest["next"] is None


def test_a_message_posted_to_gunicorn_reaches_a_socket_on_uvicorn(
    gunicorn_server, start_server, sockets, redis_url, make_user
):
    uvicorn = start_server(redis_url=redis_url)
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(uvicorn, ada, "ada@uvicorn")
    bob_tab = sockets.open(uvicorn, bob, "bob@uvicorn")

    # REST on gunicorn (no event loop, no sockets of its own) -> Redis -> uvicorn's sockets.
    response = post_message(gunicorn_server, sender=ada, receiver=bob, content="Via gunicorn")

    message = assert_delivered_once(sockets, response, sender=ada_tab, receiver=bob_tab)
    assert response.headers["server"] == "gunicorn"
    assert (message.sender, message.receiver, message.content) == (ada, bob, "Via gunicorn")


def test_a_chunked_json_body_reads_as_empty_under_gunicorn_and_stores_nothing(
    gunicorn_server, make_user
):
    """Django's WSGI request reads CONTENT_LENGTH bytes, and a chunked body has none: the view
    sees an empty body. Behind nginx (deploy/nginx.conf buffers request bodies) gunicorn gets
    every body with its length; this is what a client reaching gunicorn directly gets."""
    ada, bob = make_user(), make_user()
    body = json.dumps({"receiver_id": bob.pk, "content": "Chunked"}).encode()
    headers = {**bearer(ada), "Content-Type": "application/json"}

    chunked = httpx.post(
        f"{gunicorn_server.url}{MESSAGES}",
        content=iter([body]),  # an iterator has no length: httpx sends it chunked
        headers=headers,
        timeout=ANSWER_SECONDS,
    )

    assert chunked.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, chunked.text
    # An empty body is no body at all: the one the route requires is missing.
    assert chunked.json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required"}]
    }
    assert not Message.objects.exists()

    # The same bytes with their length are a valid message: the chunking alone was refused.
    with_length = httpx.post(
        f"{gunicorn_server.url}{MESSAGES}", content=body, headers=headers, timeout=ANSWER_SECONDS
    )
    assert with_length.status_code == HTTPStatus.CREATED, with_length.text
    assert Message.objects.get().content == "Chunked"


def test_a_declared_length_over_the_json_cap_is_refused_before_the_body_is_read(
    gunicorn_server, make_user
):
    ada, bob = make_user(), make_user()
    cap = settings.JSON_MAX_BYTES
    headers = {**bearer(ada), "Content-Type": "application/json"}

    # Headers only: had the worker waited for the body it would never answer (the read
    # times out). The answer proves it refused on the declared length alone.
    refused = post_declaring(gunicorn_server, MESSAGES, length=cap + 1, body=b"", headers=headers)

    assert refused.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE, refused.text
    assert refused.headers["server"] == "gunicorn"
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json() == {"detail": REQUEST_TOO_LARGE}
    assert not Message.objects.exists()

    # Exactly the cap is read and taken: a valid message padded with whitespace to the cap.
    message = json.dumps({"receiver_id": bob.pk, "content": "At the cap"}).encode()
    accepted = post_declaring(
        gunicorn_server, MESSAGES, length=cap, body=message.ljust(cap, b" "), headers=headers
    )

    assert accepted.status_code == HTTPStatus.CREATED, accepted.text
    assert Message.objects.get().content == "At the cap"


# --- Closing after the answer (config/gunicorn_worker.py) --------------------------------


def _raw_connection(server: LiveServer) -> socket.socket:
    url = urlsplit(server.url)
    return socket.create_connection((url.hostname, url.port), timeout=ANSWER_SECONDS)


def _read_answer(connection: socket.socket) -> httpx.Response:
    """The whole answer, read from the raw connection (which stays open)."""
    answer = http.client.HTTPResponse(connection)
    answer.begin()
    return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())


def test_after_a_read_the_worker_closes_without_waiting_for_the_client(gunicorn_server):
    """gunicorn's own sync worker keeps reading after its answer until the client hangs up
    (up to 2 s), serving nobody meanwhile; production's worker closes at once when nothing
    of the request is left unread. Seen from the client: having read the whole answer and
    kept its side open, what it sends next is refused (a reset) well before those 2 s,
    where a lingering worker would quietly read and drop it."""
    with _raw_connection(gunicorn_server) as connection:
        connection.sendall(b"GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = _read_answer(connection)
        assert answer.status_code == HTTPStatus.OK
        assert answer.headers["Connection"] == "close"
        assert connection.recv(1) == b""  # the end: the worker sent its FIN

        # A byte at a time: a worker still reading takes them without a word; one that has
        # closed answers with a reset, which the next send reports (a read would go on
        # reporting the end it has seen).
        refused = False
        give_up_at = time.monotonic() + 1.5  # gunicorn's own worker lingers 2 s
        while not refused and time.monotonic() < give_up_at:
            try:
                connection.sendall(b"G")
            except (BrokenPipeError, ConnectionResetError):
                refused = True
            time.sleep(0.02)
        assert refused, "the worker was still reading from the client after its answer"


def test_an_upload_refused_before_its_body_arrives_still_gets_its_whole_answer(
    gunicorn_server, make_user
):
    """The other half: a body the worker did not read keeps gunicorn's lingering close, so
    the bytes the client goes on sending are read and dropped instead of making the close a
    reset that would wipe the 413 from the client's buffer."""
    ada = make_user()
    cap = settings.JSON_MAX_BYTES
    sent_body = 48 * 1024  # under the 64 KiB gunicorn drains
    with _raw_connection(gunicorn_server) as connection:
        connection.sendall(
            f"POST {MESSAGES} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {bearer(ada)['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {cap + sent_body}\r\n\r\n".encode()
        )
        for _ in range(sent_body // 1024):  # the body goes on arriving after the answer
            connection.sendall(b" " * 1024)
            time.sleep(0.005)
        answer = _read_answer(connection)

    assert answer.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert answer.json() == {"detail": REQUEST_TOO_LARGE}
    assert not Message.objects.exists()
