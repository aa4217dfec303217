"""A token signed with the real key whose user id claim is not an integer id is a plain 401."""

from http import HTTPStatus

import pytest
from django.test import Client
from ninja_jwt.exceptions import InvalidToken
from ninja_jwt.tokens import AccessToken, RefreshToken

from config.api import AUTHENTICATION_REQUIRED
from core.auth import bearer_jwt
from users.services import REFRESH_INVALID

# Each takes the real user's id, so a claim the ORM would coerce (1.5 -> 1) names them.
FORGED_USER_IDS = {
    "sql": lambda pk: f"{pk} OR 1=1",
    "list": lambda pk: [pk],
    "nul": lambda pk: f"{pk}\x00",
    "object": lambda pk: {"id": pk},
    "float": lambda pk: pk + 0.25,
    "digits as text": str,
    "true": lambda pk: True,
    "zero": lambda pk: 0,
    "negative": lambda pk: -pk,
    "past 64 bits": lambda pk: 2**64 + pk,
    "empty": lambda pk: "",
    "null": lambda pk: None,
}


def forged(token_class, user, name):
    token = token_class.for_user(user)
    token["user_id"] = FORGED_USER_IDS[name](user.pk)
    return token


@pytest.mark.parametrize("name", FORGED_USER_IDS)
def test_an_access_token_with_a_forged_user_id_is_refused(client: Client, user, name):
    token = forged(AccessToken, user, name)

    response = client.get("/api/auth/user/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": AUTHENTICATION_REQUIRED}


@pytest.mark.parametrize("name", FORGED_USER_IDS)
def test_a_refresh_token_with_a_forged_user_id_is_refused(client: Client, user, name):
    token = forged(RefreshToken, user, name)

    response = client.post("/api/auth/token/refresh/", {"refresh": str(token)}, "application/json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": REFRESH_INVALID}


@pytest.mark.parametrize("name", ["sql", "list", "nul", "float"])
def test_the_check_socketio_shares_refuses_a_forged_user_id(user, name):
    # Socket.IO's connect check (messaging.realtime.events) calls this same `get_user` and
    # refuses the connection on InvalidToken.
    token = forged(AccessToken, user, name)

    with pytest.raises(InvalidToken):
        bearer_jwt.get_user(bearer_jwt.get_validated_token(str(token)))


def test_a_real_token_still_signs_in(client: Client, user):
    token = AccessToken.for_user(user)

    response = client.get("/api/auth/user/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["id"] == user.pk
