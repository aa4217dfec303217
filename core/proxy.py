"""The client's address behind a trusted proxy, for servers that do not rewrite it.

uvicorn rewrites REMOTE_ADDR from X-Forwarded-For itself (`--proxy-headers`); gunicorn's
WSGI workers do not, so behind nginx every request would come from the proxy and the sign-in
and registration limits, counted per address, would lock out everyone at once. When the
direct peer is one of TRUSTED_PROXIES, REMOTE_ADDR becomes the nearest address in
X-Forwarded-For that is not itself a trusted proxy; from anyone else the header is ignored,
since a client may send whatever it likes there. So is X-Forwarded-Proto, which
SECURE_PROXY_SSL_HEADER reads: from anyone but a trusted proxy it is dropped.

Hand-written rather than django-ipware: ipware returns an address to the code that asks, while
this rewrites REMOTE_ADDR once for every reader (the sign-in lockout, the registration limit,
Django's error reports) and drops an untrusted X-Forwarded-Proto, which ipware does not touch.
The libraries that would read the address their own way (axes through ipware when installed,
ninja-extra's throttles from X-Forwarded-For whoever sent it) are given `client_address`.
"""

from collections.abc import Awaitable, Callable
from ipaddress import ip_address

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def address_behind_proxies(remote_addr: str, forwarded_for: str, trusted: frozenset[str]) -> str:
    """The nearest address in the `forwarded_for` chain that is not a trusted proxy, when the
    peer `remote_addr` is one; else `remote_addr` itself."""
    if remote_addr not in trusted or not forwarded_for:
        return remote_addr
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not _is_address(hop):
            break  # a garbled chain: keep the proxy's address rather than trust a guess
        if hop not in trusted:
            return hop
    return remote_addr


def client_address(request: HttpRequest) -> str | None:
    """The address limits count per client (axes' AXES_CLIENT_IP_CALLABLE, the registration
    throttle): REMOTE_ADDR, rewritten by the middleware below behind TRUSTED_PROXIES. None when
    the server gave none (a Unix socket)."""
    return request.META.get("REMOTE_ADDR") or None


@sync_and_async_middleware
def trusted_proxy_middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
):
    trusted = frozenset(settings.TRUSTED_PROXIES)
    if not trusted:
        raise MiddlewareNotUsed

    def use_forwarded_address(request: HttpRequest) -> None:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        if peer not in trusted:
            # SECURE_PROXY_SSL_HEADER: only a trusted proxy says the request came over https.
            # Without the header Django takes the server's own word (gunicorn and uvicorn
            # believe X-Forwarded-Proto only from their own list of proxies).
            meta.pop("HTTP_X_FORWARDED_PROTO", None)
        forwarded_for = meta.get("HTTP_X_FORWARDED_FOR", "")
        meta["REMOTE_ADDR"] = address_behind_proxies(peer, forwarded_for, trusted)

    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            use_forwarded_address(request)
            return await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        use_forwarded_address(request)
        return get_response(request)

    return middleware
