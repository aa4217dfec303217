"""Abuse limits counted in a service: fixed-window counters kept in the Django cache.

Used by the message limit (`messaging.services.message_send`). Hand-written rather than
ninja-extra's throttles, which guard a route: messages are sent over REST and over Socket.IO
events, which are no route, and both must count together in the service they share. (The
sign-in lockout is django-axes', the registration limit ninja-extra's.)

A window opens at the first event counted for a subject (a user) and lasts `window_seconds`;
past `limit` events in it, the next ones are refused until it ends, and `Retry-After` says how
many seconds that is. With REDIS_URL set the cache is Redis, so every server process counts
together; without it each process counts for itself. The counters are the Django cache's,
whatever backend it is (Redis, local memory, a fallback in front of Redis); they are counted
by `core.cache.incr_in_window`, atomic everywhere and one round trip on Redis (a message paid
three before).
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache, caches

from core.cache import incr_in_window
from core.errors import Throttled


@dataclass(frozen=True)
class Rate:
    """At most `limit` events per `window_seconds` for each subject of `scope`."""

    scope: str
    limit: int
    window_seconds: int

    def key(self, subject: str) -> str:
        # Hashed: a subject of any length or text makes a valid cache key, never in clear.
        digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()
        return f"{self.scope}:{digest}"


def _ends_key(key: str) -> str:
    # When the window of `key` ends (a Unix time), so that Retry-After can be told.
    return f"{key}:ends"


def _seconds_until(ends: float | None, rate: Rate, now: float) -> int:
    if ends is None:  # the window's end was not recorded (or evicted): the longest wait
        return rate.window_seconds
    return max(1, math.ceil(ends - now))


def hit(rate: Rate, subject: str) -> int:
    """Count one event for `subject` and return the count in its window, this one included."""
    key = rate.key(subject)
    count = incr_in_window(caches["default"], key, rate.window_seconds)
    if count == 1:
        cache.set(_ends_key(key), time.time() + rate.window_seconds, timeout=rate.window_seconds)
    return count


def hit_or_refuse(rate: Rate, subject: str, *, detail: str) -> None:
    """Count one event; raise Throttled(`detail`) when it is past the limit.

    A refused event is counted too: the window's end does not move, so refusals only ever
    wait for the window that is open.
    """
    if hit(rate, subject) > rate.limit:
        key = rate.key(subject)
        raise Throttled(
            detail, retry_after=_seconds_until(cache.get(_ends_key(key)), rate, time.time())
        )
