"""Abuse limits of accounts, counted with `core.throttle` in the Django cache.

- Failed sign-ins per email and per client address, shared by the API's login and the admin's
  login page: past either limit both refuse, even the right password, until the window ends.
- Registrations per client address.

With REDIS_URL set the cache is Redis, so every server process sees the same counts.
"""

from django.conf import settings

from core import throttle
from core.throttle import client_address

__all__ = [
    "clear_login_failures",
    "client_address",
    "count_registration",
    "login_retry_after",
    "record_login_failure",
]

REGISTRATION_WINDOW_SECONDS = 60 * 60


def _failures_per_email() -> throttle.Rate:
    return throttle.Rate(
        "login-failures:email",
        settings.LOGIN_MAX_FAILURES_PER_EMAIL,
        settings.LOGIN_FAILURE_WINDOW_SECONDS,
    )


def _failures_per_address() -> throttle.Rate:
    return throttle.Rate(
        "login-failures:address",
        settings.LOGIN_MAX_FAILURES_PER_ADDRESS,
        settings.LOGIN_FAILURE_WINDOW_SECONDS,
    )


def _login_checks(email: str, address: str) -> list[tuple[throttle.Rate, str]]:
    return [(_failures_per_email(), email), (_failures_per_address(), address)]


def login_retry_after(*, email: str, address: str) -> int | None:
    """Seconds until sign-in for `email` from `address` is allowed again; None if it is."""
    return throttle.retry_after(_login_checks(email, address))


def record_login_failure(*, email: str, address: str) -> None:
    for rate, subject in _login_checks(email, address):
        throttle.hit(rate, subject)


def clear_login_failures(*, email: str) -> None:
    throttle.clear(_failures_per_email(), email)


def count_registration(*, address: str, detail: str) -> None:
    """Count one registration from `address`; Throttled(`detail`) past the hourly limit."""
    rate = throttle.Rate(
        "registrations:address",
        settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR,
        REGISTRATION_WINDOW_SECONDS,
    )
    throttle.hit_or_refuse(rate, address, detail=detail)
