"""A web player on another origin, in a real browser: headless Chromium loads a page from one
local origin (a throwaway http.server) whose script streams a song from the API on another (a
live gunicorn, deploy/gunicorn.conf.py, that lists the page's origin in CORS_ALLOWED_ORIGINS).

The script asks for a byte range, reads the headers a player needs (Content-Range, ETag,
Accept-Ranges), then revalidates with If-None-Match; it writes what it saw for the test to read.
Range and If-None-Match need the preflight to allow them; the response headers are hidden from
the script unless the API exposes them (CORS_EXPOSE_HEADERS).
"""

import uuid
from collections.abc import Iterator
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from catalog.models import Song
from tests import live_servers as live
from tests.helpers import BROWSER_TEST, credited, serving
from tests.media_samples import wav_bytes

pytestmark = BROWSER_TEST


PLAYER = """<!doctype html>
<meta charset="utf-8">
<title>player</title>
<script>
(async () => {
  const url = new URLSearchParams(location.search).get("stream");
  const seen = {};
  try {
    const part = await fetch(url, {headers: {Range: "bytes=0-99"}, cache: "no-store"});
    seen.status = part.status;
    seen.contentRange = part.headers.get("Content-Range");
    seen.acceptRanges = part.headers.get("Accept-Ranges");
    seen.contentLength = part.headers.get("Content-Length");
    seen.etag = part.headers.get("ETag");
    seen.bytes = (await part.arrayBuffer()).byteLength;
    const again = await fetch(url, {headers: {"If-None-Match": seen.etag}, cache: "no-store"});
    seen.revalidated = again.status;
  } catch (error) {
    seen.error = String(error);
  }
  window.seen = seen;
})();
</script>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def page_origin(tmp_path) -> Iterator[str]:
    """A second origin: the player page served by http.server on a free port of localhost."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "player.html").write_text(PLAYER)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    with serving(server):
        # "localhost" for the page, 127.0.0.1 for the API: another origin by host and by port.
        yield f"http://localhost:{server.server_address[1]}"


@pytest.fixture
def api(live_database_url, page_origin, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn serving the API, allowing the page's origin; (its URL, its MEDIA_ROOT)."""
    media = tmp_path / "media"
    (media / "songs").mkdir(parents=True)
    env = live.server_env(
        database_url=live_database_url,
        redis_url="",
        env={"CORS_ALLOWED_ORIGINS": page_origin, "MEDIA_ROOT": str(media), "WEB_CONCURRENCY": "1"},
    )
    server = live.start_gunicorn(env, tmp_path / f"gunicorn-{uuid.uuid4().hex[:8]}.log")
    yield server.url, media
    server.stop()
    print(f"--- gunicorn ---\n{server.log()}")


def test_a_player_on_another_origin_reads_the_range_and_revalidates(api, page_origin, browser_page):
    url, media = api
    audio = wav_bytes(1.0)
    (media / "songs" / "tone.wav").write_bytes(audio)
    song = Song.objects.create(
        title="Tone", **credited("Artist"), duration=1, audio="songs/tone.wav"
    )
    stream = f"{url}/api/songs/{song.pk}/stream/"

    browser_page.goto(f"{page_origin}/player.html?stream={stream}")
    browser_page.wait_for_function("window.seen !== undefined")
    seen = browser_page.evaluate("window.seen")

    assert "error" not in seen, seen  # a refused preflight is a TypeError in the script
    assert seen["status"] == HTTPStatus.PARTIAL_CONTENT
    assert seen["contentRange"] == f"bytes 0-99/{len(audio)}"
    assert seen["acceptRanges"] == "bytes"
    assert seen["contentLength"] == "100"
    assert seen["bytes"] == 100
    assert seen["etag"]
    assert seen["etag"].startswith('"')
    assert seen["revalidated"] == HTTPStatus.NOT_MODIFIED
