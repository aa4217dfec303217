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
from django.test.utils import CaptureQueriesContext
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


def run_jobs_counting_queries(client: Client, csv_text: str) -> tuple[ImportRun, list, list]:
    """Upload, preview and import; the queries of the preview job and of the import job."""
    upload(client, csv_text)
    run = ImportRun.objects.latest("pk")
    with CaptureQueriesContext(connection) as previewed:
        csv_import.preview(run.pk)
    assert csv_import.confirm(run)
    with CaptureQueriesContext(connection) as imported:
        csv_import.run_import(run.pk)
    run.refresh_from_db()
    return run, previewed.captured_queries, imported.captured_queries


def reads(queries: list) -> int:
    return sum(1 for query in queries if query["sql"].lstrip().upper().startswith("SELECT"))


def test_a_batch_costs_the_same_reads_whatever_its_rows_and_a_row_its_insert(
    staff_client, stored_audio, settings
):
    """The rows a batch may update, its artists, albums and audio files are read once per
    batch: a row costs its INSERT (in a savepoint in the preview), nothing else."""
    from catalog import services

    settings.CSV_IMPORT_BATCH_ROWS = 100
    album = services.album_create(title="Tests", artist="The Testers")
    services.artist_named("Known Band")

    def rows(count: int, prefix: str) -> str:
        artists = ["The Testers", "Known Band", f"{prefix} New Band", f"{prefix} Other"]
        return "".join(
            f"{prefix} {index},{artists[index % 4]},"
            f"{'Tests,The Testers' if index % 2 else ','},track{index % 2}.wav\n"
            for index in range(count)
        )

    small, small_preview, small_import = run_jobs_counting_queries(
        staff_client, SONG_HEADER + rows(10, "Small")
    )
    large, large_preview, large_import = run_jobs_counting_queries(
        staff_client, SONG_HEADER + rows(40, "Large")
    )

    assert (small.state, small.new_count, large.state, large.new_count) == ("done", 10, "done", 40)
    assert Song.objects.filter(album=album).count() == 25
    assert reads(large_preview) == reads(small_preview)
    assert reads(large_import) == reads(small_import)
    # A previewed row: its INSERT in a savepoint; an imported row: its INSERT alone.
    assert len(large_preview) - len(small_preview) == 3 * 30
    assert len(large_import) - len(small_import) == 30
    # And a batch's fixed cost is a handful of statements, not one per row.
    assert len(small_import) - 10 <= 20


def test_a_file_named_by_many_rows_is_verified_once_per_batch(
    staff_client, stored_audio, settings, monkeypatch
):
    from catalog import resources

    settings.CSV_IMPORT_BATCH_ROWS = 4
    verified: list[str] = []
    real_verify = resources.verify_stored_audio

    def counting_verify(name: str, **kwargs):
        verified.append(name)
        return real_verify(name, **kwargs)

    monkeypatch.setattr(resources, "verify_stored_audio", counting_verify)
    csv_text = SONG_HEADER + song_rows(6) + song_rows(2, audio="gone.wav", prefix="Lost")
    upload(staff_client, csv_text)
    run = ImportRun.objects.get()

    csv_import.preview(run.pk)

    run.refresh_from_db()
    # Batch one: rows 1-4 name track0.wav; batch two: two rows track0.wav, two gone.wav.
    assert verified == ["track0.wav", "track0.wav", "gone.wav"]
    assert (run.new_count, run.error_count) == (6, 2)
    assert [error["row"] for error in run.errors] == [7, 8]
    assert all("gone.wav" in error["messages"][0] for error in run.errors)


def test_a_row_repeated_in_a_batch_updates_the_song_the_first_one_created(
    staff_client, stored_audio
):
    csv_text = SONG_HEADER + "Twice,The Testers,,,track0.wav\nTwice,The Testers,,,track1.wav\n"

    run, _, _ = run_jobs_counting_queries(staff_client, csv_text)

    assert (run.state, run.new_count, run.updated_count) == ("done", 1, 1)
    song = Song.objects.get()
    assert (song.audio.name, song.duration) == ("songs/track1.wav", 2)


def test_a_row_matching_two_songs_is_its_rows_error(staff_client, stored_audio, make_song):
    for _ in range(2):
        make_song(title="Twin", artist="The Testers")
    upload(staff_client, SONG_HEADER + "Twin,The Testers,,,track0.wav\n")
    run = ImportRun.objects.get()

    csv_import.preview(run.pk)

    run.refresh_from_db()
    assert run.error_count == 1
    assert "returned more than one Song -- it returned 2" in run.errors[0]["messages"][0]


@pytest.mark.parametrize("duration", [0, 1, None])
def test_the_check_constraints_read_in_python_say_what_the_database_says(db, duration):
    from django.core.exceptions import ValidationError

    from catalog.resources import check_in_memory, validate_constraints_in_memory

    song = Song(title="Check", artist_name="Someone", duration=duration)
    constraint = Song._meta.constraints[0]
    by_database, in_memory = None, None
    try:
        song.validate_constraints()
    except ValidationError as error:
        by_database = error.message_dict
    try:
        validate_constraints_in_memory(song, exclude=set())
    except ValidationError as error:
        in_memory = error.message_dict

    assert check_in_memory(constraint.condition, song) is (duration != 0)
    assert in_memory == by_database
    assert (by_database is None) is (duration != 0)


def test_genres_are_read_once_per_batch_and_spelled_as_row_by_row(
    staff_client, stored_audio, settings
):
    """A new genre's first spelling is the one the next rows take, an existing one (an
    album's here) is kept, and a batch reads each genre once (a new one once more after its
    first row), not once per row."""
    from catalog import services

    settings.CSV_IMPORT_BATCH_ROWS = 100
    services.album_create(title="Old", artist="Someone", genre="Blues")
    services.artist_named("The Testers")  # the same reads for the artist in both runs
    header = "title,artist,genre,audio_file\n"
    genres = ["blues", "JAZZ", "jazz", "Jazz", "BLUES", "Rock"]

    def rows(count: int, prefix: str) -> str:
        return "".join(
            f"{prefix} {index},The Testers,{genres[index % 6]},track0.wav\n"
            for index in range(count)
        )

    _, small_preview, small_import = run_jobs_counting_queries(
        staff_client, header + rows(12, "Small")
    )
    Song.objects.all().delete()
    run, large_preview, large_import = run_jobs_counting_queries(
        staff_client, header + rows(30, "Large")
    )

    assert (run.state, run.new_count) == ("done", 30)
    spelling = {"blues": "Blues", "BLUES": "Blues", "JAZZ": "JAZZ", "jazz": "JAZZ"}
    spelling |= {"Jazz": "JAZZ", "Rock": "Rock"}
    expected = {f"Large {index}": spelling[genres[index % 6]] for index in range(30)}
    assert dict(Song.objects.values_list("title", "genre")) == expected
    assert reads(large_preview) == reads(small_preview)
    assert reads(large_import) == reads(small_import)
