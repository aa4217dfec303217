"""What the tier-1 endpoints answer, beyond their saved answers: who may ask what."""

from django.test import Client

from subsonic.tests.calls import LISTENER_EMAIL, answer, api_key, call, error_of
from users import services

NOT_AUTHORIZED = {"code": 50, "message": "User is not authorized for the given operation."}


def test_a_listener_gets_themselves_by_their_email_in_any_case(client: Client, secret: str):
    user = answer(call(client, "getUser", api_key(secret), username=" ADA@example.com"))["user"]

    assert user["username"] == LISTENER_EMAIL
    assert user["adminRole"] is False
    assert user["streamRole"] is True
    assert user["folder"] == [1]


def test_a_listener_may_not_ask_about_someone_else(client: Client, secret: str, make_user):
    other = make_user(email="other@example.com")

    assert error_of(call(client, "getUser", api_key(secret), username=other.email)) == (
        NOT_AUTHORIZED
    )
    assert error_of(call(client, "getUser", api_key(secret), username="nobody@example.com")) == (
        NOT_AUTHORIZED
    )


def test_an_admin_gets_anyone_and_has_the_admin_role(client: Client, admin_user, listener):
    secret = services.app_password_create(user=admin_user, name="Admin's phone").secret

    about_listener = answer(call(client, "getUser", api_key(secret), username=listener.email))
    about_self = answer(call(client, "getUser", api_key(secret), username=admin_user.email))

    assert about_listener["user"]["username"] == listener.email
    assert about_listener["user"]["adminRole"] is False
    assert about_self["user"]["adminRole"] is True
    assert about_self["user"]["uploadRole"] is True


def test_an_admin_asking_for_no_one_is_error_70(client: Client, admin_user):
    secret = services.app_password_create(user=admin_user, name="Admin's phone").secret

    response = call(client, "getUser", api_key(secret), username="nobody@example.com")

    assert error_of(response) == {"code": 70, "message": "The requested data was not found."}


def test_get_user_needs_a_username(client: Client, secret: str):
    assert error_of(call(client, "getUser", api_key(secret))) == {
        "code": 10,
        "message": "Required parameter is missing: username.",
    }


def test_the_scan_count_is_the_number_of_songs(client: Client, secret: str, make_song):
    before = answer(call(client, "getScanStatus", api_key(secret)))["scanStatus"]
    for _ in range(3):
        make_song()

    after = answer(call(client, "getScanStatus", api_key(secret)))["scanStatus"]

    assert before == {"scanning": False, "count": 0}
    assert after == {"scanning": False, "count": 3}


def test_token_info_names_the_keys_account(client: Client, secret: str):
    assert answer(call(client, "tokenInfo", api_key(secret)))["tokenInfo"] == {
        "username": LISTENER_EMAIL
    }


def test_extensions_advertise_what_is_implemented(client: Client, db):
    response = client.get("/rest/getOpenSubsonicExtensions.view", {"f": "json"})

    assert answer(response)["openSubsonicExtensions"] == [
        {"name": "apiKeyAuthentication", "versions": [1]},
        {"name": "formPost", "versions": [1]},
        {"name": "transcodeOffset", "versions": [1]},
        {"name": "songLyrics", "versions": [1, 2]},
    ]
