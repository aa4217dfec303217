"""Races that only a real server database can show (PostgreSQL in CI)."""

import threading
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client

from users.models import User

pytestmark = pytest.mark.postgres_only  # needs concurrent connections

PASSWORD = "Lyric-Bassline-42"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_registrations_of_one_email_give_one_201_and_one_409():
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def register(email: str) -> None:
        barrier.wait(timeout=10)
        try:
            response = Client().post(
                "/api/auth/registration/",
                {"email": email, "password1": PASSWORD, "password2": PASSWORD, "full_name": "Twin"},
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=register, args=(email,))
        for email in ("twin@example.com", "TWIN@example.com")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [HTTPStatus.CREATED, HTTPStatus.CONFLICT]
    assert User.objects.filter(email="twin@example.com").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_are_each_counted_by_the_lockout(make_user, settings):
    settings.LOGIN_MAX_FAILURES_PER_EMAIL = 6
    ada = make_user(email="ada@example.com", password=PASSWORD)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def guess() -> None:
        barrier.wait(timeout=10)
        try:
            response = Client().post(
                "/api/auth/login/",
                {"email": ada.email, "password": "guess"},
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    right = Client().post(
        "/api/auth/login/", {"email": ada.email, "password": PASSWORD}, "application/json"
    )

    # axes updates its row under a row lock: no failure is lost, so the sixth locks.
    assert statuses == [HTTPStatus.UNAUTHORIZED] * 6
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
