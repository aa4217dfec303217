"""Bearer JWT authentication for the API."""

from typing import Any

from django.http import HttpRequest
from ninja_jwt.authentication import JWTAuth
from ninja_jwt.exceptions import AuthenticationFailed, InvalidToken, TokenError


class BearerJWT(JWTAuth):
    """Access-token auth; any bad, expired, unsigned or inactive user's token is a plain 401.

    Returning None lets the API answer its one 401 sentence instead of the library's
    nested error object.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            return self.jwt_authenticate(request, token)
        except (InvalidToken, AuthenticationFailed, TokenError):
            return None


bearer_jwt = BearerJWT()
