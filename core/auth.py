"""Bearer JWT authentication for the API."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from ninja_jwt.authentication import JWTAuth
from ninja_jwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from ninja_jwt.settings import api_settings
from ninja_jwt.tokens import Token

# Ids are positive 64-bit integers (BigAutoField); anything else never names a user.
_MAX_USER_ID = 2**63 - 1


def user_id_of(token: Token) -> int | None:
    """The token's user id when the claim is a plain integer id, else None.

    Only the server signs tokens, but a claim that is not one (`"1 OR 1=1"`, `[1]`, `"1\\x00"`,
    `1.5`, `true`) must never reach a query: the ORM would raise (a 500) or round it to
    someone's id.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if type(user_id) is not int or not 0 < user_id <= _MAX_USER_ID:
        return None
    return user_id


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

    def get_user(self, validated_token: Token) -> AbstractBaseUser:
        """The token's active user; a user id claim that is not an integer id is invalid.

        Socket.IO's connect check calls this too, so both refuse such a token alike.
        """
        if user_id_of(validated_token) is None:
            raise InvalidToken("The token's user id is not a user id.")
        return super().get_user(validated_token)


bearer_jwt = BearerJWT()


def _anonymous(request: HttpRequest) -> AnonymousUser:
    """Lets a route answer everyone while still reading a valid bearer token if sent."""
    return AnonymousUser()


# The one marker of a route anyone may call that still reads the caller from a valid bearer
# token when one is sent: `@route.get(..., **TOKEN_OPTIONAL)`. It sets both the auth and what
# the schema says of it (an empty requirement, added to the bearer scheme ninja lists, makes
# the token optional), so neither can be declared without the other.
TOKEN_OPTIONAL: dict[str, Any] = {
    "auth": [bearer_jwt, _anonymous],
    "openapi_extra": {"security": [{}]},
}
