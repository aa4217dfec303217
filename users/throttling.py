"""Failed-login counters per email and per client address, kept in the Django cache.

With REDIS_URL set the cache is Redis, so every server process sees the same counts.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"login-failures:{kind}:{digest}"


def _keys(email: str, address: str) -> list[tuple[str, int]]:
    return [
        (_key("email", email), settings.LOGIN_MAX_FAILURES_PER_EMAIL),
        (_key("address", address), settings.LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded header is set by the client unless a proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def login_is_locked(*, email: str, address: str) -> bool:
    counts = cache.get_many([key for key, _ in _keys(email, address)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(email, address))


def record_login_failure(*, email: str, address: str) -> None:
    for key, _ in _keys(email, address):
        # add() starts the window only once; incr() is atomic on Redis.
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def clear_login_failures(*, email: str) -> None:
    cache.delete(_key("email", email))
