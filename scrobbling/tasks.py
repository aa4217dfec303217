"""The jobs that send a listener's plays and "now playing" to a linked service.

Each looks for its link when it runs: unlinked (the row gone) or broken (the service refused
the token) sends nothing, so unlinking drops what was still queued. A failure a retry may
fix (no answer, 429, 5xx, Last.fm's "try again" codes) raises, and core.jobs runs the job
again with backoff; a refused token ends it at once and marks the link broken."""

import logging
from collections.abc import Callable

from catalog.models import Play, Song
from core import jobs
from core.sealing import unseal
from scrobbling import lastfm, listenbrainz, services
from scrobbling.models import ScrobbleLink, Service

logger = logging.getLogger(__name__)

# What each service's client raises when the token or session is refused for good, and when
# it refuses what was sent (the same thing would be refused again).
_REFUSED = (listenbrainz.TokenRefused, lastfm.SessionRefused)
_REJECTED = (listenbrainz.Rejected, lastfm.Rejected)


def _usable_token(link_id: int) -> tuple[ScrobbleLink, str] | None:
    link = ScrobbleLink.objects.filter(pk=link_id).exclude(secret="").first()
    if link is None:
        return None
    if link.service == Service.LASTFM and not lastfm.is_configured():
        logger.warning("Last.fm is no longer configured: link %s sends nothing", link.pk)
        return None
    token = unseal(link.secret, purpose=services.SEAL_PURPOSE)
    if token is None:
        services.link_break(link_id=link.pk, error=services.SEALED_UNREADABLE)
        return None
    return link, token


def _send(link: ScrobbleLink, send: Callable[[], None]) -> None:
    try:
        send()
    except _REFUSED:
        services.link_break(link_id=link.pk, error=services.REVOKED[Service(link.service)])
    except _REJECTED as error:
        logger.error("%s refused what link %s sent: %s", link.service, link.pk, error)


def _listenbrainz_listen(song: Song, listened_at: int | None):
    return listenbrainz.listen(
        track_name=song.title,
        artist_name=song.artist_name,
        release_name=song.album.title if song.album_id else None,
        duration_seconds=song.duration,
        listened_at=listened_at,
    )


def _lastfm_track(song: Song) -> dict:
    track = {"artist": song.artist_name, "title": song.title, "duration": song.duration or None}
    if song.album_id:
        track["album"] = song.album.title
    return track


@jobs.task(name="scrobbling.listens_submit")
def listens_submit(*, link_id: int, play_ids: list[int]) -> None:
    """The plays as listens (scrobbles), at the times they were played."""
    found = _usable_token(link_id)
    if found is None:
        return
    link, token = found
    # The link's own listener's plays only; a play deleted since (its song) is skipped.
    plays = list(
        Play.objects.filter(pk__in=play_ids, user_id=link.user_id)
        .select_related("song__album")
        .order_by("played_at", "pk")
    )
    if not plays:
        return
    if link.service == Service.LISTENBRAINZ:
        listens = [
            _listenbrainz_listen(play.song, int(play.played_at.timestamp())) for play in plays
        ]
        _send(link, lambda: listenbrainz.submit(token, listens))
    else:
        tracks = [
            {**_lastfm_track(play.song), "timestamp": int(play.played_at.timestamp())}
            for play in plays
        ]
        _send(link, lambda: lastfm.scrobble(token, tracks))


@jobs.task(name="scrobbling.playing_now_submit", max_attempts=2)
def playing_now_submit(*, link_id: int, song_id: int) -> None:
    """The song the listener's player just started (worth little once late: one retry)."""
    found = _usable_token(link_id)
    if found is None:
        return
    link, token = found
    song = Song.objects.select_related("album").filter(pk=song_id).first()
    if song is None:
        return
    if link.service == Service.LISTENBRAINZ:
        playing = _listenbrainz_listen(song, None)
        _send(link, lambda: listenbrainz.submit_playing_now(token, playing))
    else:
        _send(link, lambda: lastfm.update_now_playing(token, _lastfm_track(song)))
