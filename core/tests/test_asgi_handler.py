"""The ASGI handler serves Django's sync code from a fixed set of threads, one hop a request
(core/asgi_handler.py), driven in process through httpx's ASGI transport.

This module is also the URLconf of its tests (`urlpatterns` below): views that say which
thread ran them, and the request's signals record theirs.
"""

import asyncio
import threading
import time
from collections import Counter
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.core.signals import request_finished, request_started
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from core.asgi_handler import SyncChainASGIHandler

_running = Counter()
_lock = threading.Lock()


def _where(request: HttpRequest) -> JsonResponse:
    """The thread that ran the view, and how many views ran at once at most, so far."""
    with _lock:
        _running["now"] += 1
        _running["most"] = max(_running["most"], _running["now"])
    try:
        time.sleep(0.02)  # long enough for the requests of a burst to overlap
        with connection.cursor() as cursor:  # the database, from the request's own thread
            cursor.execute("SELECT 1")
        return JsonResponse({"thread": threading.get_ident(), "middleware": request.thread_seen})
    finally:
        with _lock:
            _running["now"] -= 1


async def _async_view(request: HttpRequest) -> HttpResponse:
    async def body():
        for part in (b"one ", b"two"):
            await asyncio.sleep(0)
            yield part

    return StreamingHttpResponse(body(), content_type="text/plain")


def _thread_recorder(get_response):
    """A sync middleware: notes the thread it runs on for the view to answer."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request.thread_seen = threading.get_ident()
        return get_response(request)

    return middleware


_stream_may_end: dict[str, asyncio.Event] = {}
_stream_saw: dict[str, Any] = {}


def _held_stream(request: HttpRequest) -> StreamingHttpResponse:
    """A sync view that reads the database, then answers with a stream that lasts until the
    test lets it end; the stream notes whether its thread still held a connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    async def body():
        yield b"first "
        _stream_saw["connection_held"] = await sync_to_async(
            lambda: connection.connection is not None, thread_sensitive=True
        )()
        _stream_saw["thread"] = await sync_to_async(threading.get_ident, thread_sensitive=True)()
        await _stream_may_end["event"].wait()
        yield b"last"

    return StreamingHttpResponse(body(), content_type="text/plain")


urlpatterns = [
    path("where/", _where),
    path("stream/", _async_view),
    path("held-stream/", _held_stream),
]

SETTINGS = {
    "ROOT_URLCONF": __name__,
    "MIDDLEWARE": [f"{__name__}._thread_recorder", "django.middleware.common.CommonMiddleware"],
}


async def _get_all(handler: SyncChainASGIHandler, paths: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=handler)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await asyncio.gather(*(client.get(each) for each in paths))


@pytest.fixture
def signal_threads():
    seen: dict[str, list[int]] = {"started": [], "finished": []}

    def started(**kwargs):
        seen["started"].append(threading.get_ident())

    def finished(**kwargs):
        seen["finished"].append(threading.get_ident())

    request_started.connect(started)
    request_finished.connect(finished)
    yield seen
    request_started.disconnect(started)
    request_finished.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_a_burst_is_served_by_the_same_few_threads_each_request_in_one_of_them(signal_threads):
    _running.clear()
    with override_settings(**SETTINGS):
        handler = SyncChainASGIHandler(threads=3)
        answers = asyncio.run(_get_all(handler, ["/where/"] * 24))

    assert [answer.status_code for answer in answers] == [HTTPStatus.OK] * 24
    threads = [answer.json()["thread"] for answer in answers]
    # Three threads served all 24 (Django's own handler starts a thread per request)...
    assert len(set(threads)) == 3
    assert threading.get_ident() not in threads  # ... none of them the event loop's
    # ... never more than three at once: the others waited their turn on the loop.
    assert _running["most"] == 3
    # The middleware ran in the view's thread: the chain is one hop, not one per middleware.
    assert all(answer.json()["middleware"] == answer.json()["thread"] for answer in answers)
    # request_started and request_finished (which hands the database connection back) run
    # in the threads that served: each request's connection is closed where it was used.
    assert set(signal_threads["started"]) == set(threads)
    assert set(signal_threads["finished"]) == set(threads)
    assert len(signal_threads["finished"]) == 24


@pytest.mark.django_db(transaction=True)
def test_an_async_view_and_its_async_body_are_served_as_before():
    with override_settings(**SETTINGS):
        handler = SyncChainASGIHandler(threads=1)
        stream, where = asyncio.run(_get_all(handler, ["/stream/", "/where/"]))

    assert (stream.status_code, stream.content) == (HTTPStatus.OK, b"one two")
    assert where.status_code == HTTPStatus.OK


@pytest.mark.django_db(transaction=True)
def test_a_json_answer_crosses_to_its_thread_once_and_a_stream_twice(signal_threads):
    """Django's own handler crosses three times a request (request_started, the chain,
    request_finished); an answer held whole needs one, a stream one more to close it after
    it is sent."""

    async def scenario() -> tuple[list[httpx.Response], list[str]]:
        handler = SyncChainASGIHandler(threads=1)
        await _get_all(handler, ["/where/"])  # the executor exists from the first request
        executor = handler._executors()._queue[0]
        crossings: list[str] = []
        submit = executor.submit

        def counted(fn, /, *args, **kwargs):
            crossings.append(getattr(fn, "__name__", repr(fn)))
            return submit(fn, *args, **kwargs)

        executor.submit = counted
        answers = await _get_all(handler, ["/where/"] * 4)
        answers += await _get_all(handler, ["/stream/"])
        return answers, crossings

    with override_settings(**SETTINGS):
        answers, crossings = asyncio.run(scenario())

    assert [answer.status_code for answer in answers] == [HTTPStatus.OK] * 5
    assert answers[-1].content == b"one two"
    assert len(crossings) == 4 + 2, crossings
    # Every request was started and finished, each in the thread that served it.
    assert len(signal_threads["started"]) == len(signal_threads["finished"]) == 6
    assert set(signal_threads["finished"]) == {answers[0].json()["thread"]}


@pytest.mark.django_db(transaction=True)
def test_a_stream_being_sent_neither_holds_a_thread_of_the_set_nor_a_connection(
    signal_threads,
):
    """With one thread, a request arriving while a stream is sent is served at once (it
    would otherwise wait for the stream, then get a 503): the stream's thread left the set
    and a new one took its place. The stream's connection went back to the pool before its
    body, and request_finished ran on the stream's own thread when it ended."""
    _stream_saw.clear()

    async def scenario() -> tuple[httpx.Response, list[httpx.Response]]:
        _stream_may_end["event"] = asyncio.Event()
        handler = SyncChainASGIHandler(threads=1, wait_seconds=5)
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            stream = asyncio.create_task(client.get("/held-stream/"))
            while "thread" not in _stream_saw:  # the stream is under way
                await asyncio.sleep(0.01)
            during = await asyncio.gather(*(client.get("/where/") for _ in range(3)))
            _stream_may_end["event"].set()
            return await stream, during

    with override_settings(**SETTINGS):
        stream, during = asyncio.run(scenario())

    assert [answer.status_code for answer in during] == [HTTPStatus.OK] * 3
    served_by = {answer.json()["thread"] for answer in during}
    assert (stream.status_code, stream.content) == (HTTPStatus.OK, b"first last")
    assert _stream_saw["thread"] not in served_by  # the stream kept its own thread
    if connection.vendor == "postgresql":  # Django never closes SQLite's in-memory test database
        assert _stream_saw["connection_held"] is False
    assert signal_threads["finished"][-1] == _stream_saw["thread"]


def test_the_threads_default_to_the_setting():
    with override_settings(**SETTINGS, ASGI_THREADS=7):
        assert SyncChainASGIHandler().threads == 7


def test_anything_but_http_is_refused_as_by_djangos_handler():
    with override_settings(**SETTINGS), pytest.raises(ValueError, match="only handle ASGI/HTTP"):
        asyncio.run(SyncChainASGIHandler(threads=1)({"type": "websocket"}, None, None))


_release = threading.Event()


def _stuck(request: HttpRequest) -> HttpResponse:
    """A view held until the test lets it go (a request stuck on a lock or a slow database)."""
    _release.wait(10)
    return HttpResponse("done")


urlpatterns.append(path("stuck/", _stuck))


@pytest.mark.django_db(transaction=True)
def test_a_request_that_finds_every_thread_busy_gets_a_retryable_503_after_the_wait():
    _release.clear()

    async def scenario(
        handler: SyncChainASGIHandler,
    ) -> tuple[httpx.Response, httpx.Response, float, httpx.Response]:
        transport = httpx.ASGITransport(app=handler)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            stuck = asyncio.ensure_future(http.get("/stuck/"))
            await asyncio.sleep(0.2)  # the one thread is taken
            started = time.monotonic()
            refused = await http.get("/where/")
            waited = time.monotonic() - started
            _release.set()
            return await stuck, refused, waited, await http.get("/where/")

    with override_settings(**SETTINGS):
        stuck, refused, waited, after = asyncio.run(
            scenario(SyncChainASGIHandler(threads=1, wait_seconds=0.5))
        )

    assert refused.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Content-Type"] == "application/json"
    assert refused.json() == {"detail": "The server is busy right now; try again in a few seconds."}
    assert 0.4 < waited < 5  # it waited its turn first, then gave up
    assert (stuck.status_code, stuck.content) == (HTTPStatus.OK, b"done")
    assert after.status_code == HTTPStatus.OK  # the thread was given back
