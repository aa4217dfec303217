"""Abuse limits of accounts: the admin's sign-in page shares the API's sign-in throttles, and
registrations are limited per client address. Each refusal is a 429 with Retry-After."""

from http import HTTPStatus

from django.test import Client

from tests.helpers import DEFAULT_PASSWORD, retry_after_is_about, run_project_python
from users.models import User
from users.services import TOO_MANY_ATTEMPTS, TOO_MANY_REGISTRATIONS

LOGIN = "/api/auth/login/"
ADMIN_LOGIN = "/admin/login/"
REGISTRATION = "/api/auth/registration/"
STRONG_PASSWORD = "Lyric-Bassline-42"


def admin_sign_in(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def api_sign_in(client: Client, email: str, password: str):
    return client.post(LOGIN, {"email": email, "password": password}, "application/json")


def signed_in_to_admin(client: Client) -> bool:
    return "_auth_user_id" in client.session


def assert_retry_after(response, window_seconds: int) -> None:
    assert 1 <= int(response["Retry-After"]) <= window_seconds


# --- The admin's sign-in page ---------------------------------------------------------


def test_the_admin_signs_in_with_the_right_password(client: Client, admin_user: User):
    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"
    assert signed_in_to_admin(client)


def test_after_40_wrong_passwords_the_admin_page_refuses_the_right_one(
    client: Client, admin_user: User, settings
):
    for _ in range(40):
        wrong = admin_sign_in(client, admin_user.email, "guess")
        assert wrong.status_code in (HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS)
        assert not signed_in_to_admin(client)

    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert_retry_after(response, settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert not signed_in_to_admin(client)


def test_the_admin_page_locks_at_the_api_limit_per_email(
    client: Client, admin_user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    for _ in range(3):
        wrong = admin_sign_in(client, admin_user.email, "guess")
        assert wrong.status_code == HTTPStatus.OK  # the page again, with Django's error
        assert TOO_MANY_ATTEMPTS not in wrong.content.decode()

    refused = admin_sign_in(client, admin_user.email.upper(), DEFAULT_PASSWORD)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signed_in_to_admin(client)


def test_api_failures_lock_the_admin_page(client: Client, admin_user: User, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_EMAIL):
        assert api_sign_in(client, admin_user.email, "guess").status_code == 401

    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert not signed_in_to_admin(client)


def test_admin_page_failures_lock_the_api_login(client: Client, admin_user: User, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_EMAIL):
        admin_sign_in(client, admin_user.email, "guess")

    response = api_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_ATTEMPTS}
    assert_retry_after(response, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def test_the_per_address_counter_is_shared_too(client: Client, admin_user: User, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for attempt in range(2):
        api_sign_in(client, f"guess{attempt}@example.com", "x")
        admin_sign_in(client, f"other{attempt}@example.com", "x")

    from_same_address = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    from_elsewhere = admin_sign_in(elsewhere, admin_user.email, DEFAULT_PASSWORD)

    assert from_same_address.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert from_elsewhere.status_code == HTTPStatus.FOUND
    assert signed_in_to_admin(elsewhere)


def test_a_right_password_on_the_admin_page_clears_the_email_failures(
    client: Client, admin_user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    for _ in range(2):
        admin_sign_in(client, admin_user.email, "guess")
    assert admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD).status_code == 302

    # Two more failures would have locked the email without the reset.
    for _ in range(2):
        assert api_sign_in(Client(), admin_user.email, "guess").status_code == 401
    assert api_sign_in(Client(), admin_user.email, DEFAULT_PASSWORD).status_code == 200


def test_the_lock_ends_with_its_window(client: Client, admin_user: User, settings, clock):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 2
    for _ in range(2):
        admin_sign_in(client, admin_user.email, "guess")
    refused = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused, settings.LOGIN_FAILURE_WINDOW_SECONDS)

    clock.advance(settings.LOGIN_FAILURE_WINDOW_SECONDS - 100)
    still = api_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    assert still.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(still, 100)

    clock.advance(101)
    assert admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD).status_code == 302


def test_a_listener_cannot_use_the_admin_page_and_is_not_counted_as_a_guess(
    client: Client, user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 1

    response = admin_sign_in(client, user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.OK  # Django's "staff account" error
    assert not signed_in_to_admin(client)
    assert api_sign_in(client, user.email, DEFAULT_PASSWORD).status_code == HTTPStatus.OK


def test_failures_in_another_process_lock_the_admin_page(
    redis_cache, client: Client, admin_user: User, settings
):
    other_process = run_project_python(
        "import django; django.setup()\n"
        "from users.throttling import record_login_failure\n"
        f"for _ in range({settings.LOGIN_MAX_FAILURES_PER_EMAIL}):\n"
        f"    record_login_failure(email='{admin_user.email}', address='10.9.9.9')",
        **redis_cache.server_env(),
    )

    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert other_process.returncode == 0, other_process.stderr
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signed_in_to_admin(client)


# --- Registrations per client address -------------------------------------------------


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
    assert_retry_after(response, 60 * 60)
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


def test_refused_registration_attempts_count_too(client: Client, make_user, settings):
    settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR = 2
    make_user(email="taken@example.com")
    taken = {**registration(0), "email": "taken@example.com"}
    for _ in range(2):
        assert client.post(REGISTRATION, taken, "application/json").status_code == 409

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


def test_registrations_from_another_process_count_here(redis_cache, client: Client, db, settings):
    limit = settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR
    other_process = run_project_python(
        "import django; django.setup()\n"
        "from users.throttling import count_registration\n"
        f"for _ in range({limit}):\n"
        "    count_registration(address='127.0.0.1', detail='refused')",
        **redis_cache.server_env(),
    )

    response = register(client, 0)

    assert other_process.returncode == 0, other_process.stderr
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_REGISTRATIONS}
    assert not User.objects.exists()


def test_openapi_documents_429_with_retry_after_on_registration(client: Client):
    operation = client.get("/api/openapi.json").json()["paths"][REGISTRATION]["post"]

    assert "429" in operation["responses"]
    assert "Retry-After" in operation["responses"]["429"].get("headers", {})
