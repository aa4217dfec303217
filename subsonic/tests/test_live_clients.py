"""Subsonic clients that no one here wrote, against a live server (uvicorn, as in
production): py-opensonic signs in with an API key (by form POST, its default), py-sonic
with a token. Each connects, pings, and reads the license, the music folders, the
extensions, the scan status and the user; then lists artists and albums, gets an album,
searches, and streams a song whole and from a seek (Range); py-sonic streams from gunicorn
(WSGI, as deployed) too."""

import asyncio
from collections.abc import Iterator

import libopensonic
import libsonic
import pytest
from libopensonic.media.media_types import MusicFolder
from libsonic.errors import CredentialError

from subsonic import ids
from subsonic.tests.calls import LISTENER_EMAIL
from tests import live_servers as live
from tests.live_servers import LiveServer
from tests.media_samples import audio_bytes
from users import services

EXPECTED_EXTENSIONS = {"apiKeyAuthentication": [1], "formPost": [1]}


def _host_and_port(url: str) -> tuple[str, int]:
    host, port = url.rsplit(":", 1)
    return host, int(port)


def test_py_opensonic_with_an_api_key(uvicorn_server, make_user, make_song):
    make_song()
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-opensonic").secret
    host, port = _host_and_port(uvicorn_server.url)
    connection = libopensonic.Connection(
        host, port=port, api_key=secret, app_name="pytest-opensonic"
    )
    try:
        assert connection.ping() is True
        assert connection.get_license()["license"]["valid"] is True
        user = connection.get_user(LISTENER_EMAIL)
        assert user.username == LISTENER_EMAIL
        assert user.stream_role is True
        assert user.admin_role is False
        assert user.folder == [1]
        extensions = connection.get_open_subsonic_extensions()
        assert {extension.name: extension.versions for extension in extensions} == (
            EXPECTED_EXTENSIONS
        )
        scan = connection.get_scan_status()
        assert (scan.scanning, scan.count) == (False, 1)
        assert connection.token_info().username == LISTENER_EMAIL
        folders = _music_folders(connection)
        assert [(folder.id, folder.name) for folder in folders] == [(1, "Music")]
    finally:
        connection.cleanup()


def _music_folders(connection: libopensonic.Connection) -> list[MusicFolder]:
    """getMusicFolders by the library's own request, parsed by its typed model.

    py-opensonic 10.4's get_music_folders() iterates `musicFolders` as if it were the list,
    where the specification (and Navidrome, Gonic) nest it: `musicFolders.musicFolder`; it
    raises on any server that answers as the specification says.
    """
    asynchronous = connection._async

    async def fetch() -> dict:
        response = await asynchronous._do_request("getMusicFolders")
        return await asynchronous._handle_info_res(response)

    answer = asyncio.run_coroutine_threadsafe(fetch(), connection._loop).result(timeout=30)
    return [MusicFolder.from_dict(folder) for folder in answer["musicFolders"]["musicFolder"]]


def test_py_sonic_with_a_token(uvicorn_server, make_user):
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-sonic").secret
    host, port = _host_and_port(uvicorn_server.url)
    connection = libsonic.Connection(
        host, LISTENER_EMAIL, secret, port=port, serverPath="/rest", appName="pytest-sonic"
    )

    assert connection.ping() is True
    assert connection.getLicense()["license"] == {"valid": True}
    assert connection.getUser(LISTENER_EMAIL)["user"]["username"] == LISTENER_EMAIL
    assert connection.getMusicFolders()["musicFolders"] == {
        "musicFolder": [{"id": 1, "name": "Music"}]
    }
    assert connection.getScanStatus()["scanStatus"] == {"scanning": False, "count": 0}
    # py-sonic has no method for it: its own request and parsing.
    request = connection._getRequest("getOpenSubsonicExtensions.view")
    extensions = connection._doInfoReq(request)["openSubsonicExtensions"]
    assert {extension["name"]: extension["versions"] for extension in extensions} == (
        EXPECTED_EXTENSIONS
    )


def test_py_sonic_is_refused_with_a_wrong_secret(uvicorn_server, make_user):
    make_user(email=LISTENER_EMAIL)
    host, port = _host_and_port(uvicorn_server.url)
    connection = libsonic.Connection(
        host, LISTENER_EMAIL, "not-the-secret", port=port, serverPath="/rest"
    )

    with pytest.raises(CredentialError, match="Wrong username or password"):
        connection.ping()


# --- Browsing, searching and streaming --------------------------------------------------


@pytest.fixture
def library(make_album, make_song) -> dict:
    """An album of two real MP3 songs by an artist under T (for "The"), and a single."""
    album = make_album("Giant Steps", "The Coltrane Quartet", release_year=1960)
    songs = [
        make_song(title, "The Coltrane Quartet", album=album, audio=audio_bytes("tone.mp3"))
        for title in ("Giant Steps", "Naima")
    ]
    single = make_song("Alone", "Bill Evans")
    return {"album": album, "songs": songs, "single": single, "audio": audio_bytes("tone.mp3")}


def _read(connection: libopensonic.Connection, response) -> bytes:
    """The body of a binary answer, read on the library's own event loop."""
    return asyncio.run_coroutine_threadsafe(response.read(), connection._loop).result(timeout=30)


@pytest.fixture
def server_of_the_files(start_server, settings) -> LiveServer:
    """A live server that reads the files this test stored (its MEDIA_ROOT)."""
    return start_server(env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)})


def test_py_opensonic_browses_searches_and_streams_with_a_seek(
    server_of_the_files, make_user, library
):
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-opensonic").secret
    host, port = _host_and_port(server_of_the_files.url)
    connection = libopensonic.Connection(host, port=port, api_key=secret, app_name="pytest")
    album_id = ids.album_id(library["album"].pk)
    audio = library["audio"]
    try:
        artists = connection.get_artists()
        assert artists.ignored_articles == "The El La Los Las Le Les"
        assert {index.name: [a.name for a in index.artist] for index in artists.index} == {
            "B": ["Bill Evans"],
            "C": ["The Coltrane Quartet"],
        }
        coltrane = connection.get_artist(artists.index[1].artist[0].id)
        assert [album.name for album in coltrane.album] == ["Giant Steps"]
        newest = connection.get_album_list2("newest")
        assert [album.id for album in newest] == [album_id]
        album = connection.get_album(album_id)
        assert (album.name, album.song_count, album.year) == ("Giant Steps", 2, 1960)
        assert [song.title for song in album.song] == ["Giant Steps", "Naima"]
        found = connection.search3("naima")
        assert [song.id for song in found.song] == [ids.song_id(library["songs"][1].pk)]
        song_id = album.song[0].id
        whole = connection.stream(song_id)
        assert (whole.status, _read(connection, whole)) == (200, audio)
        seeked = connection.stream(song_id, byte_range=f"bytes={len(audio) // 2}-")
        assert seeked.status == 206
        assert seeked.headers["Content-Range"] == (
            f"bytes {len(audio) // 2}-{len(audio) - 1}/{len(audio)}"
        )
        assert _read(connection, seeked) == audio[len(audio) // 2 :]
    finally:
        connection.cleanup()


def test_py_sonic_browses_searches_and_streams_with_a_seek(server_of_the_files, make_user, library):
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-sonic").secret
    host, port = _host_and_port(server_of_the_files.url)
    connect = {"port": port, "serverPath": "/rest", "appName": "pytest-sonic"}
    connection = libsonic.Connection(host, LISTENER_EMAIL, secret, **connect)
    album_id = ids.album_id(library["album"].pk)
    audio = library["audio"]

    indexes = connection.getArtists()["artists"]["index"]
    assert [index["name"] for index in indexes] == ["B", "C"]
    albums = connection.getAlbumList2("alphabeticalByName")["albumList2"]["album"]
    assert [album["id"] for album in albums] == [album_id]
    album = connection.getAlbum(album_id)["album"]
    assert [song["title"] for song in album["song"]] == ["Giant Steps", "Naima"]
    found = connection.search3("alone")["searchResult3"]
    assert [song["id"] for song in found["song"]] == [ids.song_id(library["single"].pk)]
    song_id = album["song"][1]["id"]
    assert connection.stream(song_id).read() == audio
    seek = len(audio) - 1000
    seeking = libsonic.Connection(
        host, LISTENER_EMAIL, secret, customHeaders={"Range": f"bytes={seek}-"}, **connect
    )
    seeked = seeking.stream(song_id)
    assert seeked.status == 206
    assert seeked.read() == audio[seek:]


@pytest.fixture
def gunicorn_server(live_database_url, settings, tmp_path) -> Iterator[LiveServer]:
    """gunicorn as deployed (WSGI, sync workers), reading this test's files."""
    env = live.server_env(
        database_url=live_database_url,
        redis_url="",
        env={
            "WEB_CONCURRENCY": "1",
            "GUNICORN_CMD_ARGS": "",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        },
    )
    server = live.start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        yield server
    finally:
        server.stop()
        print(f"--- gunicorn {server.url} ---\n{server.log()}")  # shown when the test failed


def test_py_sonic_streams_from_gunicorn_with_a_seek(gunicorn_server, make_user, library):
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-sonic").secret
    host, port = _host_and_port(gunicorn_server.url)
    song_id = ids.song_id(library["songs"][0].pk)
    audio = library["audio"]
    seek = len(audio) // 3
    connect = {"port": port, "serverPath": "/rest", "appName": "pytest-sonic"}
    connection = libsonic.Connection(host, LISTENER_EMAIL, secret, **connect)
    seeking = libsonic.Connection(
        host, LISTENER_EMAIL, secret, customHeaders={"Range": f"bytes={seek}-"}, **connect
    )

    assert connection.getAlbum(ids.album_id(library["album"].pk))["album"]["songCount"] == 2
    assert connection.stream(song_id).read() == audio
    seeked = seeking.stream(song_id)
    assert seeked.status == 206
    assert seeked.read() == audio[seek:]
