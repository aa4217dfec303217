"""Django's ASGI handler, serving its sync code from a fixed set of threads in one hop each.

Measured under uvicorn (docs/PERFORMANCE.md, "The ASGI path"), Django's own handler spent
most of a song detail's time in two places, neither of them the request's own work:

- **A new thread for every request.** Django enters a fresh asgiref `ThreadSensitiveContext`
  per request, which starts a thread of its own; the event loop waits for each thread to
  start. Each new thread also gets its own database wrapper, so nothing kept per connection
  survives a request (`catalog.prepared.PreparedQuery` compiled its SQL on every request).
- **About twenty crossings between the loop and a thread.** Django builds its ASGI chain
  for async and adapts each sync-only middleware where the mode changes:
  `MiddlewareMixin`'s `process_request` and `process_response` each go through
  `sync_to_async`, and the sync-only middleware nearest the view sends the call back to the
  loop and out again.

`SyncChainASGIHandler` builds the middleware chain as the WSGI handler does (sync, the same
order) and runs the whole of it in one `sync_to_async` call per request, in a thread taken
from a fixed set of `ASGI_THREADS` single-thread executors (asgiref's
`ThreadSensitiveContext(executor=...)`: everything thread-sensitive in the request, its
`request_started` and `request_finished` included, runs on that one thread, as Django's own
handler guarantees). So a thread serves request after request, as a gunicorn gthread worker's
do, and keeps its database wrapper. A request arriving while all threads are busy waits on
the loop for the next free one, at most `ASGI_THREAD_WAIT_SECONDS` (the database pool's
timeout by default), then gets the 503 with Retry-After that a request finding the pool
empty gets: threads stuck on a lock or a slow database give clients an answer they can
retry, as Django's thread-per-request handler did once the pool ran dry.

Django's own `handle` crosses to the thread three times a request: for `request_started`
(its receivers are sync), for the chain, and for `response.close()` (`request_finished`).
Here one call does all three for an answer held whole in memory (every JSON answer): the
request is started, served and closed in its thread, so the database connection is back in
the pool before the bytes leave, then the loop sends them. Nothing is left to stop early
when the client hangs up meanwhile, so such an answer is sent without Django's task
listening for the disconnect (uvicorn drops what is sent to a closed connection).

A streaming answer (the audio and waveform streams, whose async views are called from the
request's thread with `async_to_sync` and whose async bodies are sent from the loop) goes
Django's way: sent while a task listens for the client hanging up (which stops the
stream), then closed in its thread, where `request_finished` must run. So a stream keeps
its thread, idle, for as long as it is sent, which may be minutes: the thread leaves the
set and a new one takes its place for the requests that come meanwhile (the stream's ends
with it), and the stream hands its database connection back to the pool before its first
byte (anything it reads later takes one again). Streams thus neither hold a pooled
connection nor keep other requests waiting; each costs an idle thread while it lasts.
"""

import asyncio
import contextlib
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

from core.errors import RETRY_AFTER_SECONDS

SERVER_BUSY = "The server is busy right now; try again in a few seconds."

# Whether a stream took the request's thread out of the set: then the thread ends with the
# request instead of going back.
_request_thread: ContextVar[dict[str, bool]] = ContextVar("request_thread")


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self, threads: int | None = None, wait_seconds: float | None = None) -> None:
        super().__init__()
        self.threads = threads or settings.ASGI_THREADS
        self.wait_seconds = (
            settings.ASGI_THREAD_WAIT_SECONDS if wait_seconds is None else wait_seconds
        )
        self._free: asyncio.Queue[ThreadPoolExecutor] | None = None
        self._thread_numbers = itertools.count()

    def load_middleware(self, is_async: bool = False) -> None:
        # The sync chain, as under WSGI: `serve` runs it with BaseHandler.get_response.
        super().load_middleware(is_async=False)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's `handle` (5.2), with the request's sync work in one crossing."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self.serve, thread_sensitive=True)(scope, body_file)
            if not response.streaming:
                await self.send_response(response, send)  # already closed, in its thread
                return
            self._leave_the_set()
            await self._send_stream(response, receive, send)
        finally:
            body_file.close()

    def serve(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """In the request's thread: started, answered and, unless it streams, closed."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # as Django's run_get_response
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if response.streaming:
            close_old_connections()  # back to the pool while the stream is sent
        else:
            response.close()  # request_finished: the database connection back to the pool
        return response

    async def _send_stream(self, response: HttpResponseBase, receive: Any, send: Any) -> None:
        """Sent as Django sends every answer: stopped if the client hangs up meanwhile, then
        closed in the request's thread."""

        async def sending() -> None:
            with contextlib.suppress(asyncio.CancelledError):  # the client hung up
                await self.send_response(response, send)

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(sending()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                await task
        await sync_to_async(response.close, thread_sensitive=True)()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # as Django's handler
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        free = self._executors()
        try:
            executor = await asyncio.wait_for(free.get(), self.wait_seconds)
        except TimeoutError:
            await _busy(send)
            return
        thread = {"streaming": False}
        token = _request_thread.set(thread)
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            _request_thread.reset(token)
            if thread["streaming"]:
                executor.shutdown(wait=False)  # its replacement is already in the set
            else:
                free.put_nowait(executor)

    def _executors(self) -> asyncio.Queue[ThreadPoolExecutor]:
        # Made on first use, inside the server's event loop (the queue belongs to it).
        if self._free is None:
            self._free = asyncio.Queue()
            for _ in range(self.threads):
                self._free.put_nowait(self._new_executor())
        return self._free

    def _new_executor(self) -> ThreadPoolExecutor:
        number = next(self._thread_numbers)
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-{number}")

    def _leave_the_set(self) -> None:
        """The request's thread stays with its stream; a new one serves the others."""
        thread = _request_thread.get(None)
        if thread is not None and not thread["streaming"]:
            thread["streaming"] = True
            self._executors().put_nowait(self._new_executor())


async def _busy(send: Any) -> None:
    """The 503 of a request that found every thread busy for the whole wait (its body, if
    any, unread: the connection closes after the answer)."""
    body = json.dumps({"detail": SERVER_BUSY}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    ]
    status = HTTPStatus.SERVICE_UNAVAILABLE
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def get_asgi_application() -> SyncChainASGIHandler:
    """`django.core.asgi.get_asgi_application` with the handler above."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
