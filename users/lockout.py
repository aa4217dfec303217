"""The sign-in lockout, kept by django-axes (the settings are `AXES_*` in config/settings.py).

Every `authenticate(request, username=..., password=...)` passes `AxesStandaloneBackend`
first, which refuses while the email or the client address is locked; a failure is recorded
through Django's `user_login_failed` signal. So the API's login, the admin's sign-in page and
any later sign-in (the Subsonic API) count against one lockout, shared by every server process
through the database.

Axes holds every lockout parameter to one AXES_FAILURE_LIMIT; `SignInLockoutHandler` holds
each to its own: LOGIN_MAX_FAILURES_PER_EMAIL for an email, LOGIN_MAX_FAILURES_PER_ADDRESS for
a client address (a shared office address must not lock at one person's limit). It is also
what tells the seconds to the end of a lock (`Retry-After`), which axes does not.
"""

import math
from datetime import datetime
from http import HTTPStatus

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import (
    get_client_username,
    get_cool_off,
    get_credentials,
)
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from users.models import sign_in_email

TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Try again later."


def _limits() -> dict[str, int]:
    # Read at each call, like every setting axes reads, so a test may change them.
    return {
        "username": settings.LOGIN_MAX_FAILURES_PER_EMAIL,
        "ip_address": settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
    }


class SignInLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with a failure limit for each lockout parameter."""

    def lock_state(
        self, request: HttpRequest, credentials: dict | None
    ) -> tuple[datetime | None, bool]:
        """When sign-in with `credentials` from `request` is allowed again (None: it is now),
        and whether the email has failures on record; in one query, as every Subsonic request
        signed in by token asks (axes' own reading is a query per lockout parameter)."""
        values = {
            "username": get_client_username(request, credentials),
            "ip_address": request.axes_ip_address,
        }
        matching = Q()
        for parameter in settings.AXES_LOCKOUT_PARAMETERS:
            matching |= Q(**{parameter: values[parameter]})
        rows = (
            AccessAttempt.objects.filter(
                matching, attempt_time__gte=get_cool_off_threshold(request)
            )
            .order_by("-attempt_time")
            .values_list("username", "ip_address", "attempt_time", "failures_since_start")
        )
        limits, cool_off = _limits(), get_cool_off(request)
        counted = dict.fromkeys(settings.AXES_LOCKOUT_PARAMETERS, 0)
        ends: list[datetime] = []
        email_failed = False
        for username, ip_address, attempt_time, failures in rows:
            row = {"username": username, "ip_address": ip_address}
            email_failed |= username == values["username"]
            for parameter in counted:
                if row[parameter] != values[parameter] or counted[parameter] >= limits[parameter]:
                    continue
                counted[parameter] += failures
                if counted[parameter] >= limits[parameter]:
                    # Older rows expire first: the lock holds until this one expires too.
                    ends.append(attempt_time + cool_off)
        return max(ends, default=None), email_failed

    def lock_ends(self, request: HttpRequest, credentials: dict | None) -> datetime | None:
        """When sign-in with `credentials` from `request` is allowed again; None if it is now."""
        return self.lock_state(request, credentials)[0]

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        return self.lock_ends(request, credentials) is not None

    def user_login_failed(
        self, sender, credentials: dict, request: HttpRequest | None = None, **kwargs
    ) -> None:
        refused = request is not None and request.axes_locked_out  # refused by the backend
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not refused:
            # The failure that reaches a limit is answered as a failure (401, the form's
            # error); the lock refuses the attempts after it. Axes would flag this request
            # as locked out by its one AXES_FAILURE_LIMIT, and AxesMiddleware answer it.
            request.axes_locked_out = False


def _handler() -> SignInLockoutHandler:
    return AxesProxyHandler.get_implementation()


def sign_in_name(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the email a sign-in names, as accounts store it, so that
    "Ada@Example.com" and "ada@example.com" count as one."""
    name = (credentials or {}).get("username")
    return sign_in_email(name) if isinstance(name, str) else None


def _seconds_until(ends: datetime) -> int:
    return max(1, math.ceil((ends - timezone.now()).total_seconds()))


def sign_in_state(request: HttpRequest, *, email: str) -> tuple[int | None, bool]:
    """Seconds until sign-in as `email` from this request's client address is allowed again
    (None when it is allowed now), and whether `email` has failures to forget after a
    success. Counts nothing."""
    AxesProxyHandler.update_request(request)
    ends, email_failed = _handler().lock_state(request, get_credentials(email))
    return (None if ends is None else _seconds_until(ends)), email_failed


def failure_recorded(request: HttpRequest, *, email: str) -> None:
    """Count a failed sign-in as `email` from this request's address, for a sign-in that does
    not go through `authenticate()` (an app password): axes records failures from Django's
    `user_login_failed` signal, which `authenticate()` sends for the others."""
    user_login_failed.send(sender=__name__, credentials={"username": email}, request=request)


def failures_clear(*, email: str) -> None:
    """Forget the failures for `email` (after its right password), from every address; the
    address's count of failures for other emails stands."""
    AxesProxyHandler.reset_attempts(username=sign_in_email(email))


def lockout_response(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """AXES_LOCKOUT_CALLABLE: AxesMiddleware's answer to a sign-in that AxesStandaloneBackend
    refused and no view answered, the API's 429 with `{"detail"}` and Retry-After. (The API's
    login and the admin's page check the lock before they authenticate and answer it
    themselves; this is for a lock that began in between, and for any later sign-in path.)

    The credentials are read from the request: axes' async middleware passes its arguments in
    another order than its sync one.
    """
    ends = _handler().lock_ends(request, getattr(request, "axes_credentials", None))
    seconds = _seconds_until(ends) if ends else int(get_cool_off(request).total_seconds())
    response = JsonResponse({"detail": TOO_MANY_ATTEMPTS}, status=HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = str(seconds)
    return response
