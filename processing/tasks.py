"""The media pipeline's jobs (core/jobs.py), found by the workers as every app's `tasks`
module: one per song whose audio is new or replaced, one per album whose tracks changed (one
waiting at a time: an album of twenty songs imported together is measured once, not twenty
times; a change after a measure started queues the next)."""

from django.conf import settings

from core import jobs
from processing import pipeline


@jobs.task(name="processing.process_song")
def process_song(*, song_id: int) -> str:
    """Renditions, loudness and waveform of the song's current audio (idempotent)."""
    return pipeline.process_song(song_id)


@jobs.task(name="processing.measure_album", queued_once_by=("album_id",))
def measure_album(*, album_id: int) -> str:
    """The album's loudness over its tracks as one programme (idempotent). It reads the
    tracks' audio itself, so it need not wait for their songs' own jobs."""
    return pipeline.measure_album(album_id)


def on_audio_changed(sender: object, *, song_id: int, **kwargs: object) -> None:
    """catalog.signals.audio_changed, inside the transaction that stored the audio: the job
    commits with it or not at all. With MEDIA_PIPELINE off (most tests) nothing is queued."""
    if settings.MEDIA_PIPELINE:
        process_song.enqueue(song_id=song_id)


def on_album_tracks_changed(sender: object, *, album_ids: set[int], **kwargs: object) -> None:
    if settings.MEDIA_PIPELINE:
        for album_id in sorted(album_ids):
            measure_album.enqueue(album_id=album_id)
