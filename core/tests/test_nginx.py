"""The shipped nginx configuration (deploy/nginx.conf), run by Debian's nginx in front of a real
gunicorn (deploy/gunicorn.conf.py) and a real uvicorn, as in production.

The configuration is rewritten only where a test machine differs: ports, upstream addresses,
the certificate (a self-signed one made here), the media folder, the log and pid paths and the
worker's user. Each rewrite must find its text, so that the test follows the shipped file.
"""

import getpass
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from django.conf import settings

from catalog.models import Song
from core.body_limit import REQUEST_TOO_LARGE
from tests import live_servers as live
from tests.helpers import bearer, credited
from tests.live_servers import FRONTEND_ORIGIN, PROJECT, LiveServer, ServerProcess
from tests.media_samples import png_bytes, wav_bytes
from tests.ports import free_port

NGINX_CONF = PROJECT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ANSWER_SECONDS = 15
MiB = 1024 * 1024
# What the shipped configuration allows for a song's upload (client_max_body_size 56m).
SONG_UPLOAD_CAP = 56 * MiB
UPSTREAM_DOWN = {
    "detail": "The server is unavailable right now; try again in a few seconds.",
}

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists() and not os.environ.get("CI"),
    reason="nginx is not installed (`.ci/run` installs nginx-light)",
)


def rewritten(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-days", "1", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass(kw_only=True)
class Nginx(ServerProcess):
    http_url: str
    https_url: str


def nginx_conf(directory: Path, *, api: str, realtime: str, media: Path) -> tuple[Path, int, int]:
    """The shipped configuration for this machine: (path, http port, https port)."""
    cert, key = self_signed_certificate(directory)
    http_port, https_port = free_port(), free_port()
    (directory / "logs").mkdir(exist_ok=True)
    text = rewritten(
        NGINX_CONF.read_text(),
        {
            "user www-data;": f"user {getpass.getuser()};",
            "pid /run/nginx.pid;": f"pid {directory}/nginx.pid;",
            "/var/log/nginx/": f"{directory}/logs/",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "server 127.0.0.1:8000;": f"server {api};",
            "server 127.0.0.1:8001;": f"server {realtime};",
            "/etc/ssl/certs/music.example.crt": str(cert),
            "/etc/ssl/private/music.example.key": str(key),
            "/srv/music/media/": f"{media}/",
        },
    )
    path = directory / "nginx.conf"
    path.write_text(text)
    return path, http_port, https_port


def nginx_command(directory: Path, conf: Path, *extra: str) -> list[str]:
    return [NGINX, "-e", "stderr", "-p", f"{directory}/", "-c", str(conf), *extra]


def start_nginx(directory: Path, *, api: str, realtime: str, media: Path) -> Nginx:
    conf, http_port, https_port = nginx_conf(directory, api=api, realtime=realtime, media=media)
    log_path = directory / "nginx.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            nginx_command(directory, conf, "-g", "daemon off;"), stdout=log, stderr=log
        )
    server = Nginx(
        http_url=f"http://127.0.0.1:{http_port}",
        https_url=f"https://127.0.0.1:{https_port}",
        process=process,
        log_path=log_path,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"{server.http_url}/", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"nginx did not start:\n{server.log()}")


@dataclass
class Stack:
    nginx: Nginx
    gunicorn: LiveServer
    uvicorn: LiveServer
    media: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.nginx.https_url, verify=False, timeout=ANSWER_SECONDS)  # noqa: S501


@pytest.fixture
def stack(live_database_url, start_server, tmp_path) -> Iterator[Stack]:
    """gunicorn and uvicorn as deploy/nginx.conf expects them, and nginx in front."""
    media = tmp_path / "media"
    (media / "songs").mkdir(parents=True)
    env = {
        "MEDIA_ROOT": str(media),
        "MEDIA_ACCEL_REDIRECT": "/protected-media/",
        "TRUSTED_PROXIES": "127.0.0.1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        # A request Django took for plain http would be redirected: none is, behind nginx.
        "SECURE_SSL_REDIRECT": "True",
        "WEB_CONCURRENCY": "2",
        # Django sends HSTS only on a request it takes for https.
        "SECURE_HSTS_SECONDS": "60",
    }
    uvicorn = start_server(env=env)
    gunicorn = live.start_gunicorn(
        live.server_env(database_url=live_database_url, redis_url="", env=env),
        tmp_path / f"gunicorn-{uuid.uuid4().hex[:8]}.log",
    )
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    try:
        nginx = start_nginx(
            nginx_dir,
            api=urlsplit(gunicorn.url).netloc,
            realtime=urlsplit(uvicorn.url).netloc,
            media=media,
        )
    except BaseException:
        gunicorn.stop()
        raise
    yield Stack(nginx=nginx, gunicorn=gunicorn, uvicorn=uvicorn, media=media)
    nginx.stop()
    gunicorn.stop()
    print(f"--- nginx ---\n{nginx.log()}\n--- gunicorn ---\n{gunicorn.log()}")


def send_headers_only(nginx: Nginx, path: str, headers: dict[str, str]) -> httpx.Response:
    """POST over TLS with the headers (a declared Content-Length among them) and no body: an
    answer proves nginx refused on the declared length alone."""
    url = urlsplit(nginx.https_url)
    connection = http.client.HTTPSConnection(
        url.hostname,
        url.port,
        timeout=ANSWER_SECONDS,
        context=ssl._create_unverified_context(),  # noqa: S323
    )
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


def names(header: str) -> set[str]:
    return {name.strip().lower() for name in header.split(",")}


def assert_nginx_json(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["server"] == "nginx"  # nginx's own answer, not the app's
    assert response.headers["content-type"] == "application/json"
    return response.json()


# --- Item 7: a complete configuration, TLS, the two servers ----------------------------


def test_the_shipped_configuration_passes_nginx_t(tmp_path):
    conf, _, _ = nginx_conf(tmp_path, api="127.0.0.1:1", realtime="127.0.0.1:2", media=tmp_path)

    checked = subprocess.run(
        nginx_command(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30
    )

    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    assert "[warn]" not in checked.stderr, checked.stderr


def test_https_in_front_of_gunicorn_and_uvicorn(stack: Stack):
    audio = wav_bytes(1.0)
    (stack.media / "songs" / "tone.wav").write_bytes(audio)
    song = Song.objects.create(
        title="Tone", **credited("Artist"), duration=1, audio="songs/tone.wav"
    )

    with stack.client() as client:
        # Plain http: every URL moves to https, the path and query kept.
        redirect = httpx.get(f"{stack.nginx.http_url}/api/songs/?limit=1", timeout=ANSWER_SECONDS)
        health = client.get("/api/health/")
        songs = client.get("/api/songs/")
        handshake = client.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        stream = client.get(f"/api/songs/{song.pk}/stream/", headers={"Range": "bytes=0-99"})
        direct = client.get("/protected-media/songs/tone.wav")
        public_audio = client.get("/media/songs/tone.wav")

    assert redirect.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert redirect.headers["location"] == "https://127.0.0.1/api/songs/?limit=1"

    assert health.status_code == HTTPStatus.OK, health.text
    assert health.json()["database"] == "ok"
    assert health.headers["server"] == "nginx"
    # gunicorn answered, and Django took the request for https (HSTS is sent only then).
    assert health.headers["strict-transport-security"].startswith("max-age=60")

    # Django sees https: no redirect of its own (SECURE_SSL_REDIRECT is on), https URLs.
    assert songs.status_code == HTTPStatus.OK, songs.text
    assert songs.json()["items"][0]["audio_url"] == (
        f"https://127.0.0.1/api/songs/{song.pk}/stream/"
    )

    # Engine.IO's open packet ("0" and the session), from uvicorn through the /socket.io/ location.
    assert handshake.status_code == HTTPStatus.OK, handshake.text
    assert handshake.text.startswith("0{")
    assert "sid" in json.loads(handshake.text[1:])

    # The audio from disk by nginx (X-Accel-Redirect): the range, the app's Content-Type.
    assert stream.status_code == HTTPStatus.PARTIAL_CONTENT, stream.text
    assert stream.headers["content-range"] == f"bytes 0-99/{len(audio)}"
    assert stream.content == audio[:100]
    assert stream.headers["content-type"] == "audio/wav"
    assert "x-accel-redirect" not in stream.headers
    assert direct.status_code == HTTPStatus.NOT_FOUND  # internal: only by the app's hand-off
    assert public_audio.status_code == HTTPStatus.NOT_FOUND


# --- Item 6: the app's CORS headers survive the X-Accel-Redirect -----------------------


def test_cors_headers_of_the_app_survive_the_accel_redirect(stack: Stack):
    audio = wav_bytes(1.0)
    (stack.media / "songs" / "tone.wav").write_bytes(audio)
    song = Song.objects.create(
        title="Tone", **credited("Artist"), duration=1, audio="songs/tone.wav"
    )
    path = f"/api/songs/{song.pk}/stream/"
    origin = {"Origin": FRONTEND_ORIGIN}

    with stack.client() as client:
        preflight = client.options(
            path,
            headers={
                **origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "range, if-none-match, if-range",
            },
        )
        ranged = client.get(path, headers={**origin, "Range": "bytes=0-99"})
        revalidated = client.get(path, headers={**origin, "If-None-Match": ranged.headers["etag"]})
        other = client.get(
            path, headers={"Origin": "http://elsewhere.example", "Range": "bytes=0-9"}
        )

    assert preflight.status_code == HTTPStatus.OK
    assert preflight.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
    allowed = names(preflight.headers["access-control-allow-headers"])
    assert {"range", "if-none-match", "if-range"} <= allowed

    for answer, status in ((ranged, HTTPStatus.PARTIAL_CONTENT), (revalidated, 304)):
        assert answer.status_code == status, answer.text
        assert answer.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
        exposed = names(answer.headers["access-control-expose-headers"])
        assert exposed >= {"content-range", "accept-ranges", "content-length", "etag"}
        assert "retry-after" in exposed
        # Once each: a browser refuses a doubled Access-Control-Allow-Origin.
        assert len(answer.headers.get_list("access-control-allow-origin")) == 1
        assert answer.headers.get_list("vary") == ["origin"], answer.headers
    assert ranged.headers["content-range"] == f"bytes 0-99/{len(audio)}"
    # An origin the app does not allow gets no CORS header (nginx adds an empty one: none).
    assert other.status_code == HTTPStatus.PARTIAL_CONTENT
    assert "access-control-allow-origin" not in other.headers


# --- Item 13: body limits per route, JSON errors from nginx ----------------------------


def test_bodies_are_capped_per_route_and_nginx_errors_are_json(stack: Stack, admin_user, user):
    json_headers = {**bearer(user), "Content-Type": "application/json"}

    over_json = send_headers_only(
        stack.nginx,
        "/api/messages/",
        {**json_headers, "Content-Length": str(settings.JSON_MAX_BYTES + 1)},
    )
    # An upload route still holds a JSON-sized image route to its image cap.
    over_image = send_headers_only(
        stack.nginx,
        "/api/auth/user/",
        {**bearer(user), "Content-Type": "multipart/form-data; boundary=x",
         "Content-Length": str(8 * MiB)},
    )  # fmt: skip
    over_song = send_headers_only(
        stack.nginx,
        "/api/songs/",
        {**bearer(admin_user), "Content-Type": "multipart/form-data; boundary=x",
         "Content-Length": str(SONG_UPLOAD_CAP + 1)},
    )  # fmt: skip
    for refused in (over_json, over_image, over_song):
        assert assert_nginx_json(refused, HTTPStatus.REQUEST_ENTITY_TOO_LARGE) == {
            "detail": REQUEST_TOO_LARGE
        }

    # A song of more than the JSON cap goes through the upload route to the app.
    audio = wav_bytes(70.0)
    assert len(audio) > 2 * MiB
    with stack.client() as client:
        created = client.post(
            "/api/songs/",
            headers=bearer(admin_user),
            data={"title": "Long tone", "artist": "Artist"},
            files={"audio_file": ("tone.wav", audio, "audio/wav"),
                   "image_file": ("cover.png", png_bytes(), "image/png")},
        )  # fmt: skip
    assert created.status_code == HTTPStatus.CREATED, created.text
    assert created.json()["audio_url"].startswith("https://")
    assert (stack.media / Song.objects.get().audio.name).read_bytes() == audio

    # The app down (gunicorn stopped): nginx's 502, as JSON, says when to try again.
    stack.gunicorn.stop()
    with stack.client() as client:
        down = client.get("/api/songs/")
        admin_down = client.get("/admin/")
    assert assert_nginx_json(down, HTTPStatus.BAD_GATEWAY) == UPSTREAM_DOWN
    assert down.headers["retry-after"] == "5"
    # Outside /api/ nginx's own page stays (the admin is HTML).
    assert admin_down.status_code == HTTPStatus.BAD_GATEWAY
    assert admin_down.headers["content-type"].startswith("text/html")


# --- Item 14: the longest URL the schema allows, and a JSON 414 past it ----------------

# The longest character in percent-encoded UTF-8: 4 bytes, 12 characters (%F0%9F%8E%B5),
# and still one character to the server's length checks (Python counts code points).
WIDE = "\N{MUSICAL NOTE}"


def longest_value(schema: dict) -> str:
    """A value at the longest the parameter's schema allows (spaces that trimming drops and
    leading zeros aside)."""
    if schema.get("type") == "array":  # comma-separated in one parameter (?ids=1,2,3)
        return ",".join([longest_value(schema["items"])] * schema["maxItems"])
    options = [schema, *schema.get("anyOf", []), *schema.get("allOf", [])]
    lengths = [option["maxLength"] for option in options if "maxLength" in option]
    # Free text (core/text.py) has its length in its pattern: {0,N} between two characters.
    for option in options:
        if match := re.search(r"\{0,(\d+)\}", option.get("pattern", "")):
            lengths.append(int(match.group(1)) + 2)
    if lengths:
        return WIDE * max(lengths)
    enums = [value for option in options for value in option.get("enum", [])]
    if enums:
        return max(map(str, enums), key=len)
    numbers = [option[k] for option in options for k in ("maximum", "minimum") if k in option]
    if numbers:
        return max(map(str, numbers), key=len)
    raise AssertionError(f"no bound for {schema}")


def longest_urls() -> list[str]:
    """For each GET operation, its URL with every parameter at its longest, longest first."""
    schema = json.loads((PROJECT / "openapi.json").read_text())
    urls = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        query = []
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] not in ("path", "query"):
                continue  # headers (Range, If-None-Match) have limits of their own
            value = quote(longest_value(parameter["schema"]), safe="")
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", value)
            elif parameter["in"] == "query":
                query.append(f"{parameter['name']}={value}")
        urls.append(path + ("?" + "&".join(query) if query else ""))
    return sorted(urls, key=len, reverse=True)


def test_the_longest_url_the_schema_allows_is_answered_and_a_longer_one_is_a_json_414(
    stack: Stack,
):
    longest = longest_urls()[0]
    assert longest.startswith("/api/songs/?")
    # Longer than gunicorn's default limit (4094) and its largest number (8190).
    assert len(longest) > 8190

    direct = httpx.get(
        f"{stack.gunicorn.url}{longest}",
        headers={"X-Forwarded-Proto": "https"},  # from 127.0.0.1, a trusted proxy
        timeout=ANSWER_SECONDS,
    )
    # uvicorn alone (`make run`) takes it too.
    uvicorn = httpx.get(
        f"{stack.uvicorn.url}{longest}",
        headers={"X-Forwarded-Proto": "https"},
        timeout=ANSWER_SECONDS,
    )
    with stack.client() as client:
        proxied = client.get(longest)
        too_long = client.get(longest.replace("cursor=", "cursor=" + "x" * 4000, 1))
        # A header line as long as nginx takes reaches the app too; a longer one is JSON.
        long_header = client.get("/api/health/", headers={"X-Padding": "x" * 19_000})
        too_long_header = client.get("/api/health/", headers={"X-Padding": "x" * 21_000})

    for answer in (direct, uvicorn, proxied):
        # The request reached the app: its own 422 (the cursor is no cursor it gave).
        assert answer.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, answer.text[:300]
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["detail"][0]["loc"][0] == "query"
    assert direct.headers["server"] == "gunicorn"
    assert assert_nginx_json(too_long, HTTPStatus.REQUEST_URI_TOO_LONG) == {
        "detail": "The URL is longer than the server accepts."
    }
    assert long_header.status_code == HTTPStatus.OK, long_header.text
    assert assert_nginx_json(too_long_header, HTTPStatus.BAD_REQUEST) == {
        "detail": "A request header is longer than the server accepts."
    }
