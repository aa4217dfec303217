"""Subsonic clients that no one here wrote, against a live server (uvicorn, as in
production): py-opensonic signs in with an API key (by form POST, its default), py-sonic
with a token. Each connects, pings, and reads the license, the music folders, the
extensions, the scan status and the user; each builds a playlist (made with songs, songs
added and removed by index, read back), and py-opensonic keeps a play queue and a
bookmark; each stars a song and scrobbles it. Then both list artists and albums, get an
album, search, and stream a song whole and from a seek (Range); py-sonic streams from
gunicorn (WSGI, as deployed) too."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import libopensonic
import libsonic
import pytest
from libopensonic.media.media_types import MusicFolder
from libsonic.errors import CredentialError

from catalog.models import Like, Play
from library.models import AlbumLike, NowPlaying, Rating
from subsonic import ids
from subsonic.tests.calls import LISTENER_EMAIL
from tests import live_servers as live
from tests.live_servers import LiveServer
from tests.media_samples import audio_bytes
from users import services

EXPECTED_EXTENSIONS = {
    "apiKeyAuthentication": [1],
    "formPost": [1],
    "transcodeOffset": [1],
    "songLyrics": [1, 2],
}


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


def test_py_opensonic_stars_rates_and_scrobbles(uvicorn_server, make_user, make_song, make_album):
    album = make_album("Giant Steps", "John Coltrane")
    song = make_song("Naima", "John Coltrane", album=album)
    listener = make_user(email=LISTENER_EMAIL, full_name="Ada Listener")
    secret = services.app_password_create(user=listener, name="py-opensonic").secret
    host, port = _host_and_port(uvicorn_server.url)
    connection = libopensonic.Connection(
        host, port=port, api_key=secret, app_name="pytest-opensonic"
    )
    song_id, album_id = ids.song_id(song.pk), ids.album_id(album.pk)
    listened = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    try:
        assert connection.star(sids=[song_id], album_ids=[album_id]) is True
        assert connection.set_rating(song_id, 4) is True
        # Parsed by its typed models: a field of the wrong type fails here.
        starred = connection.get_starred2()
        assert [(item.id, item.title, item.user_rating) for item in starred.song] == [
            (song_id, "Naima", 4)
        ]
        assert [(item.id, item.name, item.song_count) for item in starred.album] == [
            (album_id, "Giant Steps", 1)
        ]
        assert starred.song[0].starred is not None
        assert connection.scrobble(song_id, submission=False) is True
        [playing] = connection.get_now_playing()
        assert (playing.id, playing.username, playing.player_name) == (
            song_id,
            LISTENER_EMAIL,
            "pytest-opensonic",
        )
        # py-opensonic takes seconds and sends milliseconds, as the specification says.
        assert connection.scrobble(song_id, listen_time=int(listened.timestamp())) is True
        assert connection.unstar(album_ids=[album_id]) is True
    finally:
        connection.cleanup()

    assert list(Like.objects.values_list("user", "song")) == [(listener.pk, song.pk)]
    assert not AlbumLike.objects.exists()
    assert list(Rating.objects.values_list("rating", flat=True)) == [4]
    assert list(Play.objects.values_list("user", "song", "played_at")) == [
        (listener.pk, song.pk, listened)
    ]
    assert NowPlaying.objects.get().song == song


def test_py_sonic_stars_and_scrobbles(uvicorn_server, make_user, make_song):
    song = make_song("So What", "Miles Davis")
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-sonic").secret
    host, port = _host_and_port(uvicorn_server.url)
    connection = libsonic.Connection(
        host, LISTENER_EMAIL, secret, port=port, serverPath="/rest", appName="pytest-sonic"
    )
    song_id = ids.song_id(song.pk)

    assert connection.star(sids=[song_id])["status"] == "ok"
    starred = connection.getStarred2()["starred2"]
    assert connection.scrobble(song_id)["status"] == "ok"

    assert [(item["id"], item["title"]) for item in starred["song"]] == [(song_id, "So What")]
    assert list(Like.objects.values_list("user", "song")) == [(listener.pk, song.pk)]
    assert list(Play.objects.values_list("user", "song")) == [(listener.pk, song.pk)]


def test_py_opensonic_builds_a_playlist_and_keeps_a_queue(uvicorn_server, make_user, make_song):
    first, second, third = (make_song(title) for title in ("One", "Two", "Three"))
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-opensonic").secret
    host, port = _host_and_port(uvicorn_server.url)
    connection = libopensonic.Connection(
        host, port=port, api_key=secret, app_name="pytest-opensonic"
    )
    one, two, three = (ids.song_id(song.pk) for song in (first, second, third))
    try:
        assert connection.create_playlist(name="Road Trip", song_ids=[one, two]) is True
        (made,) = connection.get_playlists()
        assert (made.name, made.song_count, made.owner, made.readonly) == (
            "Road Trip",
            2,
            LISTENER_EMAIL,
            False,
        )
        assert connection.update_playlist(
            made.id,
            comment="For the drive",
            song_ids_to_add=[three, one],
            song_indices_to_remove=[0],
        )
        playlist = connection.get_playlist(made.id)
        assert [song.id for song in playlist.entry] == [two, three, one]
        assert [song.title for song in playlist.entry] == ["Two", "Three", "One"]
        assert (playlist.comment, playlist.song_count) == ("For the drive", 3)

        assert connection.save_play_queue([three, one], current=one, position=1500) is True
        queue = connection.get_play_queue()
        assert ([song.id for song in queue.entry], queue.current, queue.position) == (
            [three, one],
            one,
            1500,
        )
        assert (queue.username, queue.changed_by) == (LISTENER_EMAIL, "pytest-opensonic")
        assert connection.create_bookmark(two, 42_000, comment="Chorus") is True
        (bookmark,) = connection.get_bookmarks()
        assert (bookmark.entry.id, bookmark.position, bookmark.comment) == (two, 42_000, "Chorus")

        assert connection.delete_playlist(made.id) is True
        assert connection.get_playlists() == []
    finally:
        connection.cleanup()


def test_py_sonic_builds_a_playlist(uvicorn_server, make_user, make_song):
    first, second, third = (make_song(title) for title in ("One", "Two", "Three"))
    listener = make_user(email=LISTENER_EMAIL)
    secret = services.app_password_create(user=listener, name="py-sonic").secret
    host, port = _host_and_port(uvicorn_server.url)
    connection = libsonic.Connection(
        host, LISTENER_EMAIL, secret, port=port, serverPath="/rest", appName="pytest-sonic"
    )
    one, two, three = (ids.song_id(song.pk) for song in (first, second, third))

    created = connection.createPlaylist(name="Road Trip", songIds=[one, two, one])
    playlist_id = created["playlist"]["id"]
    connection.updatePlaylist(
        playlist_id, name="Long Road", songIdsToAdd=[three], songIndexesToRemove=[2, 0]
    )
    playlist = connection.getPlaylist(playlist_id)["playlist"]
    listed = connection.getPlaylists()["playlists"]["playlist"]

    assert [entry["id"] for entry in created["playlist"]["entry"]] == [one, two, one]
    assert [entry["id"] for entry in playlist["entry"]] == [two, three]
    assert (playlist["name"], playlist["songCount"], playlist["owner"]) == (
        "Long Road",
        2,
        LISTENER_EMAIL,
    )
    assert [(each["id"], each["name"]) for each in listed] == [(playlist_id, "Long Road")]


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
