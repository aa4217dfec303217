"""Sign-in of a Subsonic request, with an app password (users.models.AppPassword).

Three ways, as clients send them (docs/api-reference.md, "Authentication"):

- `apiKey=<secret>` alone (the apiKeyAuthentication extension); with `u`, `p`, `t` or `s`
  beside it: error 43. An unknown or revoked key: error 44.
- `u=<email>&t=<md5(secret + s)>&s=<salt>`: the token, checked against each of the account's
  app passwords in constant time.
- `u=<email>&p=<secret>`, or `p=enc:<the secret's UTF-8 in hex>`: for old clients.

`u` is the account's email, in any case. The account's own password is never accepted: it is
stored only as a slow hash, which the token check cannot use, and an app password can be
revoked without changing it. A wrong one, or an inactive account: error 40. Error 41 (token
sign-in not supported) and 42 (mechanism not supported) are never answered: all three ways
work.

Failed `u` sign-ins count against the lockout of the REST sign-in (the same counters, per
email and per client address): once locked, error 40 without the password being checked, for
the REST and Subsonic sign-ins alike. `apiKey` sign-ins are outside the lockout: they name no
account to lock, and a key is 158 random bits that no number of attempts can guess.
"""

import binascii
from collections.abc import Callable

from django.http import HttpRequest

from catalog.prepared import PreparedQuery
from core.errors import NotAuthenticated, Throttled
from subsonic.errors import SubsonicError, missing_parameter
from subsonic.params import Params
from subsonic.spec import ErrorCode
from users import selectors, services
from users.app_password_secrets import key_hash
from users.lockout import TOO_MANY_ATTEMPTS
from users.models import AppPassword, User

LOCKED_OUT = TOO_MANY_ATTEMPTS
CREDENTIALS_MISSING = "Required parameter is missing: p, or t and s, or apiKey (without u)."

# The usable app password with this key_hash (unique): the `apiKey` sign-in, made by every
# request of a client that uses it, so its SQL is built once per connection and prepared on
# PostgreSQL (catalog/prepared.py). It reads the row each time: a revoked key (the row
# deleted) or a deactivated account fails at once.
_APP_PASSWORD_BY_KEY_HASH = PreparedQuery(
    lambda digest: selectors.usable_app_passwords().filter(key_hash=digest).order_by()
)


def _within_lockout(
    *, request: HttpRequest, email: str, check: Callable[[], AppPassword | None]
) -> AppPassword:
    """Run the credentials `check` for `email` under the REST sign-in's lockout (django-axes,
    through users.services.sign_in_checked); a lock and a wrong secret are both error 40."""
    try:
        return services.sign_in_checked(request=request, email=email, check=check)
    except Throttled:
        raise SubsonicError(ErrorCode.WRONG_CREDENTIALS, LOCKED_OUT) from None
    except NotAuthenticated:
        raise SubsonicError(ErrorCode.WRONG_CREDENTIALS) from None


def _decoded_password(password: str) -> str | None:
    """`p` as typed: plain, or after `enc:` the UTF-8 bytes in hex (either case); None when
    that hex is not hex or not UTF-8."""
    if not password.startswith("enc:"):
        return password
    try:
        return bytes.fromhex(password[4:]).decode("utf-8")
    except (ValueError, binascii.Error):
        return None


def _signed_in(app_password: AppPassword) -> User:
    services.app_password_used(app_password=app_password)
    return app_password.user


def _by_api_key(params: Params, api_key: str) -> User:
    if any(params.has(name) for name in ("u", "p", "t", "s")):
        raise SubsonicError(ErrorCode.CONFLICTING_AUTH)
    found = _APP_PASSWORD_BY_KEY_HASH.rows(key_hash(api_key))
    if not found:
        raise SubsonicError(ErrorCode.INVALID_API_KEY)
    return _signed_in(found[0])


def _credentials_check(params: Params, email: str) -> Callable[[], AppPassword | None]:
    password, token, salt = params.get("p"), params.get("t"), params.get("s")
    if password is not None:
        if token is not None or salt is not None:
            raise SubsonicError(ErrorCode.CONFLICTING_AUTH)
        secret = _decoded_password(password)
        if secret is None:
            return lambda: None
        return lambda: selectors.app_password_by_email_and_secret(email=email, secret=secret)
    if token is None and salt is None:
        raise SubsonicError(ErrorCode.MISSING_PARAMETER, CREDENTIALS_MISSING)
    if token is None:
        raise missing_parameter("t")
    if salt is None:
        raise missing_parameter("s")
    return lambda: selectors.app_password_by_email_and_token(email=email, token=token, salt=salt)


def authenticate(request: HttpRequest, params: Params) -> User:
    """The account the request acts for; SubsonicError (10, 40, 43 or 44) when none."""
    api_key = params.get("apiKey")
    if api_key is not None:
        return _by_api_key(params, api_key)
    email = params.required("u")
    check = _credentials_check(params, email)
    return _signed_in(_within_lockout(request=request, email=email, check=check))
