from http import HTTPStatus

from django.test import Client

from conftest import bearer
from core.middleware import REQUEST_TOO_LARGE
from users.models import User


def test_a_body_declared_too_large_is_refused_before_it_is_read(user: User, settings):
    response = Client(headers=bearer(user)).generic(
        "PATCH",
        "/api/auth/user/",
        b'{"full_name": "Never read"}',
        content_type="application/json",
        CONTENT_LENGTH=str(settings.MAX_REQUEST_BYTES + 1),
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": REQUEST_TOO_LARGE}
    user.refresh_from_db()
    assert user.full_name == "Ada Listener"


def test_a_body_within_the_limit_goes_through(user: User, settings):
    response = Client(headers=bearer(user)).patch(
        "/api/auth/user/", {"full_name": "Read"}, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.OK
