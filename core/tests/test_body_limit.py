"""Request bodies are held to their cap while they stream (core/body_limit.py).

Most tests run against a live uvicorn serving `config.asgi:application` (the fixtures of
tests/live_servers.py), with its own TMPDIR, where Django spools request bodies, and its
own MEDIA_ROOT. While a body streams, the test samples the server's temporary space: the files
under TMPDIR plus the unlinked temporary files the server process holds open there (Python's
TemporaryFile has no name on Linux, so a directory listing alone would see nothing).
"""

import asyncio
import io
import json
import os
import select
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from ninja_jwt.tokens import AccessToken, RefreshToken
from PIL import Image

from catalog.models import Song
from core.body_limit import REQUEST_TOO_LARGE, BodyLimit, has_signed_access_token
from tests.helpers import expired_access_token
from tests.live_servers import FRONTEND_ORIGIN, LiveServer, access_token
from tests.media_samples import wav_bytes
from users.models import User

# The live-server fixtures of the messaging tests, used here as well.

MiB = 1024 * 1024
ME = "/api/auth/user/"
SONGS = "/api/songs/"
ADMIN_ADD_SONG = "/admin/catalog/song/add/"
# What an abusive client offers: far more than any cap.
STREAM_BYTES = 64 * MiB
PIECE_BYTES = 64 * 1024
# Body bytes the client may get to send beyond what the server read: the two sockets' kernel
# buffers and the server's read buffer.
SOCKET_SLACK = 16 * MiB
ANSWER_SECONDS = 10
TOO_LARGE = {"detail": REQUEST_TOO_LARGE}
BOUNDARY = "body-limit-boundary"


def json_cap() -> int:
    return settings.JSON_MAX_BYTES


def upload_cap() -> int:
    return settings.MAX_REQUEST_BYTES


# --- Temporary space of the server ------------------------------------------------------


def temp_bytes(pid: int, directory: Path) -> int:
    """Bytes the server process holds under `directory`: its files and its unlinked open ones."""
    total = 0
    for path in directory.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:
            pass
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
            if target.startswith(f"{directory}/") and target.endswith(" (deleted)"):
                total += fd.stat().st_size
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


class TempSampler:
    """Samples the server's temporary space in a thread; `peak` is the most it ever held."""

    def __init__(self, server: LiveServer, directory: Path) -> None:
        self.pid = server.process.pid
        self.directory = directory
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, temp_bytes(self.pid, self.directory))
            time.sleep(0.002)

    def __enter__(self) -> "TempSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, temp_bytes(self.pid, self.directory))

    def settled(self) -> int:
        """What the server still holds once it is done (it closes files after answering)."""
        deadline = time.monotonic() + 2
        while (held := temp_bytes(self.pid, self.directory)) and time.monotonic() < deadline:
            time.sleep(0.01)
        return held


# --- A client that streams a body and stops when the server answers -------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client got to hand to its socket
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    sock.setblocking(True)
    sock.settimeout(ANSWER_SECONDS)
    data = b""
    while True:
        try:
            piece = sock.recv(PIECE_BYTES)
        except ConnectionResetError:
            break  # the server closed with unread bytes: what arrived before still counts
        if not piece:
            break
        data += piece
        head, found, body = data.partition(b"\r\n\r\n")
        if found:
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:])
            if len(body) >= int(headers.get("content-length", "-1")) >= 0:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"no answer: {data[:200]!r}"
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def send_body(
    server: LiveServer,
    method: str,
    path: str,
    *,
    total: int,
    start: bytes = b"",
    filler: bytes = b" ",
    chunked: bool = True,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send `start` and then `filler` bytes up to `total` bytes of body, generated as they go.

    The body goes chunked (no length) or with its Content-Length declared. Sending stops as
    soon as the server answers or closes the connection.
    """
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port))
    head = [f"{method} {path} HTTP/1.1", f"Host: {url.netloc}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    sock.setblocking(False)
    began = time.monotonic()
    sent = 0
    pending = b""
    try:
        while sent < total or pending:
            readable, writable, _ = select.select([sock], [sock], [], ANSWER_SECONDS)
            if readable:
                break  # an answer, or the connection closed
            assert writable, f"the server neither read nor answered after {sent} bytes"
            if not pending:
                body = start[sent:] or b""
                size = min(PIECE_BYTES, total - sent)
                body = (body + filler * size)[:size]
                sent += size
                pending = (b"%x\r\n%s\r\n" % (size, body)) if chunked else body
            try:
                pending = pending[sock.send(pending) :]
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            if chunked:
                sock.setblocking(True)
                sock.sendall(b"0\r\n\r\n")
        status, answer_headers, answer_body = _read_answer(sock)
    finally:
        sock.close()
    return Answer(status, answer_headers, answer_body, sent, time.monotonic() - began)


def multipart_start(fields: dict[str, str], file_field: str, filename: str) -> bytes:
    """A multipart body up to the first byte of one file's content."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        f'name="{file_field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return "".join(parts).encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(user)}"}


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


# --- Fixtures ---------------------------------------------------------------------------


@pytest.fixture
def server_tmp(tmp_path, monkeypatch) -> Path:
    """The TMPDIR of the servers started in this test."""
    tempfile.gettempdir()  # this process keeps the temporary folder it already had
    directory = tmp_path / "server-tmp"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    return directory


@pytest.fixture
def server_media(tmp_path, monkeypatch) -> Path:
    """The MEDIA_ROOT of the servers started in this test."""
    directory = tmp_path / "server-media"
    directory.mkdir()
    monkeypatch.setenv("MEDIA_ROOT", str(directory))
    return directory


@pytest.fixture
def server(start_server, server_tmp, server_media) -> LiveServer:
    return start_server()


def assert_refused(answer: Answer) -> None:
    assert answer.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE, answer
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == TOO_LARGE
    # The server reads no further and says so.
    assert answer.headers["connection"] == "close"
    assert answer.seconds < ANSWER_SECONDS


def assert_still_answers(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/api/health/", timeout=10).status_code == HTTPStatus.OK


# Each live test runs its cases on one server: starting uvicorn is the slow part.

# --- Anonymous callers: the JSON cap ----------------------------------------------------


def test_anonymous_bodies_are_refused_once_past_the_json_cap(server, server_tmp, admin_user):
    forged = jwt.encode(
        {"token_type": "access", "user_id": admin_user.pk, "exp": int(time.time()) + 600},
        "not-the-signing-key-of-this-server-at-all",
        algorithm="HS256",
    )
    login = "/api/auth/login/"
    cases = {
        # name: path, headers, chunked (no length) or declared
        "JSON to a route that wants a token": (SONGS, {"Content-Type": "application/json"}, True),
        # No anonymous route takes a file: the JSON cap as well.
        "multipart without a token": (SONGS, {"Content-Type": MULTIPART}, True),
        "multipart with a forged token": (
            SONGS,
            {"Content-Type": MULTIPART, "Authorization": f"Bearer {forged}"},
            True,
        ),
        "JSON to the login": (login, {"Content-Type": "application/json"}, True),
        "JSON from the frontend": (
            login,
            {"Content-Type": "application/json", "Origin": FRONTEND_ORIGIN},
            True,
        ),
        "1 GiB declared": (login, {"Content-Type": "application/json"}, False),
    }

    for name, (path, headers, chunked) in cases.items():
        total = STREAM_BYTES if chunked else 1024 * MiB
        with TempSampler(server, server_tmp) as temp:
            answer = send_body(server, "POST", path, total=total, chunked=chunked, headers=headers)

        print(f"anonymous, {name}: sent {answer.sent} B, temp peak {temp.peak} B")
        assert_refused(answer)
        # The server stopped reading: the client got to send about the cap and what the
        # sockets' buffers hold, out of 64 MiB (or 1 GiB).
        assert answer.sent <= json_cap() + SOCKET_SLACK < total, name
        # The JSON cap is under FILE_UPLOAD_MAX_MEMORY_SIZE: Django never spools to disk.
        assert temp.peak <= json_cap(), name
        assert temp.settled() == 0, name
        if not chunked:
            assert temp.peak == 0, name  # refused on its declared length
        if "Origin" in headers:
            # The refusal skips Django's middleware, CORS headers included: a browser on the
            # frontend's origin could not read it without them.
            assert answer.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
        assert_still_answers(server)
    assert not Song.objects.exists()


# --- Signed-in callers --------------------------------------------------------------------


def test_a_signed_in_users_json_over_the_cap_is_refused_and_changes_nothing(
    server, server_tmp, user
):
    """2 MiB, and 11 MiB: between Django's old memory cap (10 MiB, answered with its own
    400 or a 500 page) and the old MAX_REQUEST_BYTES."""
    for size, chunked in [(2 * MiB, True), (2 * MiB, False), (11 * MiB, True), (11 * MiB, False)]:
        with TempSampler(server, server_tmp) as temp:
            answer = send_body(
                server,
                "PATCH",
                ME,
                total=size,
                start=b'{"full_name": "Too big',
                filler=b"a",
                chunked=chunked,
                headers={"Content-Type": "application/json", **bearer(user)},
            )

        print(f"signed-in JSON {size} B, chunked={chunked}: sent {answer.sent} B")
        assert_refused(answer)
        assert temp.peak <= json_cap()
        assert temp.settled() == 0
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"


def test_uploads_just_over_the_upload_cap_are_refused_and_store_nothing(
    server, server_tmp, server_media, user, admin_user
):
    uploads = {
        # name: caller, method, path, form fields, file field
        "admin adds a song": (
            admin_user,
            "POST",
            SONGS,
            {"title": "T", "artist": "A"},
            "audio_file",
        ),
        "user sets a profile image": (user, "PATCH", ME, {"full_name": "Changed"}, "image_file"),
    }

    for name, (caller, method, path, fields, file_field) in uploads.items():
        for chunked in (True, False):
            with TempSampler(server, server_tmp) as temp:
                answer = send_body(
                    server,
                    method,
                    path,
                    total=upload_cap() + 64 * 1024,
                    start=multipart_start(fields, file_field, "big.bin"),
                    filler=b"\0",
                    chunked=chunked,
                    headers={"Content-Type": MULTIPART, **bearer(caller)},
                )

            print(f"{name}, chunked={chunked}: sent {answer.sent} B, temp peak {temp.peak} B")
            assert_refused(answer)
            if chunked:
                # Django spooled what it got, up to the cap, and deleted it when stopped.
                assert temp.peak <= upload_cap()
            else:
                assert temp.peak == 0  # refused on its declared length
                assert answer.sent <= SOCKET_SLACK
            assert temp.settled() == 0
            assert files_under(server_media) == []
            assert_still_answers(server)
    assert not Song.objects.exists()
    user.refresh_from_db()
    assert (user.full_name, user.image.name) == ("Ada Listener", "")


# --- What stays within the caps goes through -----------------------------------------------


def test_json_and_uploads_within_their_caps_go_through(
    server, server_tmp, server_media, user, admin_user
):
    renamed = httpx.patch(
        f"{server.url}{ME}", json={"full_name": "Read Live"}, headers=bearer(user), timeout=10
    )
    assert renamed.status_code == HTTPStatus.OK, renamed.text
    assert renamed.json()["full_name"] == "Read Live"

    def chunks() -> Iterator[bytes]:  # no length declared: sent chunked
        yield b'{"full_name": '
        yield b'"Read Chunked"}'

    chunked = httpx.patch(
        f"{server.url}{ME}",
        content=chunks(),
        headers={"Content-Type": "application/json", **bearer(user)},
        timeout=10,
    )
    assert chunked.status_code == HTTPStatus.OK, chunked.text
    user.refresh_from_db()
    assert user.full_name == "Read Chunked"

    # Uploads over the JSON cap and under their own.
    wav = wav_bytes(70.0)
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    png = io.BytesIO()
    noise.save(png, format="PNG")
    assert len(wav) > json_cap()
    assert png.tell() > json_cap()
    with TempSampler(server, server_tmp) as temp:
        created = httpx.post(
            f"{server.url}{SONGS}",
            data={"title": "Live", "artist": "Upload"},
            files={"audio_file": ("song.wav", wav, "audio/wav")},
            headers=bearer(admin_user),
            timeout=30,
        )
        pictured = httpx.patch(
            f"{server.url}{ME}",
            files={"image_file": ("me.png", png.getvalue(), "image/png")},
            headers=bearer(user),
            timeout=30,
        )
    assert created.status_code == HTTPStatus.CREATED, created.text
    assert pictured.status_code == HTTPStatus.OK, pictured.text
    song = Song.objects.get()
    user.refresh_from_db()
    assert files_under(server_media) == sorted(
        [server_media / song.audio.name, server_media / user.image.name]
    )
    print(f"uploads under the cap: temp peak {temp.peak} B")
    assert temp.settled() == 0

    # An expired token still has a valid signature: the upload cap, then the route's 401, so
    # the client refreshes its token instead of hearing that its file is too large.
    expired = httpx.post(
        f"{server.url}{SONGS}",
        data={"title": "T", "artist": "A"},
        files={"audio_file": ("song.wav", wav, "audio/wav")},
        headers={"Authorization": f"Bearer {expired_access_token(admin_user)}"},
        timeout=30,
    )
    assert expired.status_code == HTTPStatus.UNAUTHORIZED
    assert Song.objects.count() == 1


def test_an_admin_session_keeps_the_upload_cap_for_the_admin_forms(
    server, server_media, admin_user
):
    browser = Client()
    browser.force_login(admin_user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = get_random_string(32)
    fields = {"title": "Admin upload", "artist_name": "Staff", "csrfmiddlewaretoken": csrf}
    wav = wav_bytes(70.0)
    assert len(wav) > json_cap()

    without_session = send_body(
        server,
        "POST",
        ADMIN_ADD_SONG,
        total=len(wav),
        start=multipart_start(fields, "audio", "song.wav"),
        chunked=False,
        headers={"Content-Type": MULTIPART, "Cookie": f"{settings.CSRF_COOKIE_NAME}={csrf}"},
    )
    with_session = httpx.post(
        f"{server.url}{ADMIN_ADD_SONG}",
        data=fields,
        files={"audio": ("song.wav", wav, "audio/wav")},
        headers={
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}"
        },
        timeout=30,
    )

    assert_refused(without_session)
    assert with_session.status_code == HTTPStatus.FOUND, with_session.text[:500]
    song = Song.objects.get()
    assert song.title == "Admin upload"
    assert files_under(server_media) == [server_media / song.audio.name]

    # Socket.IO's own HTTP long-polling is served outside the body limit.
    handshake = httpx.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    assert handshake.status_code == HTTPStatus.OK
    sid = json.loads(handshake.text[1:])["sid"]
    # A Socket.IO connect packet (refused later for want of a token, after the transport).
    posted = httpx.post(
        f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", content=b"40", timeout=10
    )
    assert posted.status_code == HTTPStatus.OK
    assert posted.text.lower() == "ok"


# --- Django's memory cap, with DEBUG on and off --------------------------------------------


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "declared"])
def test_an_11_mib_json_body_is_a_413_json_through_the_asgi_application(settings, debug, chunked):
    """`config.asgi.application` in this process, where DEBUG can be turned off."""
    from config.asgi import application  # imported here: it builds the Socket.IO server

    settings.DEBUG = debug
    total = 11 * MiB
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    if not chunked:
        headers.append((b"content-length", str(total).encode()))
    pulled = 0
    messages: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        size = min(PIECE_BYTES, total - pulled)
        pulled += size
        return {"type": "http.request", "body": b"a" * size, "more_body": pulled < total}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/auth/login/",
        "raw_path": b"/api/auth/login/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(application(scope, receive, send))

    start, body = messages
    assert start["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert json.loads(body["body"]) == TOO_LARGE
    # Nothing read past the cap: not a byte when the length was declared.
    assert pulled == (json_cap() + PIECE_BYTES if chunked else 0)


# --- The ASGI layer alone -------------------------------------------------------------------


def test_other_scopes_go_through_untouched():
    seen: list[tuple[dict, Any, Any]] = []

    async def app(scope, receive, send):
        seen.append((scope, receive, send))

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        pass

    for kind in ("lifespan", "websocket"):
        scope = {"type": kind}
        asyncio.run(BodyLimit(app)(scope, receive, send))
        assert seen[-1] == (scope, receive, send)


def _access_token_expired(ago: timedelta, user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - ago, lifetime=timedelta(0))
    return str(token)


def test_a_signed_access_token_is_told_apart_without_the_database(user, django_assert_num_queries):
    refresh_lifetime = settings.NINJA_JWT["REFRESH_TOKEN_LIFETIME"]
    signed_in = {
        "fresh": access_token(user),
        "expired within a refresh token's life": _access_token_expired(timedelta(hours=1), user),
    }
    anonymous = {
        "refresh, not access": str(RefreshToken.for_user(user)),
        "expired for longer than a refresh token lives": _access_token_expired(
            refresh_lifetime + timedelta(hours=1), user
        ),
        "unsigned": jwt.encode({"token_type": "access"}, None, algorithm="none"),
        "garbage": "a.b.c",
        "not ASCII": "ü",
    }

    with django_assert_num_queries(0):
        for name, token in signed_in.items():
            assert has_signed_access_token(f"Bearer {token}"), name
        for name, token in anonymous.items():
            assert not has_signed_access_token(f"Bearer {token}"), name
        assert not has_signed_access_token(f"Basic {access_token(user)}")
        assert not has_signed_access_token("")
