"""The sign-in lockout (django-axes, users/lockout.py): the API's login and the admin's sign-in
page count failures together, per email and per client address, each with its own limit;
while either is locked both refuse even the right password, with 429 and Retry-After."""

import json
from datetime import timedelta
from http import HTTPStatus

from axes.middleware import AxesMiddleware
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import authenticate
from django.db.models import F
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tests.helpers import DEFAULT_PASSWORD, retry_after_is_about
from users.forms import ADMIN_INVALID_LOGIN
from users.models import User
from users.services import INVALID_CREDENTIALS, TOO_MANY_ATTEMPTS

LOGIN = "/api/auth/login/"
ADMIN_LOGIN = "/admin/login/"


def admin_sign_in(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def api_sign_in(client: Client, email: str, password: str):
    return client.post(LOGIN, {"email": email, "password": password}, "application/json")


def signed_in_to_admin(client: Client) -> bool:
    return "_auth_user_id" in client.session


def time_passes(seconds: float) -> None:
    """What `seconds` do to the lockout: the failures it counts (axes' rows, each dated by its
    latest failure) grow that much older."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=seconds))


# --- The admin's sign-in page ---------------------------------------------------------


def test_the_admin_signs_in_with_the_right_password_and_it_is_logged(
    client: Client, admin_user: User
):
    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"
    assert signed_in_to_admin(client)
    # The admins' sign-ins are kept, with the address (axes' AccessLog).
    assert list(AccessLog.objects.values_list("username", "ip_address")) == [
        (admin_user.email, "127.0.0.1")
    ]


def test_after_40_wrong_passwords_the_admin_page_refuses_the_right_one(
    client: Client, admin_user: User, settings
):
    for _ in range(40):
        wrong = admin_sign_in(client, admin_user.email, "guess")
        assert wrong.status_code in (HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS)
        assert not signed_in_to_admin(client)

    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(response, settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert not signed_in_to_admin(client)


def test_the_admin_page_locks_at_the_api_limit_per_email(
    client: Client, admin_user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    for _ in range(3):
        wrong = admin_sign_in(client, admin_user.email, "guess")
        # The page again with its error, the third (which reaches the limit) too.
        assert wrong.status_code == HTTPStatus.OK
        assert TOO_MANY_ATTEMPTS not in wrong.content.decode()

    refused = admin_sign_in(client, admin_user.email.upper(), DEFAULT_PASSWORD)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signed_in_to_admin(client)


def test_the_locked_admin_page_says_why_once_and_offers_the_form(
    client: Client, admin_user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 1
    admin_sign_in(client, admin_user.email, "guess")

    page = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    html = page.content.decode()
    assert page.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert page.context["form"].errors == {"__all__": [TOO_MANY_ATTEMPTS]}
    assert html.count(TOO_MANY_ATTEMPTS) == 1
    assert "data-sign-in-errors" in html  # the page's one banner (templates/admin/sign_in.html)
    assert ADMIN_INVALID_LOGIN not in html
    assert 'name="password"' in html


def test_api_failures_lock_the_admin_page(client: Client, admin_user: User, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_EMAIL):
        assert api_sign_in(client, admin_user.email, "guess").status_code == 401

    response = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(response, settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert not signed_in_to_admin(client)


def test_admin_page_failures_lock_the_api_login(client: Client, admin_user: User, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_EMAIL):
        assert admin_sign_in(client, admin_user.email, "guess").status_code == HTTPStatus.OK

    response = api_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_ATTEMPTS}
    assert retry_after_is_about(response, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def test_the_per_address_count_is_shared_too(client: Client, admin_user: User, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for attempt in range(2):
        api_sign_in(client, f"guess{attempt}@example.com", "x")
        admin_sign_in(client, f"other{attempt}@example.com", "x")

    from_same_address = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    by_api_from_same_address = api_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    from_elsewhere = admin_sign_in(elsewhere, admin_user.email, DEFAULT_PASSWORD)

    assert from_same_address.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert by_api_from_same_address.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert by_api_from_same_address.json() == {"detail": TOO_MANY_ATTEMPTS}
    assert retry_after_is_about(by_api_from_same_address, settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert from_elsewhere.status_code == HTTPStatus.FOUND
    assert signed_in_to_admin(elsewhere)


def test_the_email_and_the_address_each_have_their_own_limit(
    client: Client, make_user, admin_user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 2
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    ada, bob = make_user(), make_user()
    for _ in range(2):
        assert api_sign_in(client, ada.email, "guess").status_code == HTTPStatus.UNAUTHORIZED

    # Ada's email is locked; the address, at 2 failures of its 3, is not.
    assert api_sign_in(client, ada.email, DEFAULT_PASSWORD).status_code == 429
    assert api_sign_in(client, bob.email, DEFAULT_PASSWORD).status_code == HTTPStatus.OK

    # The address's third failure locks it, for every email.
    assert api_sign_in(client, "carol@example.com", "guess").status_code == 401
    assert api_sign_in(client, bob.email, DEFAULT_PASSWORD).status_code == 429
    assert admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD).status_code == 429
    assert api_sign_in(Client(REMOTE_ADDR="10.1.2.3"), bob.email, DEFAULT_PASSWORD).status_code == (
        HTTPStatus.OK
    )


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


def test_the_lock_ends_its_window_after_the_failure_that_began_it(
    client: Client, admin_user: User, settings
):
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 2
    for _ in range(2):
        admin_sign_in(client, admin_user.email, "guess")
    refused = admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused, window)

    time_passes(window - 100)
    # Attempts while locked are refused without counting: the lock's end does not move.
    for _ in range(3):
        assert api_sign_in(client, admin_user.email, "guess").status_code == 429
    still = api_sign_in(client, admin_user.email, DEFAULT_PASSWORD)
    assert still.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(still, 100)

    time_passes(101)
    assert admin_sign_in(client, admin_user.email, DEFAULT_PASSWORD).status_code == 302


def test_failures_count_until_a_window_passes_without_one(
    client: Client, admin_user: User, settings
):
    # Axes' window: the failures for an email and address are forgotten a window after the
    # latest of them (a fixed window from the first would have ended 10 seconds later).
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 2
    assert api_sign_in(client, admin_user.email, "guess").status_code == 401
    time_passes(window - 10)
    assert api_sign_in(client, admin_user.email, "guess").status_code == 401

    refused = api_sign_in(client, admin_user.email, DEFAULT_PASSWORD)

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused, window)


def test_a_listener_cannot_use_the_admin_page_and_is_not_counted_as_a_guess(
    client: Client, user: User, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 1

    response = admin_sign_in(client, user.email, DEFAULT_PASSWORD)

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors == {"__all__": [ADMIN_INVALID_LOGIN]}
    assert not signed_in_to_admin(client)
    assert api_sign_in(client, user.email, DEFAULT_PASSWORD).status_code == HTTPStatus.OK


def test_an_admin_sees_the_failures_and_unlocks_by_deleting_them(
    staff_client: Client, make_user, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 2
    ada = make_user()
    for _ in range(2):
        api_sign_in(Client(), ada.email, "guess")
    assert api_sign_in(Client(), ada.email, DEFAULT_PASSWORD).status_code == 429

    listing = staff_client.get(reverse("admin:axes_accessattempt_changelist"))
    attempt = AccessAttempt.objects.get(username=ada.email)
    deleted = staff_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert listing.status_code == HTTPStatus.OK
    assert ada.email in listing.content.decode()
    assert deleted.status_code == HTTPStatus.FOUND
    assert api_sign_in(Client(), ada.email, DEFAULT_PASSWORD).status_code == HTTPStatus.OK


def test_a_sign_in_axes_refuses_that_no_view_answers_gets_the_apis_429(rf, make_user, settings):
    # As a sign-in path that does not check the lock itself would: AxesStandaloneBackend
    # refuses inside authenticate(), and AxesMiddleware answers (users.lockout).
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 1
    ada = make_user()
    assert api_sign_in(Client(), ada.email, "guess").json() == {"detail": INVALID_CREDENTIALS}

    def unaware_view(request):
        assert authenticate(request, username=ada.email, password=DEFAULT_PASSWORD) is None
        return HttpResponse("Wrong password", status=HTTPStatus.UNAUTHORIZED)

    response = AxesMiddleware(unaware_view)(rf.post("/elsewhere/"))

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert json.loads(response.content) == {"detail": TOO_MANY_ATTEMPTS}
    assert retry_after_is_about(response, settings.LOGIN_FAILURE_WINDOW_SECONDS)
