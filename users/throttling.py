"""The registration limit: ninja-extra's rate throttle on `POST /api/auth/registration/`."""

import copy
import math

from django.conf import settings
from django.http import HttpRequest
from ninja_extra.throttling import SimpleRateThrottle

from core.errors import Throttled
from core.proxy import client_address
from users.services import TOO_MANY_REGISTRATIONS


def _rate() -> str:
    return f"{settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR}/hour"


class RegistrationThrottle(SimpleRateThrottle):
    """REGISTRATIONS_PER_ADDRESS_PER_HOUR attempts per client address in any hour (a sliding
    window of their times, in the Django cache: Redis when REDIS_URL is set, so every process
    counts together). It runs before the body is read, so every attempt counts, refused ones
    included: probing which emails have accounts is held to the same rate. Signed-in callers
    count too (an AnonRateThrottle would let an admin's session through)."""

    scope = "registrations"

    def __init__(self) -> None:
        super().__init__(rate=_rate())

    def allow_request(self, request: HttpRequest) -> bool:
        # The route keeps this one throttle from import on, and the library keeps a request's
        # key and history on the throttle: a copy for each request keeps concurrent requests
        # apart, and reads the setting as it is now.
        window = copy.copy(self)
        window.num_requests, window.duration = window.parse_rate(_rate())
        return super(RegistrationThrottle, window).allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def throttle_failure(self) -> bool:
        # The API's own 429 (config/api.py): its sentence in {"detail"}, and Retry-After, the
        # seconds until the oldest attempt in the window leaves it. ninja-extra's Throttled
        # would say "Request was throttled. Expected available in N seconds."
        # (wait() is None only when the limit was lowered below the attempts in the window.)
        seconds = self.wait() or self.duration
        raise Throttled(TOO_MANY_REGISTRATIONS, retry_after=max(1, math.ceil(seconds)))
