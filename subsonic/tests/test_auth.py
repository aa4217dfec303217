"""Sign-in to `/rest/` with an app password: apiKey, token, password; every error code."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from subsonic.auth import CREDENTIALS_MISSING, LOCKED_OUT
from subsonic.tests.calls import LISTENER_EMAIL, SALT, answer, api_key, call, error_of, token
from tests.helpers import DEFAULT_PASSWORD
from users import services
from users.models import AppPassword, User
from users.services import NewAppPassword

WRONG = {"code": 40, "message": "Wrong username or password."}
CONFLICTING = {"code": 43, "message": "Multiple conflicting authentication mechanisms provided."}
INVALID_KEY = {"code": 44, "message": "Invalid API key."}


def ok(response) -> bool:
    return answer(response)["status"] == "ok"


def hex_of(text: str) -> str:
    return text.encode().hex()


# --- apiKey ---------------------------------------------------------------------------


def test_an_api_key_alone_signs_in(client: Client, secret: str):
    assert ok(call(client, "ping", api_key(secret)))


def test_an_api_key_with_u_is_error_43(client: Client, secret: str):
    response = call(client, "ping", {**api_key(secret), "u": LISTENER_EMAIL})

    assert error_of(response) == CONFLICTING


@pytest.mark.parametrize("other", [{"p": "x"}, {"t": "x", "s": "y"}, {"s": "y"}])
def test_an_api_key_with_other_credentials_is_error_43(client: Client, secret: str, other):
    assert error_of(call(client, "ping", {**api_key(secret), **other})) == CONFLICTING


def test_an_unknown_api_key_is_error_44(client: Client, secret: str):
    assert error_of(call(client, "ping", api_key(secret[:-1]))) == INVALID_KEY
    assert error_of(call(client, "ping", api_key(secret.upper()))) == INVALID_KEY


def test_the_api_key_of_an_inactive_account_is_error_44(client: Client, secret: str, listener):
    services.users_set_active(users=User.objects.filter(pk=listener.pk), active=False)

    assert error_of(call(client, "ping", api_key(secret))) == INVALID_KEY


# --- token: u, t = md5(secret + s), s -------------------------------------------------------


def test_a_token_signs_in(client: Client, secret: str):
    """Token sign-in is supported, so error 41 is never answered."""
    # The specification's example: md5("sesame" + "c19b2d")
    assert token("joe", "sesame")["t"] == "26719a1196d2a940705a59634eb18eab"

    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret)))


def test_the_email_and_the_token_are_read_in_any_case(client: Client, secret: str):
    credentials = token(" Ada@Example.COM ", secret)
    credentials["t"] = credentials["t"].upper()

    assert ok(call(client, "ping", credentials))


def test_any_of_the_accounts_app_passwords_signs_in(client: Client, listener, secret: str):
    second = services.app_password_create(user=listener, name="Desktop").secret

    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret, salt="first")))
    assert ok(call(client, "ping", token(LISTENER_EMAIL, second, salt="second")))


def test_a_wrong_token_is_error_40(client: Client, secret: str):
    wrong_salt = {**token(LISTENER_EMAIL, secret), "s": "other-salt"}

    assert error_of(call(client, "ping", wrong_salt)) == WRONG
    assert error_of(call(client, "ping", token(LISTENER_EMAIL, secret + "x"))) == WRONG
    assert error_of(call(client, "ping", {**token(LISTENER_EMAIL, secret), "t": "é" * 32})) == WRONG


def test_anothers_secret_does_not_sign_in_as_you(client: Client, secret: str, make_user):
    other = make_user(email="other@example.com")

    assert error_of(call(client, "ping", token(other.email, secret))) == WRONG
    assert error_of(call(client, "ping", {"u": other.email, "p": secret})) == WRONG


def test_the_account_password_is_never_accepted(client: Client, listener, secret: str):
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "p": DEFAULT_PASSWORD})) == WRONG
    assert error_of(call(client, "ping", token(LISTENER_EMAIL, DEFAULT_PASSWORD))) == WRONG


# --- password: u, p (plain or enc:hex) --------------------------------------------------


def test_the_secret_as_p_signs_in_plain_or_hex(client: Client, secret: str):
    assert ok(call(client, "ping", {"u": LISTENER_EMAIL, "p": secret}))
    assert ok(call(client, "ping", {"u": LISTENER_EMAIL, "p": f"enc:{hex_of(secret)}"}))
    assert ok(call(client, "ping", {"u": LISTENER_EMAIL, "p": f"enc:{hex_of(secret).upper()}"}))


def test_p_that_is_not_hex_after_enc_is_error_40(client: Client, secret: str):
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "p": "enc:zz"})) == WRONG
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "p": "enc:ff"})) == WRONG


def test_p_with_a_token_is_error_43(client: Client, secret: str):
    credentials = {**token(LISTENER_EMAIL, secret), "p": secret}

    assert error_of(call(client, "ping", credentials)) == CONFLICTING


# --- what is missing: error 10 ----------------------------------------------------------


def test_missing_credentials_are_error_10(client: Client, secret: str):
    assert error_of(call(client, "ping")) == {
        "code": 10,
        "message": "Required parameter is missing: u.",
    }
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL})) == {
        "code": 10,
        "message": CREDENTIALS_MISSING,
    }
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "t": "abc"})) == {
        "code": 10,
        "message": "Required parameter is missing: s.",
    }
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "s": SALT})) == {
        "code": 10,
        "message": "Required parameter is missing: t.",
    }
    assert error_of(call(client, "ping", {"u": "", "p": secret})) == {
        "code": 10,
        "message": "Required parameter is missing: u.",
    }


@pytest.mark.parametrize("name", ["v", "c"])
def test_v_and_c_are_required(client: Client, secret: str, name: str):
    response = call(client, "ping", api_key(secret), **{name: None})

    assert error_of(response) == {"code": 10, "message": f"Required parameter is missing: {name}."}


# --- revoked, deactivated, rotated -------------------------------------------------------


def test_a_revoked_app_password_stops_at_once(
    client: Client, listener, app_password: NewAppPassword
):
    secret = app_password.secret
    assert ok(call(client, "ping", api_key(secret)))
    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret)))

    services.app_password_delete(user=listener, app_password_id=app_password.app_password.pk)

    assert error_of(call(client, "ping", api_key(secret))) == INVALID_KEY
    assert error_of(call(client, "ping", token(LISTENER_EMAIL, secret))) == WRONG
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "p": secret})) == WRONG


def test_an_inactive_account_cannot_sign_in(client: Client, listener, secret: str):
    assert ok(call(client, "ping", api_key(secret)))  # the key's read, prepared, is kept
    services.users_set_active(users=User.objects.filter(pk=listener.pk), active=False)

    assert error_of(call(client, "ping", api_key(secret))) == INVALID_KEY
    assert error_of(call(client, "ping", token(LISTENER_EMAIL, secret))) == WRONG
    assert error_of(call(client, "ping", {"u": LISTENER_EMAIL, "p": secret})) == WRONG


def test_after_secret_key_rotation_only_the_token_stops(client: Client, secret: str, settings):
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40

    assert error_of(call(client, "ping", token(LISTENER_EMAIL, secret))) == WRONG
    assert ok(call(client, "ping", api_key(secret)))
    assert ok(call(client, "ping", {"u": LISTENER_EMAIL, "p": secret}))


def test_the_old_key_in_secret_key_fallbacks_keeps_the_token(client: Client, secret: str, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40

    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret)))


# --- last used ----------------------------------------------------------------------------


def test_a_sign_in_records_the_use_at_most_once_a_minute(
    client: Client, app_password: NewAppPassword
):
    row = AppPassword.objects.filter(pk=app_password.app_password.pk)

    call(client, "ping", api_key(app_password.secret))
    first = row.get().last_used_at
    call(client, "ping", token(LISTENER_EMAIL, app_password.secret))

    assert first is not None
    assert timezone.now() - first < timedelta(seconds=10)
    assert row.get().last_used_at == first
    row.update(last_used_at=first - timedelta(minutes=2))
    call(client, "ping", {"u": LISTENER_EMAIL, "p": app_password.secret})
    assert row.get().last_used_at > first


def test_nothing_is_written_by_a_refused_sign_in(client: Client, app_password: NewAppPassword):
    row = AppPassword.objects.filter(pk=app_password.app_password.pk)
    before = list(row.values())

    call(client, "ping", token(LISTENER_EMAIL, "wrong"))
    call(client, "ping", {**api_key(app_password.secret), "u": LISTENER_EMAIL})
    call(client, "ping", api_key("wrong"))
    call(client, "ping", {"u": LISTENER_EMAIL})

    assert list(row.values()) == before
    assert before[0]["last_used_at"] is None


# --- the lockout shared with the REST sign-in ------------------------------------------------


def test_failures_lock_the_account_then_even_the_right_secret_is_refused(
    client: Client, secret: str, settings
):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    for _ in range(3):
        assert error_of(call(client, "ping", token(LISTENER_EMAIL, "wrong"))) == WRONG

    assert error_of(call(client, "ping", token(LISTENER_EMAIL, secret))) == {
        "code": 40,
        "message": LOCKED_OUT,
    }
    by_password = call(client, "ping", {"u": LISTENER_EMAIL.upper(), "p": secret})
    assert error_of(by_password)["message"] == LOCKED_OUT


def test_subsonic_failures_lock_the_rest_sign_in_too(client: Client, listener, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    for _ in range(3):
        call(client, "ping", {"u": LISTENER_EMAIL, "p": "wrong"})

    response = client.post(
        "/api/auth/login/",
        {"email": LISTENER_EMAIL, "password": DEFAULT_PASSWORD},
        "application/json",
    )

    assert response.status_code == 429


def test_rest_failures_lock_the_subsonic_sign_in_too(client: Client, secret: str, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    for _ in range(3):
        client.post(
            "/api/auth/login/", {"email": LISTENER_EMAIL, "password": "wrong"}, "application/json"
        )

    assert error_of(call(client, "ping", token(LISTENER_EMAIL, secret)))["message"] == LOCKED_OUT


def test_a_success_clears_the_failures_of_the_account(client: Client, secret: str, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 100
    for _ in range(2):
        call(client, "ping", token(LISTENER_EMAIL, "wrong"))
    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret)))

    for _ in range(2):
        call(client, "ping", token(LISTENER_EMAIL, "wrong"))

    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret)))


def test_api_keys_are_outside_the_lockout(client: Client, secret: str, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 3
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for _ in range(5):
        assert error_of(call(client, "ping", api_key("wrong"))) == INVALID_KEY
    assert ok(call(client, "ping", token(LISTENER_EMAIL, secret)))
    for _ in range(3):
        call(client, "ping", token(LISTENER_EMAIL, "wrong"))

    assert ok(call(client, "ping", api_key(secret)))


def test_a_signed_in_request_costs_one_query_and_the_lockout_one_more(
    client: Client, secret: str, django_assert_num_queries
):
    call(client, "ping", api_key(secret))  # the first use is recorded: one write

    # The app password with its account; a sign-in by email also reads the lockout's failures
    # of that email and address (users.lockout.lock_state), in one query.
    for credentials, queries in ((api_key(secret), 1), (token(LISTENER_EMAIL, secret), 2)):
        with django_assert_num_queries(queries):
            response = call(client, "ping", credentials)
        assert answer(response)["status"] == "ok"
