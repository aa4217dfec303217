from typing import Any

from scrobbling import lastfm
from scrobbling.models import ScrobbleLink, Service
from users.models import User


def _status(service: Service, link: ScrobbleLink | None) -> dict[str, Any]:
    # Last.fm needs this server's API account (settings); ListenBrainz only the listener's.
    available = service != Service.LASTFM or lastfm.is_configured()
    if link is None:
        return {"available": available, "linked": False, "username": None, "last_error": None}
    return {
        "available": available,
        "linked": link.is_linked,
        "username": link.username or None,
        "last_error": link.last_error or None,
    }


def scrobbling_status(*, user: User) -> dict[str, Any]:
    """The listener's links, one entry per service, linked or not (never their tokens)."""
    links = {link.service: link for link in ScrobbleLink.objects.filter(user=user)}
    return {service.value: _status(service, links.get(service.value)) for service in Service}
