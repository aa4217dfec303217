"""The admin's CSV import as jobs (catalog/csv_import.py): the upload answers at once with a
queued run, the preview and import jobs report progress, the import sends the media
pipeline's signals, bad files write nothing, and an interrupted import resumes."""

import json
import re
import time
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse

from catalog import csv_import
from catalog.models import ImportRun, ImportRunState, Song
from catalog.signals import album_tracks_changed, audio_changed
from tests.media_samples import png_bytes, wav_bytes

SONG_HEADER = "title,artist,album,album_artist,audio_file\n"


@pytest.fixture
def stored_audio(settings) -> list[str]:
    folder = Path(settings.MEDIA_ROOT) / "songs"
    folder.mkdir(parents=True)
    names = []
    for index in range(2):
        (folder / f"track{index}.wav").write_bytes(wav_bytes(seconds=1 + index))
        names.append(f"track{index}.wav")
    return names


def song_rows(count: int, audio: str = "track0.wav", prefix: str = "Song") -> str:
    return "".join(f"{prefix} {index},The Testers,,,{audio}\n" for index in range(count))


def upload(client: Client, csv_text: str | bytes, model: str = "song"):
    data = csv_text.encode() if isinstance(csv_text, str) else csv_text
    return client.post(
        reverse(f"admin:catalog_{model}_import"),
        {"import_file": SimpleUploadedFile(f"{model}.csv", data), "format": "0", "resource": "0"},
    )


def import_files() -> list[Path]:
    root = Path(csv_import.import_storage().location)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def signals_sent():
    sent: dict[str, list] = {"audio": [], "albums": []}

    def on_audio(sender, *, song_id, **kwargs):
        sent["audio"].append(song_id)

    def on_albums(sender, *, album_ids, **kwargs):
        sent["albums"].append(set(album_ids))

    audio_changed.connect(on_audio, dispatch_uid="test-csv-audio")
    album_tracks_changed.connect(on_albums, dispatch_uid="test-csv-albums")
    yield sent
    audio_changed.disconnect(dispatch_uid="test-csv-audio")
    album_tracks_changed.disconnect(dispatch_uid="test-csv-albums")


def test_the_upload_answers_at_once_with_a_queued_run_and_its_job(
    staff_client, stored_audio, django_capture_on_commit_callbacks, settings
):
    staff_client.get(reverse("admin:catalog_song_import"))  # templates loaded once, as in a server
    started = time.perf_counter()
    with django_capture_on_commit_callbacks() as jobs_queued:
        response = upload(staff_client, SONG_HEADER + song_rows(3))
    elapsed = time.perf_counter() - started

    run = ImportRun.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("admin:catalog_importrun_change", args=[run.pk])
    assert elapsed < 1.0
    assert run.state == ImportRunState.QUEUED
    assert run.model == "song"
    assert run.original_name == "song.csv"
    if settings.JOBS_BACKEND == "procrastinate":  # a row of the queue, in the same commit
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT args FROM procrastinate_jobs WHERE task_name = %s",
                ["catalog.csv_import_preview"],
            )
            args = [json.loads(row[0]) if isinstance(row[0], str) else row[0] for row in cursor]
            assert args == [{"run_id": run.pk}]
    else:
        assert len(jobs_queued) == 1  # the preview job, run after the commit
    assert import_files() == [Path(csv_import.import_storage().path(run.file_name))]
    assert not Path(settings.MEDIA_ROOT, run.file_name).exists()  # never under MEDIA_ROOT
    assert not Song.objects.exists()
    page = staff_client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh"' in page  # the page follows the job


def test_the_jobs_preview_then_import_and_the_run_page_follows(
    staff_client, stored_audio, signals_sent
):
    upload(staff_client, SONG_HEADER + song_rows(3))
    run = ImportRun.objects.get()

    csv_import.preview(run.pk)

    run.refresh_from_db()
    assert (run.state, run.rows_total, run.rows_done, run.new_count) == ("previewed", 3, 3, 3)
    assert not Song.objects.exists()
    assert signals_sent["audio"] == []
    page = staff_client.get(reverse("admin:catalog_importrun_change", args=[run.pk]))
    assert "Confirm import" in page.content.decode()
    assert '<meta http-equiv="refresh"' not in page.content.decode()

    response = staff_client.post(reverse("admin:catalog_importrun_confirm", args=[run.pk]))
    assert response.status_code == HTTPStatus.FOUND
    run.refresh_from_db()
    assert run.state == ImportRunState.IMPORTING
    csv_import.run_import(run.pk)

    run.refresh_from_db()
    assert (run.state, run.rows_done, run.new_count) == ("done", 3, 3)
    assert run.finished_at is not None
    assert sorted(Song.objects.values_list("title", flat=True)) == ["Song 0", "Song 1", "Song 2"]
    assert sorted(signals_sent["audio"]) == sorted(Song.objects.values_list("pk", flat=True))
    assert import_files() == []  # the stored CSV goes once imported
    # A second confirm (a double click) queues nothing.
    assert staff_client.post(reverse("admin:catalog_importrun_confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.state == ImportRunState.DONE


def test_a_replaced_audio_file_sends_audio_changed_and_an_unchanged_row_nothing(
    staff_client, stored_audio, signals_sent
):
    from tests.admin_pages import confirm, preview

    confirm(staff_client, "song", preview(staff_client, "song", SONG_HEADER + song_rows(2)))
    first, second = Song.objects.order_by("title")
    signals_sent["audio"].clear()

    csv_text = SONG_HEADER + "Song 0,The Testers,,,track1.wav\n"
    csv_text += f"Song 1,The Testers,,,{second.audio.name}\n"
    confirm(staff_client, "song", preview(staff_client, "song", csv_text))

    assert signals_sent["audio"] == [first.pk]
    first.refresh_from_db()
    assert first.audio.name == "songs/track1.wav"


def test_a_song_imported_into_an_album_sends_album_tracks_changed(
    staff_client, stored_audio, signals_sent
):
    from catalog import services
    from tests.admin_pages import confirm, preview

    album = services.album_create(title="Tests", artist="The Testers")
    csv_text = SONG_HEADER + "Track,The Testers,Tests,,track0.wav\n"
    confirm(staff_client, "song", preview(staff_client, "song", csv_text))

    assert signals_sent["albums"] == [{album.pk}]


def test_errors_are_listed_and_bounded_and_the_import_cannot_be_confirmed(
    staff_client, stored_audio
):
    csv_text = SONG_HEADER + song_rows(2) + song_rows(150, audio="gone.wav", prefix="Lost")
    upload(staff_client, csv_text)
    run = ImportRun.objects.get()

    csv_import.preview(run.pk)

    run.refresh_from_db()
    assert (run.rows_total, run.error_count, run.new_count) == (152, 150, 2)
    assert len(run.errors) == csv_import.ERRORS_KEPT
    assert run.errors[0]["row"] == 3
    assert "audio_file:" in run.errors[0]["messages"][0]
    page = staff_client.get(reverse("admin:catalog_importrun_change", args=[run.pk]))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    assert "the first 100 of 150 rows" in text
    assert "Confirm import" not in text
    assert not csv_import.confirm(run)
    assert not Song.objects.exists()


def test_progress_moves_batch_by_batch(staff_client, stored_audio, settings):
    settings.CSV_IMPORT_BATCH_ROWS = 2
    upload(staff_client, SONG_HEADER + song_rows(5))
    run = ImportRun.objects.get()
    seen: list[tuple[str, int]] = []

    def record(sender, instance, **kwargs):
        seen.append((instance.state, instance.rows_done))

    post_save.connect(record, sender=ImportRun, dispatch_uid="test-progress")
    try:
        csv_import.preview(run.pk)
        csv_import.confirm(run)
        csv_import.run_import(run.pk)
    finally:
        post_save.disconnect(dispatch_uid="test-progress")

    assert [done for state, done in seen if state == "previewing"] == [0, 2, 4, 5]
    assert [done for state, done in seen if state == "importing"] == [2, 4, 5]
    assert Song.objects.count() == 5


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (png_bytes(), "not a CSV"),
        ("name,singer\nSong,Someone\n", "it has no title or artist or audio_file column"),
        ("", "The submitted file is empty"),
        (b"title,artist,audio_file\n\xff\xfe,x,y\n", "not a CSV in UTF-8"),
    ],
)
def test_a_bad_file_is_refused_at_upload_and_writes_nothing(
    staff_client, content, error, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as jobs_queued:
        response = upload(staff_client, content)

    assert response.status_code == HTTPStatus.OK
    assert error in response.content.decode()
    assert not ImportRun.objects.exists()
    assert jobs_queued == []
    assert import_files() == []


def test_a_file_too_large_is_refused_at_upload(staff_client, settings):
    settings.CSV_IMPORT_MAX_BYTES = 100
    response = upload(staff_client, SONG_HEADER + song_rows(10))

    assert "a CSV import takes at most 100 bytes" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert import_files() == []


def test_an_interrupted_import_resumes_after_its_last_batch_without_duplicates(
    staff_client, stored_audio, settings, monkeypatch, signals_sent
):
    settings.CSV_IMPORT_BATCH_ROWS = 2
    upload(staff_client, SONG_HEADER + song_rows(5))
    run = ImportRun.objects.get()
    csv_import.preview(run.pk)
    csv_import.confirm(run)
    real_batch = csv_import._import_batch
    calls = []

    def dying_batch(run, dataset, *, dry_run):
        calls.append(len(dataset))
        if len(calls) == 2:
            real_batch(run, dataset, dry_run=dry_run)  # the rows are written, then the worker dies
            raise RuntimeError("worker lost")
        return real_batch(run, dataset, dry_run=dry_run)

    monkeypatch.setattr(csv_import, "_import_batch", dying_batch)
    with pytest.raises(RuntimeError):
        csv_import.run_import(run.pk)
    run.refresh_from_db()
    assert (run.state, run.rows_done, Song.objects.count()) == ("importing", 2, 2)

    monkeypatch.setattr(csv_import, "_import_batch", real_batch)
    csv_import.run_import(run.pk)  # the job run again: from row 3 on
    csv_import.run_import(run.pk)  # and once more after it ended: nothing

    run.refresh_from_db()
    assert (run.state, run.rows_done, run.new_count) == ("done", 5, 5)
    assert sorted(Song.objects.values_list("title", flat=True)) == [f"Song {i}" for i in range(5)]
    # Sent for every song; the rolled-back batch's were sent in its transaction, so whatever a
    # receiver enqueued then was rolled back with it.
    assert set(Song.objects.values_list("pk", flat=True)) <= set(signals_sent["audio"])
