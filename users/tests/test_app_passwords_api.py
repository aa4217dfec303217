"""App passwords (`/api/me/app-passwords/`): the secrets the Subsonic apps sign in with."""

from datetime import timedelta
from http import HTTPStatus

from django.db import connection
from django.test import Client
from django.utils import timezone

from config.api import AUTHENTICATION_REQUIRED
from core.text import BLANK
from tests.helpers import bearer, iso
from users import services
from users.app_password_secrets import SECRET_ALPHABET, SECRET_LENGTH, key_hash, unseal
from users.models import MAX_APP_PASSWORDS, AppPassword, User
from users.services import APP_PASSWORD_NOT_FOUND, APP_PASSWORDS_FULL

URL = "/api/me/app-passwords/"


def create(client: Client, name: str = "Phone (Symfonium)"):
    return client.post(URL, {"name": name}, "application/json")


def test_creating_one_shows_its_secret_this_once(auth_client: Client, user: User):
    response = create(auth_client, "  Phone (Symfonium) ")

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    stored = AppPassword.objects.get()
    assert body == {
        "id": stored.pk,
        "name": "Phone (Symfonium)",
        "created_at": iso(stored.created_at),
        "last_used_at": None,
        "secret": body["secret"],
    }
    assert stored.user == user
    assert len(body["secret"]) == SECRET_LENGTH
    assert set(body["secret"]) <= set(SECRET_ALPHABET)


def test_the_list_never_shows_a_secret(auth_client: Client, user: User):
    older = services.app_password_create(user=user, name="Desktop").app_password
    newer = services.app_password_create(user=user, name="Phone").app_password
    AppPassword.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    older.refresh_from_db()

    response = auth_client.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [
        {
            "id": newer.pk,
            "name": "Phone",
            "created_at": iso(newer.created_at),
            "last_used_at": None,
        },
        {
            "id": older.pk,
            "name": "Desktop",
            "created_at": iso(older.created_at),
            "last_used_at": None,
        },
    ]


def test_the_list_holds_only_the_callers_own(auth_client: Client, user: User, make_user):
    services.app_password_create(user=make_user(), name="Someone else's")

    response = auth_client.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []


def test_the_database_holds_no_plain_secret(auth_client: Client):
    secret = create(auth_client).json()["secret"]

    row = AppPassword.objects.values().get()
    assert not any(secret in str(value) for value in row.values())
    assert row["key_hash"] == key_hash(secret)
    assert unseal(row["sealed_secret"]) == secret
    with connection.cursor() as cursor:  # nor anywhere in the table's raw text
        cursor.execute("SELECT * FROM users_apppassword")
        assert not any(secret in str(value) for value in cursor.fetchone())


def test_each_secret_is_new(auth_client: Client):
    secrets = {create(auth_client).json()["secret"] for _ in range(5)}

    assert len(secrets) == 5


def test_an_account_holds_at_most_twenty(auth_client: Client, user: User):
    for number in range(MAX_APP_PASSWORDS):
        services.app_password_create(user=user, name=f"App {number}")

    response = create(auth_client, "One too many")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": APP_PASSWORDS_FULL}
    assert AppPassword.objects.filter(user=user).count() == MAX_APP_PASSWORDS


def test_the_cap_is_per_account(auth_client: Client, make_user):
    other = make_user()
    for number in range(MAX_APP_PASSWORDS):
        services.app_password_create(user=other, name=f"App {number}")

    assert create(auth_client).status_code == HTTPStatus.CREATED


def test_a_bad_name_is_refused_and_nothing_is_written(auth_client: Client):
    blank = create(auth_client, "   ")
    too_long = create(auth_client, "x" * 101)
    extra = auth_client.post(URL, {"name": "Phone", "secret": "mine"}, "application/json")
    missing = auth_client.post(URL, {}, "application/json")

    assert blank.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert blank.json()["detail"][0]["msg"] == BLANK
    assert too_long.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert too_long.json()["detail"][0]["loc"] == ["body", "name"]
    assert extra.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert missing.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not AppPassword.objects.exists()


def test_a_hundred_characters_is_the_longest_name(auth_client: Client):
    response = create(auth_client, "x" * 100)

    assert response.status_code == HTTPStatus.CREATED
    assert AppPassword.objects.get().name == "x" * 100


def test_the_owner_deletes_one(auth_client: Client, user: User):
    kept = services.app_password_create(user=user, name="Desktop").app_password
    revoked = services.app_password_create(user=user, name="Phone").app_password

    response = auth_client.delete(f"{URL}{revoked.pk}/")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert list(AppPassword.objects.all()) == [kept]


def test_someone_elses_is_not_found_and_stays(auth_client: Client, make_user):
    theirs = services.app_password_create(user=make_user(), name="Theirs").app_password

    response = auth_client.delete(f"{URL}{theirs.pk}/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": APP_PASSWORD_NOT_FOUND}
    assert AppPassword.objects.filter(pk=theirs.pk).exists()


def test_an_unknown_id_is_not_found(auth_client: Client, db):
    assert auth_client.delete(f"{URL}999/").status_code == HTTPStatus.NOT_FOUND
    assert auth_client.delete(f"{URL}0/").status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_every_route_needs_a_signed_in_user(client: Client, user: User):
    app_password = services.app_password_create(user=user, name="Phone").app_password

    responses = [
        client.get(URL),
        create(client),
        client.delete(f"{URL}{app_password.pk}/"),
    ]

    for response in responses:
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {"detail": AUTHENTICATION_REQUIRED}
    assert AppPassword.objects.count() == 1


def test_last_used_is_listed_once_set(user: User):
    app_password = services.app_password_create(user=user, name="Phone").app_password
    moment = timezone.now() - timedelta(hours=2)
    services.app_password_used(app_password=app_password, now=moment)

    response = Client(headers=bearer(user)).get(URL)

    assert response.json()[0]["last_used_at"] == iso(moment)


def test_use_is_recorded_at_most_once_a_minute(user: User):
    app_password = services.app_password_create(user=user, name="Phone").app_password
    first = timezone.now() - timedelta(minutes=5)
    services.app_password_used(app_password=app_password, now=first)

    services.app_password_used(app_password=app_password, now=first + timedelta(seconds=59))
    app_password.refresh_from_db()
    assert app_password.last_used_at == first

    later = first + timedelta(seconds=61)
    services.app_password_used(app_password=app_password, now=later)
    app_password.refresh_from_db()
    assert app_password.last_used_at == later
