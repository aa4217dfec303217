"""Linking a scrobbling service (`/api/me/scrobbling/`): the token checked with the service
(the local fake of ListenBrainz, through liblistenbrainz), sealed, never shown."""

import socket
from http import HTTPStatus

from django.db import connection
from django.test import Client

from config.api import AUTHENTICATION_REQUIRED
from core.errors import RETRY_AFTER_SECONDS
from core.sealing import unseal
from scrobbling.models import ScrobbleLink, Service
from scrobbling.services import (
    LISTENBRAINZ_REFUSES_IT,
    LISTENBRAINZ_UNREACHABLE,
    SEAL_PURPOSE,
    link_break,
)
from scrobbling.tests.fakes import FakeListenBrainz
from users.models import User

URL = "/api/me/scrobbling/"
LISTENBRAINZ_URL = f"{URL}listenbrainz/"
TOKEN = "5c9e0c0a-1111-4a5b-9c3d-8e2f4a6b7c8d"

UNLINKED = {"available": True, "linked": False, "username": None, "last_error": None}
LASTFM = {"available": False, "linked": False, "username": None, "last_error": None}


def link(client: Client, token: str = TOKEN):
    return client.put(LISTENBRAINZ_URL, {"token": token}, "application/json")


def test_nothing_is_linked_at_first(auth_client: Client):
    response = auth_client.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"listenbrainz": UNLINKED, "lastfm": LASTFM}


def test_linking_checks_the_token_with_the_service_and_keeps_it_sealed(
    auth_client: Client, user: User, listenbrainz: FakeListenBrainz
):
    listenbrainz.tokens[TOKEN] = "ada_listens"

    response = link(auth_client, f"  {TOKEN} ")

    assert response.status_code == HTTPStatus.OK
    linked = {"available": True, "linked": True, "username": "ada_listens", "last_error": None}
    assert response.json() == {"listenbrainz": linked, "lastfm": LASTFM}
    assert auth_client.get(URL).json()["listenbrainz"] == linked
    assert listenbrainz.requests == [("GET", "/1/validate-token")]
    stored = ScrobbleLink.objects.get()
    assert (stored.user, stored.service) == (user, Service.LISTENBRAINZ)
    assert unseal(stored.secret, purpose=SEAL_PURPOSE) == TOKEN
    # The raw column, as the database holds it: never the token in plain text.
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM scrobbling_scrobblelink")
        (raw,) = cursor.fetchone()
    assert TOKEN not in raw
    assert TOKEN not in response.content.decode()


def test_linking_again_replaces_the_token_and_clears_the_error(
    auth_client: Client, listenbrainz: FakeListenBrainz
):
    listenbrainz.tokens.update({TOKEN: "ada_listens", "new-token": "ada_again"})
    link(auth_client)
    link_break(link_id=ScrobbleLink.objects.get().pk, error="revoked")

    response = link(auth_client, "new-token")

    assert response.json()["listenbrainz"] == {
        "available": True,
        "linked": True,
        "username": "ada_again",
        "last_error": None,
    }
    stored = ScrobbleLink.objects.get()
    assert unseal(stored.secret, purpose=SEAL_PURPOSE) == "new-token"


def test_a_token_the_service_refuses_is_a_422_and_nothing_is_written(
    auth_client: Client, listenbrainz: FakeListenBrainz
):
    response = link(auth_client, "not-a-token")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {"loc": ["body", "token"], "msg": LISTENBRAINZ_REFUSES_IT, "type": "value_error"}
        ]
    }
    assert not ScrobbleLink.objects.exists()


def test_a_blank_token_is_a_422_without_asking_the_service(
    auth_client: Client, listenbrainz: FakeListenBrainz
):
    response = link(auth_client, "   ")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert listenbrainz.requests == []
    assert not ScrobbleLink.objects.exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_service_unreachable_is_a_503_to_retry_and_nothing_is_written(
    auth_client: Client, settings
):
    settings.LISTENBRAINZ_API_URL = f"http://127.0.0.1:{_closed_port()}"

    response = link(auth_client)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": LISTENBRAINZ_UNREACHABLE}
    assert not ScrobbleLink.objects.exists()


def test_the_service_overloaded_is_a_503_too(auth_client: Client, listenbrainz: FakeListenBrainz):
    listenbrainz.tokens[TOKEN] = "ada_listens"
    listenbrainz.fail_next = 1

    response = link(auth_client)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": LISTENBRAINZ_UNREACHABLE}
    assert listenbrainz.requests == [("GET", "/1/validate-token")]  # one try, no pause
    assert not ScrobbleLink.objects.exists()


def test_a_service_that_never_answers_is_a_503_after_the_timeout(auth_client: Client, settings):
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.LISTENBRAINZ_API_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.SCROBBLING_TIMEOUT_SECONDS = 0.5

        response = link(auth_client)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert not ScrobbleLink.objects.exists()


def test_unlinking_forgets_the_token(auth_client: Client, listenbrainz: FakeListenBrainz):
    listenbrainz.tokens[TOKEN] = "ada_listens"
    link(auth_client)

    response = auth_client.delete(LISTENBRAINZ_URL)

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not ScrobbleLink.objects.exists()
    assert auth_client.get(URL).json()["listenbrainz"] == UNLINKED
    assert auth_client.delete(LISTENBRAINZ_URL).status_code == HTTPStatus.NO_CONTENT


def test_another_listeners_link_is_not_theirs_to_see_or_remove(
    make_user, listenbrainz: FakeListenBrainz
):
    from tests.helpers import bearer

    listenbrainz.tokens[TOKEN] = "ada_listens"
    owner, other = make_user(), make_user()
    link(Client(headers=bearer(owner)))
    other_client = Client(headers=bearer(other))

    assert other_client.get(URL).json()["listenbrainz"] == UNLINKED
    assert other_client.delete(LISTENBRAINZ_URL).status_code == HTTPStatus.NO_CONTENT
    assert ScrobbleLink.objects.get().user == owner


def test_signing_in_is_required(client: Client):
    for response in (
        client.get(URL),
        client.put(LISTENBRAINZ_URL, {"token": TOKEN}, "application/json"),
        client.delete(LISTENBRAINZ_URL),
    ):
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {"detail": AUTHENTICATION_REQUIRED}


def test_the_admin_lists_links_read_only_and_never_the_token(
    auth_client: Client, staff_client: Client, listenbrainz: FakeListenBrainz
):
    listenbrainz.tokens[TOKEN] = "ada_listens"
    link(auth_client)
    stored = ScrobbleLink.objects.get()

    changelist = staff_client.get("/admin/scrobbling/scrobblelink/")
    detail = staff_client.get(f"/admin/scrobbling/scrobblelink/{stored.pk}/change/")

    assert changelist.status_code == detail.status_code == HTTPStatus.OK
    for page in (changelist, detail):
        text = page.content.decode()
        assert "ada_listens" in text
        assert TOKEN not in text
        assert stored.secret not in text
    assert staff_client.get("/admin/scrobbling/scrobblelink/add/").status_code == (
        HTTPStatus.FORBIDDEN
    )
