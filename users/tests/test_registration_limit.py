"""Registrations per client address (ninja-extra's throttle, users/throttling.py): past the
hourly limit `POST /api/auth/registration/` answers 429 with Retry-After and creates nothing."""

from http import HTTPStatus

from django.test import Client

from tests.helpers import retry_after_is_about
from users.models import User
from users.services import TOO_MANY_REGISTRATIONS

REGISTRATION = "/api/auth/registration/"
STRONG_PASSWORD = "Lyric-Bassline-42"
HOUR = 60 * 60


def registration(number: int) -> dict:
    return {
        "email": f"new{number}@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "full_name": f"New Listener {number}",
    }


def register(client: Client, number: int):
    return client.post(REGISTRATION, registration(number), "application/json")


def test_registrations_past_the_hourly_limit_get_429_and_write_nothing(
    client: Client, db, settings
):
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 3
    for number in range(3):
        assert register(client, number).status_code == HTTPStatus.CREATED

    response = register(client, 3)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_REGISTRATIONS}
    assert retry_after_is_about(response, HOUR)
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "new0@example.com",
        "new1@example.com",
        "new2@example.com",
    ]


def test_the_registration_limit_is_per_client_address(client: Client, db, settings):
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 1
    assert register(client, 0).status_code == HTTPStatus.CREATED
    assert register(client, 1).status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert register(Client(REMOTE_ADDR="10.1.2.3"), 2).status_code == HTTPStatus.CREATED


def test_a_forwarded_address_from_anyone_but_a_trusted_proxy_is_not_read(
    client: Client, db, settings
):
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 1
    assert register(client, 0).status_code == HTTPStatus.CREATED

    # ninja-extra's own throttles would count this as another client.
    response = client.post(
        REGISTRATION, registration(1), "application/json", HTTP_X_FORWARDED_FOR="10.9.9.9"
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_refused_registration_attempts_count_too(client: Client, make_user, settings):
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 3
    make_user(email="taken@example.com")
    taken = {**registration(0), "email": "taken@example.com"}
    for _ in range(2):
        assert client.post(REGISTRATION, taken, "application/json").status_code == 409
    # The throttle runs before the body is read: a body the schema refuses counts as well.
    assert client.post(REGISTRATION, {}, "application/json").status_code == 422

    # Probing which emails have accounts is held to the same rate.
    assert register(client, 1).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not User.objects.filter(email="new1@example.com").exists()


def test_registrations_are_allowed_again_after_the_hour(client: Client, db, settings, clock):
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 1
    register(client, 0)
    clock.advance(30 * 60)
    refused = register(client, 1)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused, 30 * 60)

    clock.advance(30 * 60 + 1)

    assert register(client, 1).status_code == HTTPStatus.CREATED


def test_the_hour_slides_each_attempt_leaves_it_an_hour_after_it_was_made(
    client: Client, db, settings, clock
):
    # ninja-extra's window: any hour holds at most the limit (not a fixed hour from the first).
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 2
    assert register(client, 0).status_code == HTTPStatus.CREATED
    clock.advance(40 * 60)
    assert register(client, 1).status_code == HTTPStatus.CREATED
    clock.advance(10 * 60)
    refused = register(client, 2)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused, 10 * 60)  # when the first leaves the hour

    clock.advance(10 * 60 + 1)
    assert register(client, 2).status_code == HTTPStatus.CREATED
    # The second is still in the hour, with the third: full again for 40 minutes.
    refused_again = register(client, 3)
    assert refused_again.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused_again, 40 * 60 - 1)


def test_openapi_documents_429_with_retry_after_on_registration(client: Client):
    operation = client.get("/api/openapi.json").json()["paths"][REGISTRATION]["post"]

    assert "429" in operation["responses"]
    assert "Retry-After" in operation["responses"]["429"].get("headers", {})
