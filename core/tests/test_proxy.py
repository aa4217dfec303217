"""The client's address behind a trusted proxy (core/proxy.py), seen through the sign-in limit."""

from http import HTTPStatus

import pytest
from django.test import Client

from core.proxy import address_behind_proxies
from tests.helpers import DEFAULT_PASSWORD
from users.models import User

PROXY = "127.0.0.1"


WRONG_PASSWORD = "not the password"


def sign_in(client: Client, email: str, password: str = WRONG_PASSWORD):
    return client.post(
        "/api/auth/login/", {"email": email, "password": password}, content_type="application/json"
    )


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 2


@pytest.mark.django_db
def test_each_client_behind_the_proxy_has_its_own_address_limit(behind_proxy, user: User):
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    listener = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20")
    for attempt in range(2):
        sign_in(attacker, f"guess{attempt}@example.com")

    assert sign_in(attacker, "guess9@example.com").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert sign_in(listener, user.email, DEFAULT_PASSWORD).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_a_forwarded_header_from_anyone_else_is_ignored(behind_proxy):
    # Not the proxy: a client naming a fresh address in each request still counts as one.
    for attempt in range(2):
        forged = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}")
        sign_in(forged, f"guess{attempt}@example.com")

    forged = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert sign_in(forged, "guess9@example.com").status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        (PROXY, "203.0.113.7", "203.0.113.7"),
        # The client may prepend anything; the proxy appends what it saw, read from the right.
        (PROXY, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (PROXY, "203.0.113.7, 127.0.0.1", "203.0.113.7"),
        (PROXY, "", PROXY),
        (PROXY, "not-an-address", PROXY),
        ("192.0.2.1", "203.0.113.7", "192.0.2.1"),
    ],
)
def test_the_nearest_untrusted_hop_is_the_client(remote, forwarded, expected):
    assert address_behind_proxies(remote, forwarded, frozenset({PROXY})) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("remote", "secure"), [(PROXY, True), ("192.0.2.1", False)])
def test_x_forwarded_proto_is_believed_from_a_trusted_proxy_only(behind_proxy, remote, secure):
    """SECURE_PROXY_SSL_HEADER: a client reaching the server directly cannot claim https (an
    absolute URL the app builds, here audio_url, says which scheme Django believes)."""
    from catalog.models import Song
    from tests.helpers import credited

    song = Song.objects.create(title="Song", **credited("Artist"), duration=60, audio="songs/a.wav")
    client = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="https")

    response = client.get(f"/api/songs/{song.pk}/")

    assert response.status_code == HTTPStatus.OK, response.content
    scheme = "https" if secure else "http"
    # (The test client's port, 80, shows in an https URL.)
    assert response.json()["audio_url"].startswith(f"{scheme}://testserver")
