"""One log line per refused request, at the level its status calls for."""

import logging
from http import HTTPStatus

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "Lyric-Bassline-42"


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


def test_a_conflict_is_logged_once_as_a_warning(client: Client, user, caplog):
    # Logged through the project's logging config, whose filter sits on the logger.
    caplog.set_level(logging.WARNING, logger="django.request")
    response = client.post(
        "/api/auth/registration/",
        {"email": user.email, "full_name": "Twin", "password1": PASSWORD, "password2": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.CONFLICT
    lines = request_lines(caplog)
    assert [(line.levelno, line.getMessage()) for line in lines] == [
        (logging.WARNING, "Conflict: /api/auth/registration/")
    ]


def test_a_missing_song_is_logged_once(client: Client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")

    assert client.get("/api/songs/987654/").status_code == HTTPStatus.NOT_FOUND
    assert [line.getMessage() for line in request_lines(caplog)] == [
        "Not Found: /api/songs/987654/"
    ]
