"""Local fakes of ListenBrainz's and Last.fm's HTTP APIs as their documentation states them,
each a threaded http.server on 127.0.0.1 that records what it accepted and can be told to
fail. ListenBrainz (https://listenbrainz.readthedocs.io/en/latest/users/api/core.html):
`GET /1/validate-token` and `POST /1/submit-listens`, each checking
`Authorization: Token <token>`. Last.fm: below."""

import hashlib
import ipaddress
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import serving

LISTEN_TYPES = ("single", "import", "playing_now")
MAX_LISTENS_PER_REQUEST = 1000
NO_TOKEN = "You need to provide an Authorization token."


@dataclass
class FakeListenBrainz:
    url: str = ""
    # token → the account's name.
    tokens: dict[str, str] = field(default_factory=dict)
    # Every accepted submission: {"listen_type": ..., "payload": [...], "token": ...}.
    received: list[dict[str, Any]] = field(default_factory=list)
    # Every request seen (method, path), accepted or not.
    requests: list[tuple[str, str]] = field(default_factory=list)
    # The next this-many requests (any path) answer `fail_status` (503: overloaded).
    fail_next: int = 0
    fail_status: int = 503
    lock: threading.Lock = field(default_factory=threading.Lock)

    def listens(self, listen_type: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                listen
                for submission in self.received
                if listen_type in (None, submission["listen_type"])
                for listen in submission["payload"]
            ]

    def submissions(self) -> int:
        with self.lock:
            return sum(1 for method, path in self.requests if path == "/1/submit-listens")


def _payload_error(body: Any) -> str | None:
    """What ListenBrainz's docs say a submission must be, checked: None when it is."""
    if not isinstance(body, dict) or body.get("listen_type") not in LISTEN_TYPES:
        return "Invalid listen_type."
    payload = body.get("payload")
    if not isinstance(payload, list) or not payload:
        return "Payload must be a non-empty list."
    if body["listen_type"] != "import" and len(payload) != 1:
        return "A single or playing_now submission holds exactly one listen."
    if len(payload) > MAX_LISTENS_PER_REQUEST:
        return "Too many listens."
    for listen in payload:
        metadata = listen.get("track_metadata") if isinstance(listen, dict) else None
        if not isinstance(metadata, dict):
            return "track_metadata is missing."
        for name in ("artist_name", "track_name"):
            if not isinstance(metadata.get(name), str) or not metadata[name].strip():
                return f"{name} is missing or empty."
        if body["listen_type"] == "playing_now":
            if "listened_at" in listen:
                return "playing_now listens have no listened_at."
        elif not isinstance(listen.get("listened_at"), int):
            return "listened_at is missing or not an integer."
    return None


def _handler(fake: FakeListenBrainz) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet in the tests' output
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _token(self) -> str | None:
            header = self.headers.get("Authorization", "")
            return header.removeprefix("Token ").strip() if header.startswith("Token ") else None

        def _failing(self) -> bool:
            with fake.lock:
                fake.requests.append((self.command, self.path))
                if fake.fail_next <= 0:
                    return False
                fake.fail_next -= 1
            self._answer(fake.fail_status, {"code": fake.fail_status, "error": "Overloaded."})
            return True

        def do_GET(self) -> None:
            if self._failing():
                return
            if self.path != "/1/validate-token":
                self._answer(404, {"code": 404, "error": "Not found."})
                return
            token = self._token()
            if token is None:
                self._answer(400, {"code": 400, "error": NO_TOKEN})
                return
            if token not in fake.tokens:
                self._answer(200, {"code": 200, "message": "Token invalid.", "valid": False})
                return
            user_name = fake.tokens[token]
            self._answer(
                200, {"code": 200, "message": "Token valid.", "valid": True, "user_name": user_name}
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self._failing():
                return
            if self.path != "/1/submit-listens":
                self._answer(404, {"code": 404, "error": "Not found."})
                return
            token = self._token()
            if token is None or token not in fake.tokens:
                self._answer(401, {"code": 401, "error": "Invalid authorization token."})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._answer(400, {"code": 400, "error": "Cannot parse JSON document."})
                return
            error = _payload_error(body)
            if error is not None:
                self._answer(400, {"code": 400, "error": error})
                return
            with fake.lock:
                fake.received.append({**body, "token": token})
            self._answer(200, {"status": "ok"})

    return Handler


@contextmanager
def fake_listenbrainz() -> Iterator[FakeListenBrainz]:
    fake = FakeListenBrainz()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield fake


# --- Last.fm --------------------------------------------------------------------------------
# Its web services as documented (https://www.last.fm/api/rest, /api/webauth,
# /api/show/track.scrobble, /api/show/track.updateNowPlaying, /api/errorcodes): form
# parameters POSTed to /2.0/, signed with api_sig (the md5 of every parameter but `format`,
# `callback` and `api_sig`, as name+value sorted by name, then the shared secret), XML back.
# Over HTTPS (pylast speaks nothing else), with a certificate made for 127.0.0.1.

LASTFM_PATH = "/2.0/"
INVALID_PARAMETERS = 6
INVALID_API_KEY = 10
INVALID_SIGNATURE = 13
INVALID_SESSION_KEY = 9
UNAUTHORIZED_TOKEN = 14
OPERATION_FAILED = 8


def lastfm_signature(params: dict[str, str], secret: str) -> str:
    signed = "".join(
        f"{name}{params[name]}"
        for name in sorted(params)
        if name not in ("format", "callback", "api_sig")
    )
    return hashlib.md5((signed + secret).encode()).hexdigest()  # noqa: S324 (Last.fm's rule)


@dataclass
class FakeLastFm:
    api_key: str
    api_secret: str
    url: str = ""
    ca_file: str = ""
    # Tokens the listener authorised on the auth page → their user name.
    authorised: dict[str, str] = field(default_factory=dict)
    # Session keys given out (or revoked by deleting them) → user name.
    sessions: dict[str, str] = field(default_factory=dict)
    # Accepted calls: (method, params).
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def scrobbles(self) -> list[dict[str, str]]:
        """Each scrobbled track as {artist, track, timestamp, album, duration}."""
        tracks = []
        with self.lock:
            for method, params in self.received:
                if method != "track.scrobble":
                    continue
                index = 0
                while f"artist[{index}]" in params:
                    tracks.append(
                        {
                            name: params[f"{name}[{index}]"]
                            for name in ("artist", "track", "timestamp", "album", "duration")
                            if f"{name}[{index}]" in params
                        }
                    )
                    index += 1
        return tracks

    def now_playing(self) -> list[dict[str, str]]:
        with self.lock:
            return [
                params for method, params in self.received if method == "track.updateNowPlaying"
            ]


def _lfm(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<lfm status="ok">{body}</lfm>'.encode()


def _lfm_error(code: int, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<lfm status="failed">'
        f'<error code="{code}">{escape(message)}</error></lfm>'
    ).encode()


def _lastfm_handler(fake: FakeLastFm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            params = {
                name: values[-1]
                for name, values in parse_qs(
                    self.rfile.read(length).decode(), keep_blank_values=True
                ).items()
            }
            method = params.get("method", "")
            with fake.lock:
                fake.requests.append(method)
                failing = fake.fail_next > 0
                if failing:
                    fake.fail_next -= 1
            if failing:
                self._answer(503, b"Service Unavailable")
                return
            if urlsplit(self.path).path != LASTFM_PATH:
                self._answer(404, b"Not found")
                return
            self._answer(200, self._method(method, params))

        def _method(self, method: str, params: dict[str, str]) -> bytes:
            if params.get("api_key") != fake.api_key:
                return _lfm_error(
                    INVALID_API_KEY, "Invalid API key - You must be granted a valid key by last.fm"
                )
            if params.get("api_sig") != lastfm_signature(params, fake.api_secret):
                return _lfm_error(INVALID_SIGNATURE, "Invalid method signature supplied")
            if method == "auth.getSession":
                name = fake.authorised.pop(params.get("token", ""), None)
                if name is None:
                    return _lfm_error(
                        UNAUTHORIZED_TOKEN,
                        "Unauthorized Token - This token has not been authorized",
                    )
                key = secrets.token_hex(16)
                with fake.lock:
                    fake.sessions[key] = name
                return _lfm(
                    f"<session><name>{escape(name)}</name><key>{key}</key><subscriber>0</subscriber></session>"
                )
            if method in ("track.scrobble", "track.updateNowPlaying"):
                if params.get("sk") not in fake.sessions:
                    return _lfm_error(
                        INVALID_SESSION_KEY, "Invalid session key - Please re-authenticate"
                    )
                suffix = "[0]" if method == "track.scrobble" else ""
                for name in ("artist", "track") + (("timestamp",) if suffix else ()):
                    if not params.get(f"{name}{suffix}"):
                        return _lfm_error(
                            INVALID_PARAMETERS, f"Invalid parameters - {name} is required"
                        )
                with fake.lock:
                    fake.received.append((method, params))
                if suffix:
                    count = sum(1 for name in params if name.startswith("artist["))
                    return _lfm(f'<scrobbles accepted="{count}" ignored="0"></scrobbles>')
                return _lfm("<nowplaying></nowplaying>")
            return _lfm_error(3, "Invalid Method - No method with that name in this package")

    return Handler


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the certificate is its own authority)."""
    key = ec.generate_private_key(ec.SECP256R1())
    # A name of its own: pylast's one SSL context keeps the authorities of earlier tests,
    # and a chain is looked up by its issuer's name.
    common_name = f"Last.fm fake {secrets.token_hex(6)}"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "lastfm-fake.pem", directory / "lastfm-fake.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def fake_lastfm(directory: Path, *, api_key: str, api_secret: str) -> Iterator[FakeLastFm]:
    fake = FakeLastFm(api_key=api_key, api_secret=api_secret)
    cert_path, key_path = _self_signed(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _lastfm_handler(fake))
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://127.0.0.1:{server.server_address[1]}{LASTFM_PATH}"
    fake.ca_file = str(cert_path)
    with serving(server):
        yield fake
