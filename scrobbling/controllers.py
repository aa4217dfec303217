from http import HTTPStatus

from ninja import Query, Status
from ninja_extra import api_controller, route

from core.auth import bearer_jwt
from core.controller_base import Controller
from core.error_responses import CONFLICT, INVALID, UNAUTHORIZED, UNAVAILABLE
from scrobbling import selectors, services
from scrobbling.models import Service
from scrobbling.schemas import (
    LastFmAuthUrlOut,
    LastFmCallbackQuery,
    LastFmTokenIn,
    ListenBrainzTokenIn,
    ScrobblingOut,
)


@api_controller("/me/scrobbling", tags=["scrobbling"], auth=bearer_jwt)
class ScrobblingController(Controller):
    """The caller's accounts on scrobbling services, where their plays are sent."""

    @route.get(
        "/",
        operation_id="scrobbling_status",
        response={HTTPStatus.OK: ScrobblingOut, **UNAUTHORIZED},
        summary="Your scrobbling links (never their tokens)",
    )
    def status(self):
        return selectors.scrobbling_status(user=self.context.request.user)

    @route.put(
        "/listenbrainz/",
        operation_id="scrobbling_listenbrainz_link",
        response={HTTPStatus.OK: ScrobblingOut, **UNAUTHORIZED, **INVALID, **UNAVAILABLE},
        summary="Link your ListenBrainz account with its token",
        description=(
            "The token is checked with ListenBrainz first: refused, a 422; ListenBrainz "
            "unreachable, a 503 with Retry-After. Nothing is stored in either case. Linking "
            "again replaces the token and clears `last_error`. From then on your plays and "
            "what you play now are sent to ListenBrainz by background jobs."
        ),
    )
    def link_listenbrainz(self, payload: ListenBrainzTokenIn):
        user = self.context.request.user
        services.listenbrainz_link(user=user, token=payload.token)
        return selectors.scrobbling_status(user=user)

    @route.delete(
        "/listenbrainz/",
        operation_id="scrobbling_listenbrainz_unlink",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED},
        summary="Unlink ListenBrainz: nothing more is sent, not even plays still queued",
    )
    def unlink_listenbrainz(self):
        services.link_delete(user=self.context.request.user, service=Service.LISTENBRAINZ)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.get(
        "/lastfm/auth-url/",
        operation_id="scrobbling_lastfm_auth_url",
        response={HTTPStatus.OK: LastFmAuthUrlOut, **UNAUTHORIZED, **CONFLICT, **INVALID},
        summary="Last.fm's page where you allow this server to scrobble for you",
        description=(
            "Send the listener to `url`; Last.fm brings them back to `callback` with "
            "`?token=...`, which `PUT /api/me/scrobbling/lastfm/` takes. 409 when this server "
            "has no Last.fm API account configured."
        ),
    )
    def lastfm_auth_url(self, query: Query[LastFmCallbackQuery]):
        request = self.context.request
        server_origin = f"{request.scheme}://{request.get_host()}"
        return {
            "url": services.lastfm_auth_url(callback=query.callback, server_origin=server_origin)
        }

    @route.put(
        "/lastfm/",
        operation_id="scrobbling_lastfm_link",
        response={
            HTTPStatus.OK: ScrobblingOut,
            **UNAUTHORIZED,
            **CONFLICT,
            **INVALID,
            **UNAVAILABLE,
        },
        summary="Link your Last.fm account with the token its callback received",
        description=(
            "The token is exchanged for a session key (auth.getSession): refused (not "
            "allowed, used, expired), a 422; Last.fm unreachable, a 503 with Retry-After; "
            "nothing stored in either case. 409 when Last.fm is not configured here."
        ),
    )
    def link_lastfm(self, payload: LastFmTokenIn):
        user = self.context.request.user
        services.lastfm_link(user=user, token=payload.token)
        return selectors.scrobbling_status(user=user)

    @route.delete(
        "/lastfm/",
        operation_id="scrobbling_lastfm_unlink",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED},
        summary="Unlink Last.fm: nothing more is sent, not even plays still queued",
    )
    def unlink_lastfm(self):
        services.link_delete(user=self.context.request.user, service=Service.LASTFM)
        return Status(HTTPStatus.NO_CONTENT, None)
