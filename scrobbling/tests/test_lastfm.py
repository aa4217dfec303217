"""Last.fm through its web auth flow (pylast against the local HTTPS fake): the authorisation
page, the token exchanged for a signed session key, scrobbles and "now playing" by jobs."""

import time
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from core.errors import RETRY_AFTER_SECONDS
from core.models import JobFailure
from core.sealing import unseal
from scrobbling.models import ScrobbleLink, Service
from scrobbling.services import (
    CALLBACK_NOT_HTTP,
    CALLBACK_NOT_OURS,
    LASTFM_NOT_CONFIGURED,
    LASTFM_REFUSES_IT,
    LASTFM_REVOKED,
    LASTFM_UNREACHABLE,
    SEAL_PURPOSE,
)
from scrobbling.tests.fakes import FakeLastFm
from subsonic import ids
from subsonic.tests.calls import api_key, call
from tests.helpers import bearer
from users import services as users_services
from users.models import User

URL = "/api/me/scrobbling/"
LASTFM_URL = f"{URL}lastfm/"
AUTH_URL = f"{LASTFM_URL}auth-url/"
CALLBACK = "https://music.example.com/settings/scrobbling/lastfm?step=2"
IN_PROCESS = pytest.mark.skipif(
    settings.JOBS_BACKEND != "in_process", reason="jobs run in this process on SQLite only"
)


def wait_for(condition: Callable[[], object], *, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def link(client: Client, fake: FakeLastFm, name: str = "ada_scrobbles") -> None:
    fake.authorised["granted-token"] = name
    response = client.put(LASTFM_URL, {"token": "granted-token"}, "application/json")
    assert response.status_code == HTTPStatus.OK, response.content


def test_without_an_api_account_last_fm_is_unavailable_and_says_so(auth_client: Client, settings):
    settings.LASTFM_API_KEY = settings.LASTFM_API_SECRET = ""

    assert auth_client.get(URL).json()["lastfm"]["available"] is False
    for response in (
        auth_client.get(AUTH_URL, {"callback": CALLBACK}),
        auth_client.put(LASTFM_URL, {"token": "x"}, "application/json"),
    ):
        assert response.status_code == HTTPStatus.CONFLICT
        assert response.json() == {"detail": LASTFM_NOT_CONFIGURED}
    assert not ScrobbleLink.objects.exists()


def test_the_auth_url_is_last_fms_page_with_this_server_and_the_callback(
    auth_client: Client, lastfm: FakeLastFm
):
    response = auth_client.get(AUTH_URL, {"callback": CALLBACK})

    assert response.status_code == HTTPStatus.OK
    url = urlsplit(response.json()["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "www.last.fm", "/api/auth/")
    assert parse_qs(url.query) == {"api_key": [lastfm.api_key], "cb": [CALLBACK]}
    assert auth_client.get(URL).json()["lastfm"]["available"] is True


def test_a_callback_that_is_not_a_web_address_is_a_422(auth_client: Client, lastfm: FakeLastFm):
    response = auth_client.get(AUTH_URL, {"callback": "javascript:alert(1)"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["msg"] == CALLBACK_NOT_HTTP


@pytest.mark.parametrize(
    "callback",
    [
        "https://attacker.example/steal",  # would hand the listener's Last.fm token to another
        "https://music.example.com.attacker.example/x",
        "http://music.example.com/settings",  # another scheme: another origin
        "https://music.example.com:8443/settings",
    ],
)
def test_a_callback_outside_this_server_and_its_frontends_is_a_422(
    auth_client: Client, lastfm: FakeLastFm, callback: str
):
    response = auth_client.get(AUTH_URL, {"callback": callback})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["msg"] == CALLBACK_NOT_OURS


def test_a_callback_on_this_server_itself_is_taken(auth_client: Client, lastfm: FakeLastFm):
    callback = "http://testserver/jam/?lastfm=1"  # the test client's own origin

    response = auth_client.get(AUTH_URL, {"callback": callback})

    assert response.status_code == HTTPStatus.OK
    assert parse_qs(urlsplit(response.json()["url"]).query)["cb"] == [callback]


def test_the_token_is_exchanged_for_a_session_key_kept_sealed(
    auth_client: Client, user: User, lastfm: FakeLastFm
):
    lastfm.authorised["granted-token"] = "ada_scrobbles"

    response = auth_client.put(LASTFM_URL, {"token": "granted-token"}, "application/json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["lastfm"] == {
        "available": True,
        "linked": True,
        "username": "ada_scrobbles",
        "last_error": None,
    }
    (session_key,) = lastfm.sessions
    stored = ScrobbleLink.objects.get()
    assert (stored.user, stored.service) == (user, Service.LASTFM)
    assert unseal(stored.secret, purpose=SEAL_PURPOSE) == session_key
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM scrobbling_scrobblelink")
        (raw,) = cursor.fetchone()
    assert session_key not in raw
    assert session_key not in response.content.decode()


def test_a_token_last_fm_did_not_authorise_is_a_422_and_nothing_is_written(
    auth_client: Client, lastfm: FakeLastFm
):
    response = auth_client.put(LASTFM_URL, {"token": "never-granted"}, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [{"loc": ["body", "token"], "msg": LASTFM_REFUSES_IT, "type": "value_error"}]
    }
    assert not ScrobbleLink.objects.exists()


def test_last_fm_failing_is_a_503_to_retry_and_nothing_is_written(
    auth_client: Client, lastfm: FakeLastFm
):
    lastfm.authorised["granted-token"] = "ada_scrobbles"
    lastfm.fail_next = 1

    response = auth_client.put(LASTFM_URL, {"token": "granted-token"}, "application/json")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": LASTFM_UNREACHABLE}
    assert not ScrobbleLink.objects.exists()


def test_unlinking_last_fm(auth_client: Client, lastfm: FakeLastFm):
    link(auth_client, lastfm)

    assert auth_client.delete(LASTFM_URL).status_code == HTTPStatus.NO_CONTENT
    assert not ScrobbleLink.objects.exists()


@IN_PROCESS
@pytest.mark.django_db(transaction=True)
def test_plays_are_scrobbled_and_now_playing_sent_after_failures_once(
    user: User, make_album, make_song, lastfm: FakeLastFm
):
    album = make_album("Kind of Blue", "Miles Davis")
    song = make_song("So What", "Miles Davis", album=album)
    client = Client(headers=bearer(user))
    link(client, lastfm)
    lastfm.fail_next = 2

    play_id = client.post(f"/api/songs/{song.pk}/plays/").json()["id"]

    wait_for(lambda: lastfm.scrobbles(), what="the scrobble after two failures")
    from catalog.models import Play

    played_at = Play.objects.get(pk=play_id).played_at
    assert lastfm.scrobbles() == [
        {
            "artist": "Miles Davis",
            "track": "So What",
            "timestamp": str(int(played_at.timestamp())),
            "album": "Kind of Blue",
            "duration": str(song.duration),
        }
    ]
    assert JobFailure.objects.filter(task_name="scrobbling.listens_submit").count() == 2

    secret = users_services.app_password_create(user=user, name="Phone").secret
    call(Client(), "scrobble", api_key(secret), id=ids.song_id(song.pk), submission="false")
    wait_for(lambda: lastfm.now_playing(), what="now playing")
    (playing,) = lastfm.now_playing()
    assert (playing["artist"], playing["track"], playing["album"]) == (
        "Miles Davis",
        "So What",
        "Kind of Blue",
    )
    time.sleep(0.3)
    assert len(lastfm.scrobbles()) == 1


@IN_PROCESS
@pytest.mark.django_db(transaction=True)
def test_a_revoked_session_stops_at_once_and_tells_the_listener(
    user: User, make_song, lastfm: FakeLastFm
):
    song = make_song()
    client = Client(headers=bearer(user))
    link(client, lastfm)
    lastfm.sessions.clear()  # the listener revoked this server's access on Last.fm
    before = len(lastfm.requests)

    client.post(f"/api/songs/{song.pk}/plays/")

    wait_for(lambda: ScrobbleLink.objects.get().last_error, what="the link broken")
    time.sleep(0.5)
    assert lastfm.requests[before:] == ["track.scrobble"]  # no retry
    assert client.get(URL).json()["lastfm"] == {
        "available": True,
        "linked": False,
        "username": "ada_scrobbles",
        "last_error": LASTFM_REVOKED,
    }
