"""The media pipeline under faults: a real worker process killed in the middle of a song's
job (PostgreSQL: another worker makes it again), its database restarting during the job, and
the bucket going down while the renditions are stored (nothing half-written; the next run
completes)."""

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from catalog import services
from catalog.models import ProcessingState, Song
from catalog.tests.fault_proxy import fault_proxy
from core.errors import StorageUnavailable
from processing import pipeline
from processing.pipeline import Outcome
from tests.job_workers import WORKER_ENV, Workers, job_rows, wait_for
from tests.live_servers import _postgres_url
from tests.media_samples import upload, wav_bytes
from tests.object_storage import s3_client, use_bucket

# Long enough that a worker is surely killed in the middle of making it (several seconds of
# ffmpeg on this machine), short enough for CI.
LONG_SECONDS = 90.0


def forget_queued_pipeline_jobs() -> None:
    """procrastinate's tables are not flushed between tests: no earlier test's job here."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE %s", ["processing.%"])


def files_under(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*") if path.is_file())


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_song_leaves_nothing_half_made_and_another_finishes(settings, tmp_path):
    settings.MEDIA_PIPELINE = True
    forget_queued_pipeline_jobs()
    workers = Workers(_postgres_url(connection.settings_dict), tmp_path)
    workers.env.update(
        {**WORKER_ENV, "MEDIA_PIPELINE": "true", "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    )
    try:
        (first,) = workers.start(1)
        song = services.song_create(
            title="Long", artist="Drone", audio_file=upload("long.wav", wav_bytes(LONG_SECONDS))
        )
        wait_for(
            lambda: [row[1] for row in job_rows("processing.process_song")] == ["doing"],
            timeout=60,
            what="the worker to take the job",
        )
        time.sleep(0.5)  # into its ffmpeg runs
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        assert Song.objects.get(pk=song.pk).processing_state == ProcessingState.PENDING
        assert files_under(Path(settings.MEDIA_ROOT)) == [Path(song.audio.name).name]

        workers.start(1)
        wait_for(
            lambda: Song.objects.get(pk=song.pk).processing_state == ProcessingState.READY,
            timeout=120,
            what="the song made by the second worker",
        )
        wait_for(
            lambda: [row[1] for row in job_rows("processing.process_song")] == ["succeeded"],
            what="the job marked done",
        )
        ((_, _, attempts, _),) = job_rows("processing.process_song")
        assert attempts == 2
    finally:
        workers.stop_all()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")

    song.refresh_from_db()
    assert all([song.opus_file, song.aac_file, song.mp3_file, song.waveform_file])
    assert len(files_under(Path(settings.MEDIA_ROOT))) == 5  # audio, 3 renditions, waveform


@pytest.mark.django_db
def test_the_bucket_down_while_renditions_are_stored_writes_nothing_then_the_retry_completes(
    settings, moto_endpoint, monkeypatch
):
    with fault_proxy(moto_endpoint) as proxy:
        bucket = use_bucket(settings, proxy.url, connect_timeout=1, read_timeout=1, max_attempts=2)
        bucket.client = s3_client(moto_endpoint)
        song = services.song_create(
            title="Cloud", artist="Nimbus", audio_file=upload("cloud.wav", wav_bytes(1.0))
        )
        stored_before = bucket.names()
        # The source is copied in, then the first rendition's upload is cut for good.
        original_store = services.song_outputs_store

        def store_with_the_bucket_going_down(**kwargs):
            proxy.cut_after(1024, then="refuse")
            return original_store(**kwargs)

        monkeypatch.setattr(services, "song_outputs_store", store_with_the_bucket_going_down)
        with pytest.raises(StorageUnavailable):
            pipeline.process_song(song.pk)
        monkeypatch.setattr(services, "song_outputs_store", original_store)
        song.refresh_from_db()
        assert song.processing_state == ProcessingState.PENDING
        assert not song.opus_file
        assert bucket.names() == stored_before  # no rendition, no waveform left behind

        proxy.relay()  # the bucket is back: the job's retry
        assert pipeline.process_song(song.pk) == Outcome.STORED

    song.refresh_from_db()
    assert song.processing_state == ProcessingState.READY
    assert len(bucket.names()) == len(stored_before) + 4


class WorkersOn(Workers):
    """Workers on another database than the test's, seen registered in its queue."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        super().__init__(database_url, log_dir)
        self.url = database_url

    def worker_ids(self) -> set[int]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=2) as database:
            return {row[0] for row in database.execute("SELECT id FROM procrastinate_workers")}


def _scalar(url: str, sql: str, *params):
    with psycopg.connect(url, autocommit=True, connect_timeout=2) as database:
        row = database.execute(sql, params).fetchone()
    return row[0] if row else None


def _quietly(read: Callable[[], object]) -> object:
    """A read that may meet the database restarting: None then."""
    try:
        return read()
    except psycopg.OperationalError:
        return None


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_database_restart_during_a_song_job_loses_nothing_and_the_job_completes(
    settings,
    tmp_path,
    copy_database,
    private_postgres,
):
    """The worker's database (a cluster of the test's own) restarts while it makes a song.
    Whatever the worker then does (its job fails and is retried, or the worker stops and its
    supervisor, here the test, starts another), the song ends ready with one set of files."""
    settings.MEDIA_PIPELINE = True
    forget_queued_pipeline_jobs()
    song = services.song_create(
        title="Long", artist="Drone", audio_file=upload("long.wav", wav_bytes(LONG_SECONDS))
    )
    url = copy_database()  # the song and its queued job, on the private cluster
    workers = WorkersOn(url, tmp_path)
    workers.env.update(
        {**WORKER_ENV, "MEDIA_PIPELINE": "true", "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    )
    state_sql = "SELECT processing_state FROM catalog_song WHERE id = %s"
    job_sql = "SELECT status FROM procrastinate_jobs WHERE task_name = 'processing.process_song'"
    try:
        workers.start(1)
        wait_for(lambda: _scalar(url, job_sql) == "doing", timeout=60, what="the job taken")
        private_postgres.stop()
        private_postgres.start()
        deadline = time.monotonic() + 120
        while _quietly(lambda: _scalar(url, state_sql, song.pk)) != ProcessingState.READY:
            assert time.monotonic() < deadline, "the song was not made after the restart"
            if not workers.running():  # it stopped with its database: a supervisor restarts it
                workers.start(1)
            time.sleep(0.2)
    finally:
        workers.stop_all()

    names = [
        _scalar(url, f"SELECT {field} FROM catalog_song WHERE id = %s", song.pk)  # noqa: S608
        for field in ("opus_file", "aac_file", "mp3_file", "waveform_file")
    ]
    assert all(names)
    stored = files_under(Path(settings.MEDIA_ROOT))
    assert sorted(Path(name).name for name in names) == sorted(
        name for name in stored if name != Path(song.audio.name).name
    )
