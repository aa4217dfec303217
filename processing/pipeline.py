"""The media pipeline: what is made of a song's audio once it is stored, run as jobs
(processing/tasks.py) after the catalog announces new audio (catalog/signals.py).

A song's work reads its stored audio into a private temporary folder (copied from a bucket,
read in place on disk), makes the three renditions, measures the loudness and the waveform
there, and hands the finished files to `catalog.services.song_outputs_store`, which stores them
only if the audio is still the one they were made from. So a run is idempotent (a second run
replaces the outputs with equal ones and removes the first ones' files), a replaced audio's
late work stores nothing, and a failure at any step leaves the song as it was.

A file ffmpeg cannot process (ProcessingFailed: corrupt, hostile, too long) is recorded on the
song with its reason and not retried: it would fail the same way. Anything else (the storage
or the database away) raises, and the job queue retries it (docs/JOBS.md).
"""

import json
import logging
import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile

from catalog import services as catalog_services
from catalog.models import Song
from catalog.renditions import StreamFormat
from catalog.selectors.albums import TRACK_ORDER
from processing.errors import ProcessingFailed
from processing.loudness import Loudness, measure_album_loudness, measure_loudness
from processing.renditions import RenditionFormat, make_rendition
from processing.waveform import waveform

logger = logging.getLogger(__name__)

# Each rendition the pipeline makes, as the catalog names the format it streams.
FORMATS = {
    RenditionFormat.OPUS: StreamFormat.OPUS,
    RenditionFormat.AAC: StreamFormat.AAC,
    RenditionFormat.MP3: StreamFormat.MP3,
}
COPY_CHUNK_BYTES = 1024 * 1024


class Outcome(StrEnum):
    """What one run did, for the caller's report (`process_audio`, the tests)."""

    STORED = "stored"
    STALE = "stale"  # the audio was replaced meanwhile: its own run follows
    FAILED = "failed"  # the file cannot be processed: the reason is on the song
    GONE = "gone"  # the song (or album) was deleted meanwhile


@contextmanager
def local_audio(field_file: FieldFile, folder: Path) -> Iterator[Path]:
    """The stored file as a local path: the file itself on disk, else a copy in `folder`
    read a chunk at a time (a bucket), so that ffmpeg only ever reads local files."""
    try:
        on_disk = Path(field_file.storage.path(field_file.name))
    except NotImplementedError:  # a bucket has no local path
        on_disk = None
    if on_disk is not None:
        yield on_disk
        return
    copy = Path(tempfile.mkstemp(dir=folder, suffix=Path(field_file.name).suffix)[1])
    with field_file.storage.open(field_file.name, "rb") as stored, copy.open("wb") as local:
        shutil.copyfileobj(stored, local, COPY_CHUNK_BYTES)
    yield copy


def _finite(value: float | None) -> float | None:
    """A measurement a column can keep: digital silence's -inf peak is no peak."""
    return value if value is not None and math.isfinite(value) else None


def _loudness_columns(measured: Loudness) -> tuple[float | None, float | None]:
    return _finite(measured.integrated_lufs), _finite(measured.true_peak_dbtp)


def process_song(song_id: int) -> Outcome:
    """Make and store everything of the song's current audio (see the module's docstring)."""
    song = Song.objects.only("id", "audio").filter(pk=song_id).first()
    if song is None:
        return Outcome.GONE
    made_from = song.audio.name
    with tempfile.TemporaryDirectory(prefix="pipeline-") as work, ExitStack() as files:
        folder = Path(work)
        try:
            with local_audio(song.audio, folder) as source:
                renditions = {
                    FORMATS[kind]: make_rendition(
                        source, folder / f"rendition.{kind.value.extension}", kind
                    )
                    for kind in FORMATS
                }
                loudness, true_peak = _loudness_columns(measure_loudness(source))
                peaks = waveform(source)
        except ProcessingFailed as failure:
            logger.info("Song %s cannot be processed: %s", song_id, failure.reason)
            catalog_services.song_processing_failed(
                song_id=song_id, made_from=made_from, reason=failure.reason
            )
            return Outcome.FAILED
        outputs = catalog_services.PipelineOutputs(
            made_from=made_from,
            renditions={
                stream_format: File(files.enter_context(rendition.path.open("rb")))
                for stream_format, rendition in renditions.items()
            },
            waveform=ContentFile(json.dumps(peaks, separators=(",", ":")).encode()),
            loudness=loudness,
            true_peak=true_peak,
        )
        stored = catalog_services.song_outputs_store(song_id=song_id, outputs=outputs)
    return Outcome.STORED if stored else Outcome.STALE


def measure_album(album_id: int) -> Outcome:
    """Measure the album's tracks as one programme, in their order, and store it (nothing
    measured for an album left without songs)."""
    tracks = list(Song.objects.filter(album_id=album_id).order_by(*TRACK_ORDER).only("id", "audio"))
    if not tracks:
        catalog_services.album_loudness_store(album_id=album_id, loudness=None, true_peak=None)
        return Outcome.GONE
    with tempfile.TemporaryDirectory(prefix="album-") as work, ExitStack() as sources:
        folder = Path(work)
        paths = [sources.enter_context(local_audio(track.audio, folder)) for track in tracks]
        try:
            loudness, true_peak = _loudness_columns(measure_album_loudness(paths))
        except ProcessingFailed as failure:
            # A track that cannot be read fails its own song; the album waits for a change.
            logger.info("Album %s cannot be measured: %s", album_id, failure.reason)
            return Outcome.FAILED
    catalog_services.album_loudness_store(album_id=album_id, loudness=loudness, true_peak=true_peak)
    return Outcome.STORED
