import base64
import json
from http import HTTPStatus

import pytest
from django.test import Client
from ninja_jwt.tokens import AccessToken, RefreshToken

from config.api import AUTHENTICATION_REQUIRED
from tests.helpers import DEFAULT_PASSWORD, bearer, expired_access_token, iso
from users import services
from users.models import User

REGISTRATION = "/api/auth/registration/"
LOGIN = "/api/auth/login/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/user/"
ADMIN_CHECK = "/api/admin/check/"
STRONG_PASSWORD = "Lyric-Bassline-42"


def registration(**overrides) -> dict:
    return {
        "email": "new.listener@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        "full_name": "New Listener",
        **overrides,
    }


def user_me(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "image_url": None,
        "is_admin": user.is_admin,
        "date_joined": iso(user.date_joined),
    }


def assert_token_pair_for(body: dict, user: User) -> None:
    assert AccessToken(body["access"])["user_id"] == user.pk
    assert RefreshToken(body["refresh"])["user_id"] == user.pk


# --- Registration ---------------------------------------------------------------------


def test_registration_creates_the_account_and_signs_in(client: Client, db):
    response = client.post(REGISTRATION, registration(), content_type="application/json")

    assert response.status_code == HTTPStatus.CREATED
    user = User.objects.get()
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == user_me(user)
    assert body["user"]["is_admin"] is False
    assert_token_pair_for(body, user)
    assert user.check_password(STRONG_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "Something-Else-42"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"password1": "password", "password2": "password"}, "password1"),
        ({"email": "not-an-email"}, "email"),
        ({"full_name": "   "}, "full_name"),
    ],
)
def test_registration_refuses_bad_input_and_writes_nothing(client: Client, db, overrides, field):
    response = client.post(REGISTRATION, registration(**overrides), content_type="application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert {error["loc"][-1] for error in response.json()["detail"]} == {field}
    assert not User.objects.exists()


def test_registration_refuses_a_taken_email_ignoring_case(client: Client, make_user):
    make_user(email="taken@example.com")

    response = client.post(
        REGISTRATION, registration(email="Taken@Example.COM"), content_type="application/json"
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": services.EMAIL_TAKEN}
    assert User.objects.count() == 1


def test_registration_refuses_the_admin_email(client: Client, db, settings):
    settings.ADMIN_EMAIL = "admin@example.com"

    response = client.post(
        REGISTRATION, registration(email="Admin@Example.com"), content_type="application/json"
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": services.EMAIL_TAKEN}
    assert not User.objects.exists()


# --- Login ----------------------------------------------------------------------------


def test_login_answers_tokens_and_the_user(client: Client, make_user):
    user = make_user(email="ada@example.com")

    response = client.post(
        LOGIN, {"email": "ADA@example.com", "password": DEFAULT_PASSWORD}, "application/json"
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["user"] == user_me(user)
    assert_token_pair_for(body, user)


@pytest.mark.parametrize(
    ("email", "password", "active"),
    [
        ("ada@example.com", "wrong-password", True),
        ("nobody@example.com", DEFAULT_PASSWORD, True),
        ("ada@example.com", DEFAULT_PASSWORD, False),
    ],
)
def test_login_refuses_wrong_credentials_and_inactive_users(
    client: Client, make_user, email, password, active
):
    make_user(email="ada@example.com", is_active=active)

    response = client.post(LOGIN, {"email": email, "password": password}, "application/json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": services.INVALID_CREDENTIALS}


def test_login_is_throttled_per_email(client: Client, make_user, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    make_user(email="ada@example.com")
    for _ in range(3):
        failed = client.post(
            LOGIN, {"email": "ada@example.com", "password": "x"}, "application/json"
        )
        assert failed.status_code == HTTPStatus.UNAUTHORIZED

    # Even the right password is refused while the email is locked.
    response = client.post(
        LOGIN, {"email": "Ada@example.com", "password": DEFAULT_PASSWORD}, "application/json"
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": services.TOO_MANY_ATTEMPTS}


def test_login_is_throttled_per_client_address(client: Client, make_user, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    make_user(email="ada@example.com")
    for attempt in range(4):
        client.post(
            LOGIN, {"email": f"guess{attempt}@example.com", "password": "x"}, "application/json"
        )

    from_same_address = client.post(
        LOGIN, {"email": "ada@example.com", "password": DEFAULT_PASSWORD}, "application/json"
    )
    from_elsewhere = Client(REMOTE_ADDR="10.1.2.3").post(
        LOGIN, {"email": "ada@example.com", "password": DEFAULT_PASSWORD}, "application/json"
    )

    assert from_same_address.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert from_elsewhere.status_code == HTTPStatus.OK


def test_successful_login_clears_the_email_failures(client: Client, make_user, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 2
    make_user(email="ada@example.com")
    client.post(LOGIN, {"email": "ada@example.com", "password": "x"}, "application/json")
    ok = client.post(
        LOGIN, {"email": "ada@example.com", "password": DEFAULT_PASSWORD}, "application/json"
    )
    client.post(LOGIN, {"email": "ada@example.com", "password": "x"}, "application/json")

    response = client.post(
        LOGIN, {"email": "ada@example.com", "password": DEFAULT_PASSWORD}, "application/json"
    )

    assert ok.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.OK


# --- Refresh and logout ---------------------------------------------------------------


def test_refresh_rotates_and_the_used_token_is_refused_after(client: Client, user):
    old = str(RefreshToken.for_user(user))

    rotated = client.post(REFRESH, {"refresh": old}, "application/json")
    reused = client.post(REFRESH, {"refresh": old}, "application/json")

    assert rotated.status_code == HTTPStatus.OK
    assert set(rotated.json()) == {"access", "refresh"}
    assert_token_pair_for(rotated.json(), user)
    assert rotated.json()["refresh"] != old
    assert reused.status_code == HTTPStatus.UNAUTHORIZED
    assert reused.json() == {"detail": services.REFRESH_INVALID}
    # The new refresh token keeps working.
    again = client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, "application/json")
    assert again.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", ""],
)
def test_refresh_refuses_invalid_tokens(client: Client, db, token):
    response = client.post(REFRESH, {"refresh": token}, "application/json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": services.REFRESH_INVALID}


def test_refresh_refuses_an_access_token(client: Client, user):
    access = str(RefreshToken.for_user(user).access_token)

    response = client.post(REFRESH, {"refresh": access}, "application/json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_blacklists_the_callers_refresh_token(client: Client, user):
    refresh = str(RefreshToken.for_user(user))

    response = Client(headers=bearer(user)).post(LOGOUT, {"refresh": refresh}, "application/json")
    after = client.post(REFRESH, {"refresh": refresh}, "application/json")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert after.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_refuses_someone_elses_refresh_token(client: Client, user, make_user):
    stranger = make_user()
    strangers_refresh = str(RefreshToken.for_user(stranger))

    response = Client(headers=bearer(user)).post(
        LOGOUT, {"refresh": strangers_refresh}, "application/json"
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"detail": services.REFRESH_NOT_YOURS}
    still_valid = client.post(REFRESH, {"refresh": strangers_refresh}, "application/json")
    assert still_valid.status_code == HTTPStatus.OK


def test_logout_needs_authentication(client: Client, user):
    response = client.post(
        LOGOUT, {"refresh": str(RefreshToken.for_user(user))}, "application/json"
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": AUTHENTICATION_REQUIRED}


def test_a_deactivated_user_loses_access_and_refresh(client: Client, user):
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    user.is_active = False
    user.save()

    me = client.get(ME, headers={"Authorization": f"Bearer {access}"})
    refreshed = client.post(REFRESH, {"refresh": str(refresh)}, "application/json")

    assert me.status_code == HTTPStatus.UNAUTHORIZED
    assert refreshed.status_code == HTTPStatus.UNAUTHORIZED


# --- Bearer tokens --------------------------------------------------------------------


def _unsigned_token(user: User) -> str:
    def encode(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    claims = dict(AccessToken.for_user(user).payload)
    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(claims)}."


@pytest.mark.parametrize(
    "make_header",
    [
        lambda user: "Bearer garbage",
        lambda user: f"Bearer {expired_access_token(user)}",
        lambda user: f"Bearer {_unsigned_token(user)}",
        lambda user: f"Bearer {RefreshToken.for_user(user)}",
        lambda user: "Basic dXNlcjpwYXNz",
    ],
    ids=["garbage", "expired", "alg-none", "refresh-token", "basic"],
)
def test_bad_bearer_tokens_are_refused(client: Client, user, make_header):
    response = client.get(ME, headers={"Authorization": make_header(user)})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": AUTHENTICATION_REQUIRED}


# --- Admin check ----------------------------------------------------------------------


def test_admin_check_for_a_listener(auth_client: Client):
    response = auth_client.get(ADMIN_CHECK)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"is_admin": False}


def test_admin_check_for_a_superuser(admin_client: Client):
    assert admin_client.get(ADMIN_CHECK).json() == {"is_admin": True}


def test_admin_check_for_the_admin_email_account(client: Client, make_user, settings):
    settings.ADMIN_EMAIL = "Boss@Example.com"
    boss = make_user(email="boss@example.com")

    response = client.get(ADMIN_CHECK, headers=bearer(boss))

    assert response.json() == {"is_admin": True}
    assert boss.is_staff is True  # the admin panel lets that account in


def test_admin_check_needs_authentication(client: Client, db):
    assert client.get(ADMIN_CHECK).status_code == HTTPStatus.UNAUTHORIZED
