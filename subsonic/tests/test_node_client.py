"""The npm package `subsonic-api` (an OpenSubsonic client for Node.js and browsers, written by
no one here) against a live server, signed in with an API key: it lists artists and albums,
reads an album, searches, streams a song from byte 10 (a seek), stars and scrobbles it, and
builds a playlist. `make install-dev` installs the package with `npm ci` into
subsonic/tests/node/ from the committed lock file; without Node.js it is skipped and says why.
"""

import json
from pathlib import Path

import pytest

from catalog.models import Play
from library.models import Playlist
from tests.node_scripts import node_with, run_node_script
from users import services

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "scenario.mjs"


@pytest.fixture(scope="module")
def node() -> str:
    return node_with("subsonic-api", NODE_DIR)


def test_subsonic_api_browses_streams_stars_scrobbles_and_builds_a_playlist(
    node, server_of_the_files, make_user, make_album, make_song
):
    album = make_album("Blue Train", "John Coltrane")
    titles = ["Blue Train", "Moment's Notice", "Locomotion"]
    songs = [make_song(title, "John Coltrane", album=album) for title in titles]
    listener = make_user()
    secret = services.app_password_create(user=listener, name="subsonic-api").secret

    run = run_node_script(node, SCRIPT, server_of_the_files.url, secret, "locomot")

    assert run.returncode == 0, run.stderr + server_of_the_files.log()
    seen = json.loads(run.stdout)
    assert seen["ping"] == "ok"
    assert seen["artists"] == ["John Coltrane"]
    assert seen["albums"] == ["Blue Train"]
    assert sorted(seen["albumSongs"]) == sorted(titles)
    assert seen["found"] == ["Locomotion"]
    first = next(song for song in songs if song.title == seen["albumSongs"][0])
    size = first.audio.size
    assert seen["stream"] == {
        "status": 206,
        "contentRange": f"bytes 10-109/{size}",
        "length": 100,
    }
    assert seen["starred"] == [f"tr-{first.pk}"]
    assert Play.objects.filter(user=listener, song=first).count() == 1
    assert seen["playlist"] == {"name": "From subsonic-api", "songs": seen["albumSongs"][1:]}
    assert Playlist.objects.get(owner=listener).items.count() == len(titles) - 1
