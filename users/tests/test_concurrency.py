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
