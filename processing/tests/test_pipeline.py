"""The media pipeline end to end: a song stored through the catalog's services gets its
renditions, loudness and waveform from a job, served by the API as they are; a file that
cannot be processed fails its song with a reason; an album is measured as one programme; a
bucket is read through a local copy; the backfill command does what the jobs would."""

import json
import subprocess
import time
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from catalog import services
from catalog.models import Album, ProcessingState, Song
from core.models import JobFailure
from processing import pipeline
from processing.loudness import measure_album_loudness
from processing.pipeline import Outcome
from tests.media_samples import media_path, upload, wav_bytes

pytestmark = pytest.mark.django_db

SECONDS = 3.0


@pytest.fixture
def song(make_song):
    return make_song("Sunrise", audio=wav_bytes(SECONDS))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_processed_song_streams_each_rendition_with_its_length(
    client: Client, song, ffprobe, tmp_path
):
    assert pipeline.process_song(song.pk) == Outcome.STORED

    song.refresh_from_db()
    described = client.get(f"/api/songs/{song.pk}/").json()
    assert song.processing_state == ProcessingState.READY
    assert described["formats"] == ["original", "opus", "aac", "mp3"]
    for stream_format, codec in (("opus", "opus"), ("aac", "aac"), ("mp3", "mp3")):
        response = client.get(f"/api/songs/{song.pk}/stream/?format={stream_format}")
        assert response.status_code == HTTPStatus.OK
        served = tmp_path / f"served.{stream_format}"
        served.write_bytes(body_of(response))
        assert int(response["Content-Length"]) == served.stat().st_size
        probed = ffprobe(served)
        assert probed["streams"][0]["codec_name"] == codec
        duration = float(probed["streams"][0].get("duration") or probed["format"]["duration"])
        assert abs(duration - SECONDS) < 0.05, (stream_format, probed)
    ranged = client.get(f"/api/songs/{song.pk}/stream/?format=mp3", headers={"Range": "bytes=100-"})
    assert ranged.status_code == HTTPStatus.PARTIAL_CONTENT
    assert ranged["Content-Range"].startswith("bytes 100-")


def test_a_processed_song_has_its_replay_gain_and_waveform(client: Client, song):
    pipeline.process_song(song.pk)

    song.refresh_from_db()
    gain = client.get(f"/api/songs/{song.pk}/").json()["replay_gain"]
    peaks = json.loads(body_of(client.get(f"/api/songs/{song.pk}/waveform/")))
    assert song.loudness is not None
    assert gain["track_gain"] == round(-18 - song.loudness, 2)
    assert gain["album_gain"] == gain["track_gain"]  # a single is its own album
    assert 0 < gain["track_peak"] <= 1.5
    assert (peaks["version"], peaks["channels"], peaks["bits"]) == (2, 1, 8)
    assert len(peaks["data"]) == 2 * peaks["length"]
    assert max(peaks["data"]) > 10  # the melody is heard, not silence


def test_processing_twice_leaves_one_set_of_files(
    song, settings, django_capture_on_commit_callbacks
):
    pipeline.process_song(song.pk)
    first = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())

    with django_capture_on_commit_callbacks(execute=True):  # the first run's files go then
        pipeline.process_song(song.pk)
    second = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())

    assert len(second) == len(first) == 5  # audio, three renditions, a waveform


def test_a_file_that_cannot_be_processed_fails_its_song_with_the_reason(client, song, settings):
    # The stored file damaged after its upload was verified: cut to its first bytes.
    stored = media_path(settings, song.audio.name)
    stored.write_bytes(stored.read_bytes()[:200])

    assert pipeline.process_song(song.pk) == Outcome.FAILED

    song.refresh_from_db()
    assert song.processing_state == ProcessingState.FAILED
    assert song.processing_error  # a sentence, not a traceback
    assert "Traceback" not in song.processing_error
    assert client.get(f"/api/songs/{song.pk}/").json()["formats"] == ["original"]


def test_a_deleted_song_is_gone_not_an_error(song):
    services.song_delete(song_id=song.pk)

    assert pipeline.process_song(song.pk) == Outcome.GONE


def test_an_album_is_measured_over_its_tracks_as_one_programme(make_album, make_song, settings):
    album = make_album()
    songs = [
        make_song(f"Track {n}", album=album, audio=wav_bytes(seconds), track_number=n + 1)
        for n, seconds in enumerate((2.0, 3.0))
    ]

    assert pipeline.measure_album(album.pk) == Outcome.STORED

    album.refresh_from_db()
    expected = measure_album_loudness([media_path(settings, s.audio.name) for s in songs])
    assert album.loudness == pytest.approx(expected.integrated_lufs, abs=0.01)
    assert album.true_peak == pytest.approx(expected.true_peak_dbtp, abs=0.01)


def test_an_album_left_without_songs_has_no_loudness(make_album):
    album = make_album()
    Album.objects.filter(pk=album.pk).update(loudness=-14.0, true_peak=-1.0)

    assert pipeline.measure_album(album.pk) == Outcome.GONE

    album.refresh_from_db()
    assert (album.loudness, album.true_peak) == (None, None)


def test_a_song_in_a_bucket_is_processed_from_a_local_copy(settings, moto_endpoint):
    from tests.object_storage import use_bucket

    use_bucket(settings, moto_endpoint)
    song = services.song_create(
        title="Cloud", artist="Nimbus", audio_file=upload("cloud.wav", wav_bytes(1.0))
    )

    assert pipeline.process_song(song.pk) == Outcome.STORED

    song.refresh_from_db()
    assert song.opus_file.storage.exists(song.opus_file.name)
    assert song.waveform_file.storage.exists(song.waveform_file.name)


@pytest.mark.django_db(transaction=True)
def test_a_new_song_is_processed_by_a_job_after_its_upload_commits(settings, admin_user):
    """On SQLite the jobs run in this process after commit; on PostgreSQL the job is queued
    (the worker tests run it): either way nothing runs for a rolled-back upload."""
    settings.MEDIA_PIPELINE = True

    def create_then_fail() -> None:
        with transaction.atomic():
            services.song_create(
                title="Rolled back", artist="Nobody", audio_file=upload("a.wav", wav_bytes(1.0))
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        create_then_fail()

    song = services.song_create(
        title="Kept", artist="Somebody", audio_file=upload("b.wav", wav_bytes(1.0))
    )

    if settings.JOBS_BACKEND == "in_process":
        deadline = time.monotonic() + 60
        while Song.objects.get(pk=song.pk).processing_state != ProcessingState.READY:
            assert time.monotonic() < deadline, "the job did not process the song"
            time.sleep(0.1)
        assert Song.objects.get(pk=song.pk).mp3_file
    else:
        from procrastinate.contrib.django.models import ProcrastinateJob

        queued = ProcrastinateJob.objects.filter(task_name="processing.process_song")
        assert [job.args for job in queued] == [{"song_id": song.pk}]
        queued.delete()  # procrastinate's table is not flushed with the test's rows
    assert Song.objects.filter(title="Rolled back").count() == 0


def test_process_audio_missing_does_what_the_jobs_would_and_is_resumable(make_song):
    songs = [make_song(f"Song {n}", audio=wav_bytes(1.0)) for n in range(3)]
    pipeline.process_song(songs[0].pk)  # done before: not done again

    call_command("process_audio", "--missing", "--no-progress")

    states = dict(Song.objects.values_list("pk", "processing_state"))
    assert set(states.values()) == {ProcessingState.READY}
    ready_before = Song.objects.get(pk=songs[0].pk).updated_at
    call_command("process_audio", "--missing", "--no-progress")  # nothing left
    assert Song.objects.get(pk=songs[0].pk).updated_at == ready_before


def test_process_audio_needs_a_selection():
    result = subprocess.run(
        [".venv/bin/python", "manage.py", "process_audio"],
        capture_output=True,
        text=True,
        check=False,
        env={"MEDIA_PIPELINE": "false", "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode != 0
    assert "--missing" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_an_album_of_ten_songs_added_together_is_measured_once_over_all_its_tracks(
    settings, make_album, make_song, monkeypatch
):
    """album_tracks_changed fires for each song; the album's measure is coalesced by album
    (core/jobs.py `queued_once_by`), and measures all the tracks whenever it runs."""
    settings.MEDIA_PIPELINE = True
    settings.JOBS_RETRY_BASE_SECONDS = 0.5  # SQLite's writers may lock each other out: a retry
    measured = []
    real_measure = pipeline.measure_album

    def counted(album_id: int) -> Outcome:
        measured.append(album_id)
        return real_measure(album_id)

    monkeypatch.setattr(pipeline, "measure_album", counted)
    album = make_album()
    with transaction.atomic():
        songs = [
            make_song(f"Track {n}", album=album, audio=wav_bytes(1.0 + n % 3), track_number=n)
            for n in range(1, 11)
        ]

    if settings.JOBS_BACKEND == "in_process":
        deadline = time.monotonic() + 120
        while Song.objects.filter(processing_state=ProcessingState.READY).count() < len(songs):
            assert time.monotonic() < deadline, "the jobs did not process the songs"
            time.sleep(0.1)
        while not Album.objects.filter(pk=album.pk, loudness__isnull=False).exists():
            assert time.monotonic() < deadline, "the album was not measured"
            time.sleep(0.1)
        time.sleep(0.5)  # no late duplicate comes
    else:
        from procrastinate.contrib.django.models import ProcrastinateJob

        from core.jobs import TASKS

        queued = ProcrastinateJob.objects.filter(task_name__startswith="processing.")
        try:
            waiting = queued.filter(task_name="processing.measure_album")
            assert [job.args for job in waiting] == [{"album_id": album.pk}]
            for job in queued.order_by("id"):  # what a worker would do, in queue order
                TASKS[job.task_name](**job.args)
        finally:
            queued.delete()  # procrastinate's table is not flushed with the test's rows

    # One job: its runs, less those that failed and were run again.
    retried = JobFailure.objects.filter(task_name="processing.measure_album").count()
    assert set(measured) == {album.pk}
    assert len(measured) - retried == 1
    album.refresh_from_db()
    expected = measure_album_loudness([media_path(settings, s.audio.name) for s in songs])
    assert album.loudness == pytest.approx(expected.integrated_lufs, abs=0.01)
    assert album.true_peak == pytest.approx(expected.true_peak_dbtp, abs=0.01)
