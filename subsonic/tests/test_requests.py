"""How `/rest/` takes requests: paths, methods, form POST, parameters, and what it answers
for endpoints it does not implement or a failure it did not expect."""

import logging
from urllib.parse import urlencode

import pytest
from django.test import Client

from core.errors import Conflict, Invalid, NotAuthenticated, NotFound, PermissionDenied
from library.models import Playlist, PlaylistItem
from subsonic.params import MAX_FIELDS
from subsonic.registry import ENDPOINTS, Endpoint
from subsonic.spec import ENDPOINT_NAMES
from subsonic.tests.calls import LISTENER_EMAIL, answer, api_key, call, error_of, token, xml_root
from subsonic.views import (
    METHOD_NOT_ALLOWED,
    NOT_IMPLEMENTED,
    SERVER_ERROR,
    UNKNOWN_ENDPOINT,
    UNREADABLE_FORM,
)
from users.models import AppPassword

NOT_YET = sorted(ENDPOINT_NAMES - set(ENDPOINTS))


@pytest.mark.parametrize("suffix", ["", ".view", "/"])
def test_a_name_with_or_without_view_is_the_same_endpoint(client: Client, secret, suffix: str):
    response = call(client, "getLicense", api_key(secret), suffix=suffix)

    assert answer(response)["license"] == {"valid": True}


def test_a_form_post_is_taken_as_the_query_string_is(client: Client, secret: str):
    response = call(
        client,
        "getUser",
        token(LISTENER_EMAIL, secret),
        method="post",
        suffix=".view",
        username=LISTENER_EMAIL,
    )

    assert answer(response)["user"]["username"] == LISTENER_EMAIL


def test_a_form_post_may_carry_part_of_the_parameters(client: Client, secret: str):
    response = client.post(
        "/rest/getUser.view?f=json&v=1.16.1&c=pytest",
        f"apiKey={secret}&username=Ada%40example.com",
        content_type="application/x-www-form-urlencoded",
    )

    assert answer(response)["user"]["username"] == LISTENER_EMAIL


def test_a_post_is_never_asked_for_a_csrf_token(secret: str):
    csrf_checking = Client(enforce_csrf_checks=True)

    response = call(csrf_checking, "ping", api_key(secret), method="post")

    assert answer(response)["status"] == "ok"


def test_unknown_parameters_are_ignored(client: Client, secret: str):
    response = call(client, "ping", api_key(secret), foo="bar", id="ar-1", musicFolderId="9")

    assert answer(response)["status"] == "ok"


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_other_methods_are_405_with_the_envelope(client: Client, secret: str, method: str):
    response = getattr(client, method)(f"/rest/ping?f=json&apiKey={secret}&v=1&c=x")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    body = response.json()["subsonic-response"]
    assert body["error"] == {"code": 0, "message": METHOD_NOT_ALLOWED}


def test_head_answers_the_headers_of_get(client: Client, secret: str):
    response = client.head(f"/rest/ping?f=json&apiKey={secret}&v=1&c=x")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_a_405_is_xml_by_default(client: Client, db):
    response = client.put("/rest/ping.view")

    assert response.status_code == 405
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert b'status="failed"' in response.content


@pytest.mark.parametrize("name", NOT_YET)
def test_each_endpoint_not_implemented_yet_is_error_0(client: Client, secret: str, name: str):
    response = call(client, name, api_key(secret))

    assert error_of(response) == {"code": 0, "message": NOT_IMPLEMENTED.format(name=name)}
    assert "not implemented" in NOT_IMPLEMENTED.lower()


def test_not_implemented_is_answered_in_xml_too(client: Client, secret: str):
    root = xml_root(call(client, "getPodcasts", api_key(secret), f=None))

    assert root.get("status") == "failed"
    (error,) = root
    assert error.get("code") == "0"


def test_an_unknown_name_is_error_0_never_a_page(client: Client, secret: str):
    unknown = call(client, "getEverything", api_key(secret))
    nested = client.get(f"/rest/a/b/c?f=json&apiKey={secret}&v=1&c=x")
    bare = client.get(f"/rest?f=json&apiKey={secret}&v=1&c=x")

    assert error_of(unknown) == {
        "code": 0,
        "message": UNKNOWN_ENDPOINT.format(name="getEverything"),
    }
    assert error_of(nested)["code"] == 0
    assert error_of(bare)["code"] == 0


def test_endpoints_need_a_sign_in_before_anything_else(client: Client, db):
    assert error_of(call(client, "getArtists", api_key("wrong")))["code"] == 44
    assert error_of(call(client, "getEverything", api_key("wrong")))["code"] == 44


def test_extensions_are_public_even_with_wrong_credentials(client: Client, db):
    bare = client.get("/rest/getOpenSubsonicExtensions", {"f": "json"})
    wrong = call(client, "getOpenSubsonicExtensions", api_key("wrong"))

    assert answer(bare)["openSubsonicExtensions"] == answer(wrong)["openSubsonicExtensions"]
    assert answer(bare)["status"] == "ok"


def test_an_unexpected_failure_is_error_0_and_logged(
    client: Client, secret: str, monkeypatch, caplog
):
    def broken(call):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setitem(ENDPOINTS, "getGenres", Endpoint("getGenres", broken, public=False))

    with caplog.at_level(logging.ERROR, logger="subsonic.views"):
        response = call(client, "getGenres", api_key(secret))

    assert error_of(response) == {"code": 0, "message": SERVER_ERROR}
    assert "the disk is on fire" in caplog.text


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (NotFound("No song with this id."), 70),
        (PermissionDenied("Only the playlist's owner can change it."), 50),
        (NotAuthenticated("Signed out."), 40),
        (Conflict("Taken."), 0),
        (Invalid("name", "This field may not be blank."), 0),
    ],
)
def test_a_domain_error_becomes_its_subsonic_code(
    client: Client, secret: str, monkeypatch, raised, code: int
):
    def refusing(call):
        raise raised

    monkeypatch.setitem(ENDPOINTS, "getGenres", Endpoint("getGenres", refusing, public=False))

    response = call(client, "getGenres", api_key(secret))

    assert error_of(response) == {"code": code, "message": raised.detail}


def test_a_form_past_djangos_own_cap_is_read(client: Client, secret: str):
    fields = "&".join(f"field{number}=x" for number in range(1100))  # past Django's 1000

    response = client.post(
        f"/rest/ping?f=json&apiKey={secret}&v=1&c=x",
        fields,
        content_type="application/x-www-form-urlencoded",
    )

    assert answer(response)["status"] == "ok"


def test_a_multipart_body_that_cannot_be_read_is_error_0(client: Client, secret: str):
    response = client.post(
        f"/rest/ping?f=json&apiKey={secret}&v=1&c=x",
        b"--nothing\r\nbroken",
        content_type="multipart/form-data",  # no boundary
    )

    assert error_of(response) == {"code": 0, "message": UNREADABLE_FORM}


def test_bad_input_writes_nothing(client: Client, app_password):
    before = list(AppPassword.objects.values())

    call(client, "getUser", api_key(app_password.secret), method="put")
    call(client, "getUser", {**api_key(app_password.secret), "u": LISTENER_EMAIL})
    call(client, "getEverything", api_key("wrong"))

    assert list(AppPassword.objects.values()) == before


def test_a_form_past_the_subsonic_cap_is_error_0_and_says_why(client: Client, secret: str, caplog):
    fields = "&".join(f"songId={number}" for number in range(MAX_FIELDS + 1))

    response = client.post(
        f"/rest/ping?f=json&apiKey={secret}&v=1&c=x",
        fields,
        content_type="application/x-www-form-urlencoded",
    )

    assert error_of(response) == {"code": 0, "message": UNREADABLE_FORM}
    (record,) = [r for r in caplog.records if r.name == "subsonic.views"]
    assert f"More than {MAX_FIELDS} fields" in record.getMessage()
    assert record.exc_info is None


@pytest.mark.parametrize("as_form", [False, True])
def test_a_playlist_of_5000_songs_is_saved_in_one_request(
    client: Client, secret: str, make_song, as_form: bool
):
    songs = [make_song(f"Song {n}") for n in range(3)]
    song_ids = [str(song.pk) for song in songs] * 1667  # 5,001 ids, repeats kept
    fields = {"v": "1.16.1", "c": "x", "f": "json", "apiKey": secret, "name": "Long"}
    encoded = urlencode({**fields, "songId": song_ids}, doseq=True)

    if as_form:  # the formPost extension: url-encoded
        response = client.post(
            "/rest/createPlaylist", encoded, content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.get(f"/rest/createPlaylist?{encoded}")

    assert answer(response)["playlist"]["songCount"] == len(song_ids)
    playlist = Playlist.objects.get(name="Long")
    assert PlaylistItem.objects.filter(playlist=playlist).count() == len(song_ids)


def test_query_string_bytes_that_are_not_utf8_are_read_as_latin1(client: Client, secret):
    response = client.get(f"/rest/search3?f=json&apiKey={secret}&v=1&c=x&query=caf%E9")

    assert answer(response)["status"] == "ok"
