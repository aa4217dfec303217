"""The admin's folder import (catalog/storage_import.py) on real storages: the disk under
MEDIA_ROOT and a bucket of moto's S3 server over HTTP; its job run by the real job runners
(in this process, and on PostgreSQL by a worker process); its form's refusals."""

import os
import tempfile
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.urls import reverse
from mutagen.id3 import TALB, TIT2, TPE1, TRCK
from mutagen.wave import WAVE

from catalog import storage_import
from catalog.folder_import import STORED_PATH_PREFIX
from catalog.models import (
    Album,
    FolderImportRun,
    FolderImportState,
    ImportedFile,
    Lyrics,
    LyricsSource,
    Song,
)
from core.errors import StorageUnavailable
from tests.job_workers import WORKER_ENV, Workers, job_rows, wait_for
from tests.live_servers import _postgres_url
from tests.media_samples import wav_bytes
from tests.object_storage import MediaBackend

pytestmark = pytest.mark.django_db

TASK = "catalog.folder_import"
ADD = reverse("admin:catalog_folderimportrun_add")


def tagged_wav(seconds: float = 1.0, **tags: str) -> bytes:
    """A WAV with ID3 tags (title, artist, album, track), as a tagger would leave it."""
    frames = {"title": TIT2, "artist": TPE1, "album": TALB, "track": TRCK}
    with tempfile.NamedTemporaryFile(suffix=".wav") as handle:
        handle.write(wav_bytes(seconds))
        handle.flush()
        audio = WAVE(handle.name)
        audio.add_tags()
        for name, value in tags.items():
            audio.tags.add(frames[name](encoding=3, text=[value]))
        audio.save()
        return Path(handle.name).read_bytes()


def fill_music(backend: MediaBackend) -> None:
    for track, title in ((1, "One"), (2, "Two")):
        tags = {"title": title, "artist": "Band", "album": "Record", "track": str(track)}
        backend.put(f"music/record/0{track}.wav", tagged_wav(**tags))
    backend.put("music/notes.txt", b"liner notes")
    backend.put("music/broken.mp3", b"ID3 this is no audio at all" * 10)
    backend.put("songs/already-a-song.wav", wav_bytes())  # the app's folder: outside
    backend.put("other/elsewhere.wav", wav_bytes())  # outside the folder


def import_run(folder: str = "music") -> FolderImportRun:
    run = FolderImportRun.objects.create(folder=folder)
    storage_import.run_import(run.pk)
    run.refresh_from_db()
    return run


def counts(run: FolderImportRun) -> dict[str, int]:
    return {
        name: getattr(run, f"{name}_count")
        for name in ("added", "updated", "unchanged", "skipped", "failed")
    }


def forget_queued_jobs() -> None:
    """procrastinate's table is not flushed between tests."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = %s", [TASK])


def queued_jobs() -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [TASK])
        return cursor.fetchone()[0]


# --- The walk and the import, on disk and in the bucket -------------------------------------


def test_a_folder_of_the_storage_becomes_songs_and_a_second_run_adds_nothing(media_backend):
    fill_music(media_backend)
    temporary = Path(tempfile.gettempdir())
    copies_before = set(temporary.glob("folder-import-*"))

    run = import_run()

    assert set(temporary.glob("folder-import-*")) == copies_before  # each copy removed

    assert run.state == FolderImportState.DONE
    assert (run.files_total, run.files_done) == (4, 4)
    assert counts(run) == {"added": 2, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 1}
    problems = {problem["path"]: problem for problem in run.problems}
    assert problems["music/broken.mp3"]["outcome"] == "failed"
    assert problems["music/broken.mp3"]["reason"].startswith("not audio: ")
    assert problems["music/notes.txt"]["outcome"] == "skipped"
    album = Album.objects.get()
    assert (album.title, album.artist.name) == ("Record", "Band")
    songs = Song.objects.order_by("track_number")
    assert [(s.title, s.track_number, s.album_id) for s in songs] == [
        ("One", 1, album.pk),
        ("Two", 2, album.pk),
    ]
    assert sorted(ImportedFile.objects.values_list("path", flat=True)) == [
        f"{STORED_PATH_PREFIX}music/record/01.wav",
        f"{STORED_PATH_PREFIX}music/record/02.wav",
    ]
    # Each song has its own copy under songs/; the folder's files are left as they were.
    names = media_backend.names()
    for song in songs:
        assert song.audio.name.startswith("songs/")
        assert song.audio.name in names
    assert {"music/record/01.wav", "music/record/02.wav", "other/elsewhere.wav"} <= set(names)

    again = import_run()

    assert counts(again) == {"added": 0, "updated": 0, "unchanged": 2, "skipped": 1, "failed": 1}
    assert Song.objects.count() == 2


def test_a_changed_file_updates_its_song(media_backend):
    fill_music(media_backend)
    import_run()
    song = Song.objects.get(title="Two")
    old_audio = song.audio.name
    media_backend.put(
        "music/record/02.wav",
        tagged_wav(3.0, title="Two (long)", artist="Band", album="Record", track="2"),
    )

    run = import_run()

    assert counts(run) == {"added": 0, "updated": 1, "unchanged": 1, "skipped": 1, "failed": 1}
    song.refresh_from_db()
    assert (song.title, song.duration) == ("Two (long)", 3)
    assert song.audio.name != old_audio
    assert Song.objects.count() == 2


def test_names_that_could_climb_out_of_the_folder_are_refused(settings, moto_endpoint):
    from tests.object_storage import use_bucket

    bucket = use_bucket(settings, moto_endpoint)
    bucket.put("music/ok.wav", wav_bytes())
    bucket.put("songs/target.wav", wav_bytes())
    # Keys are any text in a bucket: the backend would read these as songs/target.wav.
    bucket.put("music/..\\songs\\target.wav", wav_bytes())
    bucket.put("music/../songs/target.wav", wav_bytes())

    run = import_run()

    assert counts(run)["added"] == 1
    assert counts(run)["skipped"] == 2
    assert run.problems == [
        {"path": "music/..", "outcome": "skipped", "reason": storage_import.UNSAFE_NAME},
        {
            "path": "music/..\\songs\\target.wav",
            "outcome": "skipped",
            "reason": storage_import.UNSAFE_NAME,
        },
    ]
    assert list(ImportedFile.objects.values_list("path", flat=True)) == ["storage:music/ok.wav"]


def test_links_on_disk_out_of_the_folder_are_not_followed(settings, tmp_path):
    media = Path(settings.MEDIA_ROOT)
    (media / "music").mkdir()
    (media / "music" / "own.wav").write_bytes(wav_bytes())
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "private.wav").write_bytes(wav_bytes(2.0))
    (media / "music" / "private.wav").symlink_to(secret / "private.wav")
    (media / "music" / "elsewhere").symlink_to(secret, target_is_directory=True)
    (media / "linked").symlink_to(media / "songs", target_is_directory=True)
    os.mkfifo(media / "music" / "pipe.wav")

    run = import_run()

    assert counts(run) == {"added": 1, "updated": 0, "unchanged": 0, "skipped": 3, "failed": 0}
    reasons = {problem["path"]: problem["reason"] for problem in run.problems}
    assert reasons == {
        "music/elsewhere": storage_import.LINKED_FOLDER,
        "music/pipe.wav": storage_import.NOT_A_FILE,
        "music/private.wav": storage_import.LINK_OUTSIDE,
    }
    with pytest.raises(Exception, match="is a link to another folder"):
        storage_import.clean_folder("linked")


def test_a_run_stopped_by_the_storage_goes_on_after_the_files_it_did(settings, monkeypatch):
    media = Path(settings.MEDIA_ROOT) / "music"
    media.mkdir()
    for number in range(3):
        (media / f"{number}.wav").write_bytes(wav_bytes(1.0 + number))
    real_import = storage_import.import_source
    calls = []

    def storage_away_at_the_second_file(entry):
        calls.append(entry.stored_name)
        if len(calls) == 2:
            raise StorageUnavailable("the bucket is away")
        return real_import(entry)

    monkeypatch.setattr(storage_import, "import_source", storage_away_at_the_second_file)
    run = FolderImportRun.objects.create(folder="music")
    with pytest.raises(StorageUnavailable):
        storage_import.run_import(run.pk)
    run.refresh_from_db()
    assert run.state == FolderImportState.FAILED
    assert "the bucket is away" in run.failure
    assert (run.files_done, run.added_count) == (1, 1)

    storage_import.run_import(run.pk)  # the job's retry

    run.refresh_from_db()
    assert run.state == FolderImportState.DONE
    assert run.failure == ""
    assert (run.files_done, counts(run)["added"], counts(run)["unchanged"]) == (3, 3, 0)
    assert calls == ["music/0.wav", "music/1.wav", "music/1.wav", "music/2.wav"]
    assert Song.objects.count() == 3


def test_a_file_over_the_limit_in_the_bucket_is_skipped_unread(settings, moto_endpoint):
    from tests.object_storage import use_bucket

    bucket = use_bucket(settings, moto_endpoint)
    bucket.put("music/long.wav", wav_bytes(4.0))
    settings.AUDIO_MAX_BYTES = len(wav_bytes(2.0))

    run = import_run()

    assert counts(run)["skipped"] == 1
    assert run.problems[0]["reason"].startswith("too large: ")
    assert not Song.objects.exists()


# --- The admin's form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("", storage_import.FOLDER_EMPTY),
        ("  /  ", storage_import.FOLDER_EMPTY),
        ("/etc", storage_import.FOLDER_ABSOLUTE),
        ("C:\\music", storage_import.FOLDER_ABSOLUTE),
        ("../music", storage_import.FOLDER_BAD_NAME),
        ("music/../songs", storage_import.FOLDER_BAD_NAME),
        ("music\\..", storage_import.FOLDER_BAD_NAME),
        ("songs", storage_import.FOLDER_OF_THE_APP.format(top="songs")),
        ("renditions/x", storage_import.FOLDER_OF_THE_APP.format(top="renditions")),
        ("csv-imports", storage_import.FOLDER_OF_THE_APP.format(top="csv-imports")),
        ("nowhere", storage_import.FOLDER_MISSING.format(folder="nowhere")),
        ("music/notes.txt", storage_import.FOLDER_MISSING.format(folder="music/notes.txt")),
    ],
)
def test_bad_input_is_refused_with_a_sentence_and_writes_nothing(
    staff_client, settings, django_capture_on_commit_callbacks, folder, message
):
    forget_queued_jobs()
    (Path(settings.MEDIA_ROOT) / "music").mkdir()
    (Path(settings.MEDIA_ROOT) / "music" / "notes.txt").write_text("notes")

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(ADD, {"folder": folder})

    assert response.status_code == HTTPStatus.OK
    assert message in response.context["adminform"].form.errors["folder"]
    assert not FolderImportRun.objects.exists()
    assert callbacks == []
    assert queued_jobs() == 0


def test_the_form_queues_a_run_and_its_page_follows_it(
    staff_client, settings, django_capture_on_commit_callbacks
):
    forget_queued_jobs()
    media = MediaBackend("disk", root=Path(settings.MEDIA_ROOT))
    fill_music(media)
    form = staff_client.get(ADD).content.decode()
    assert "Folders at the root: music, other." in form  # songs/ is the app's

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(ADD, {"folder": " music/ "})

    run = FolderImportRun.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("admin:catalog_folderimportrun_change", args=[run.pk])
    assert (run.folder, run.state, run.user.is_staff) == ("music", FolderImportState.QUEUED, True)
    if connection.vendor == "postgresql":
        assert [row[3] for row in job_rows(TASK)] == [{"run_id": run.pk}]
        forget_queued_jobs()
    else:
        assert len(callbacks) == 1
    page = staff_client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh"' in page

    storage_import.run_import(run.pk)

    page = staff_client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh"' not in page
    assert "Done: 4 of 4 files" in page
    assert "2 added, 0 updated, 0 unchanged, 1 skipped, 1 failed." in page
    assert "music/broken.mp3" in page
    assert "music/notes.txt" in page


def test_only_staff_who_may_add_songs_reach_the_folder_import(make_user, settings):
    (Path(settings.MEDIA_ROOT) / "music").mkdir()
    staff = make_user(is_staff=True)
    client = Client()
    client.force_login(staff)

    changelist = reverse("admin:catalog_folderimportrun_changelist")

    assert client.get(ADD).status_code == HTTPStatus.FORBIDDEN
    assert client.post(ADD, {"folder": "music"}).status_code == HTTPStatus.FORBIDDEN
    assert not FolderImportRun.objects.exists()
    assert changelist not in client.get(reverse("admin:index")).content.decode()

    staff.user_permissions.add(Permission.objects.get(codename="add_song"))
    client.force_login(staff)
    assert client.get(ADD).status_code == HTTPStatus.OK
    assert changelist in client.get(reverse("admin:index")).content.decode()  # the sidebar


# --- Through the job runners ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_job_runs_in_process_and_brings_the_run_to_done(settings):
    settings.JOBS_BACKEND = "in_process"
    fill_music(MediaBackend("disk", root=Path(settings.MEDIA_ROOT)))

    run = FolderImportRun(folder="music")
    storage_import.start(run)

    wait_for(
        lambda: FolderImportRun.objects.get(pk=run.pk).state == FolderImportState.DONE,
        timeout=60,
        what="the folder import job",
    )
    run.refresh_from_db()
    assert counts(run) == {"added": 2, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 1}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_runs_the_job(settings, tmp_path):
    forget_queued_jobs()
    fill_music(MediaBackend("disk", root=Path(settings.MEDIA_ROOT)))
    workers = Workers(_postgres_url(connection.settings_dict), tmp_path)
    workers.env.update({**WORKER_ENV, "MEDIA_ROOT": str(settings.MEDIA_ROOT)})
    try:
        workers.start(1)
        run = FolderImportRun(folder="music")
        storage_import.start(run)
        wait_for(
            lambda: [row[1] for row in job_rows(TASK)] == ["succeeded"],
            timeout=90,
            what="the worker to run the job",
        )
    finally:
        workers.stop_all()
        forget_queued_jobs()
    run.refresh_from_db()
    assert run.state == FolderImportState.DONE
    assert counts(run) == {"added": 2, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 1}
    assert Song.objects.count() == 2


def test_walking_holds_one_folder_at_a_time(settings):
    """The walk is a stream: it has listed only the folders it went into so far."""
    media = Path(settings.MEDIA_ROOT) / "music"
    for letter in "abc":
        (media / letter).mkdir(parents=True)
        (media / letter / "x.wav").write_bytes(b"x")
    listed = []
    storage = storage_import.default_storage
    real_listdir = storage.listdir

    def listdir(name):
        listed.append(name)
        return real_listdir(name)

    storage.listdir = listdir
    try:
        entries = storage_import.walk("music")
        first = next(entries)
        assert first.stored_name == "music/a/x.wav"
        assert listed == ["music", "music/a"]
        assert [entry.stored_name for entry in entries] == ["music/b/x.wav", "music/c/x.wav"]
    finally:
        del storage.listdir


def test_the_walks_memory_does_not_grow_with_the_number_of_folders(settings):
    """Four times the folders, the same peak: only the folders on the way are held."""
    import tracemalloc

    def peak_of_walk(folders: int) -> int:
        root = Path(settings.MEDIA_ROOT) / f"music{folders}"
        for number in range(folders):
            (root / f"{number:04}").mkdir(parents=True)
            for track in range(50):
                (root / f"{number:04}" / f"{track:02}.wav").write_bytes(b"")
        tracemalloc.start()
        try:
            walked = sum(1 for _ in storage_import.walk(root.name))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert walked == folders * 50
        return peak

    small, large = peak_of_walk(10), peak_of_walk(40)
    print(f"walk peak: {small} bytes for 500 files, {large} bytes for 2000")
    assert large < small * 1.5 + 64 * 1024, (small, large)


def test_an_lrc_beside_a_stored_file_becomes_its_lyrics_and_a_changed_one_updates_them(
    media_backend,
):
    media_backend.put("music/one.wav", tagged_wav(title="One", artist="Band"))
    media_backend.put("music/one.lrc", b"[00:00.50]Stored words\n")

    run = import_run()

    # "one.lrc" comes before "one.wav": the audio's import read it.
    assert counts(run) == {"added": 1, "updated": 0, "unchanged": 1, "skipped": 0, "failed": 0}
    song = Song.objects.get()
    lyrics = Lyrics.objects.get(song=song)
    assert (lyrics.source, lyrics.lines[0]["text"]) == (LyricsSource.FOLDER, "Stored words")

    media_backend.put("music/one.lrc", b"[00:00.50]Changed words\n")
    again = import_run()

    assert counts(again) == {"added": 0, "updated": 1, "unchanged": 1, "skipped": 0, "failed": 0}
    assert Lyrics.objects.get(song=song).lines[0]["text"] == "Changed words"
