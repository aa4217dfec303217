"""`manage.py import_music PATH` (catalog/folder_import.py) on real files: encoded by ffmpeg,
tagged by mutagen, imported through the catalog's services into the test's storage."""

import gc
import os
import pathlib
import shutil
import tracemalloc
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from catalog import folder_import
from catalog.audio import AUDIO_NOT_READABLE
from catalog.folder_import import (
    UNKNOWN_ARTIST,
    Outcome,
    import_folder,
    iter_files,
    read_tags,
)
from catalog.models import Album, Artist, ImportedFile, Song
from catalog.signals import audio_changed
from tests.helpers import run_command
from tests.media_samples import media_path, png_bytes, stored_files, wav_bytes
from tests.tagged_audio import (
    CODECS,
    TAGGERS,
    encode,
    import_all,
    make_track,
    needs_ffmpeg,
)

pytestmark = pytest.mark.django_db


def image_of(settings, field_file) -> Image.Image:
    with Image.open(media_path(settings, field_file.name)) as image:
        image.load()
        return image


# --- Tags into songs, albums and artists --------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("extension", ["mp3", "flac", "ogg", "m4a"])
def test_tags_and_cover_of_each_format_become_the_song_and_its_album(tmp_path, settings, extension):
    cover = png_bytes((16, 16), "blue")
    make_track(
        tmp_path / "music" / f"track.{extension}",
        cover=cover,
        title="So What",
        artist="Miles Davis",
        album="Kind of Blue",
        album_artist="Miles Davis Sextet",
        track="3/5",
        disc="1/2",
        date="1959-08-17",
        genre="Jazz",
    )

    counts, results = import_all(tmp_path / "music")

    assert counts == {Outcome.ADDED: 1}
    song = Song.objects.select_related("album", "artist").get()
    assert results[0].song_id == song.pk
    assert (song.title, song.artist_name, song.artist.name) == (
        "So What",
        "Miles Davis",
        "Miles Davis",
    )
    assert (song.track_number, song.disc_number, song.year, song.genre) == (3, 1, 1959, "Jazz")
    assert song.duration == 1
    assert song.audio_original_name == f"track.{extension}"
    assert song.audio.name.startswith("songs/")
    album = song.album
    assert (album.title, album.artist_name, album.release_year, album.genre) == (
        "Kind of Blue", "Miles Davis Sextet", 1959, "Jazz",
    )  # fmt: skip
    stored_cover = image_of(settings, album.image)
    assert stored_cover.size == (16, 16)
    assert stored_cover.getpixel((0, 0)) == (0, 0, 255)
    assert sorted(Artist.objects.values_list("name", flat=True)) == [
        "Miles Davis", "Miles Davis Sextet",
    ]  # fmt: skip
    # The stored audio is the file's bytes, under a generated name.
    assert (
        media_path(settings, song.audio.name).read_bytes()
        == (tmp_path / "music" / f"track.{extension}").read_bytes()
    )


@needs_ffmpeg
def test_an_album_is_found_by_album_artist_and_title_and_its_tracks_come_in_disc_order(
    tmp_path, client: Client
):
    music = tmp_path / "music"
    # Named so that the walk meets them out of order.
    tracks = [("a.mp3", "2/2", "1"), ("b.mp3", "1/2", "2"), ("c.mp3", "1/2", "1"),
              ("d.mp3", "2/2", "2")]  # fmt: skip
    for name, disc, track in tracks:
        make_track(music / name, title=f"{disc[0]}-{track}", artist="Guest " + name,
                   album="Double", album_artist="The Band", disc=disc, track=track)  # fmt: skip
    make_track(music / "other.mp3", title="Elsewhere", artist="The Band", album="Double",
               album_artist="Another Band")  # fmt: skip

    counts, _ = import_all(music)

    assert counts == {Outcome.ADDED: 5}
    double = Album.objects.get(artist_name="The Band")
    assert Album.objects.count() == 2  # same title, another album artist: another album
    response = client.get(f"/api/albums/{double.pk}/")
    assert response.status_code == HTTPStatus.OK
    assert [song["title"] for song in response.json()["songs"]] == ["1-1", "1-2", "2-1", "2-2"]


def test_a_file_without_tags_takes_its_name_and_the_unknown_artist(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    (music / "Take Five.wav").write_bytes(wav_bytes())

    counts, results = import_all(music)

    assert counts == {Outcome.ADDED: 1}
    song = Song.objects.get()
    assert (song.title, song.artist_name, song.album_id) == ("Take Five", UNKNOWN_ARTIST, None)
    assert "title from the file name" in results[0].notes


@needs_ffmpeg
def test_tag_values_are_cleaned_and_out_of_range_numbers_dropped(tmp_path):
    path = make_track(
        tmp_path / "x.flac",
        title="  Spaced  ",
        artist="Bad\u202eName",
        track="0",
        disc="1000",
        date="20",
        genre="g" * 150,
    )

    tags = read_tags(path)

    assert tags.title == "Spaced"
    assert tags.artist is None  # a direction-changing character: the tag is ignored
    assert any(note.startswith("artist tag ignored") for note in tags.notes)
    assert (tags.track_number, tags.disc_number, tags.year) == (None, None, None)
    assert tags.genre == "g" * 100


# --- Idempotent, changed files, moves --------------------------------------------------------


@needs_ffmpeg
def test_a_second_run_adds_nothing(tmp_path, settings):
    music = tmp_path / "music"
    make_track(music / "one.mp3", title="One", artist="A", album="X", cover=png_bytes())
    make_track(music / "sub" / "two.flac", title="Two", artist="A", album="X")
    import_all(music)
    files, songs = stored_files(settings), list(Song.objects.values_list("pk", "audio"))
    os.utime(music / "one.mp3")  # touched: new mtime, same content

    counts, _ = import_all(music)

    assert counts == {Outcome.UNCHANGED: 2}
    assert stored_files(settings) == files
    assert list(Song.objects.values_list("pk", "audio")) == songs
    assert (Album.objects.count(), Artist.objects.count(), ImportedFile.objects.count()) == (
        1,
        1,
        2,
    )


@needs_ffmpeg
def test_a_changed_file_replaces_its_songs_audio_and_announces_it(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    music = tmp_path / "music"
    path = make_track(music / "one.mp3", title="One", artist="A", album="X", track="1")
    import_all(music)
    song = Song.objects.get()
    old_audio = song.audio.name
    make_track(path, frequency=880, title="One (remaster)", artist="A", album="X", track="2")
    announced: list[int] = []

    def receiver(sender, song_id, **kwargs):
        announced.append(song_id)

    audio_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            counts, _ = import_all(music)
    finally:
        audio_changed.disconnect(receiver)

    assert counts == {Outcome.UPDATED: 1}
    assert announced == [song.pk]
    song.refresh_from_db()
    assert song.audio.name != old_audio
    assert (song.title, song.track_number) == ("One (remaster)", 2)
    assert song.processing_state == "pending"
    assert media_path(settings, song.audio.name).read_bytes() == path.read_bytes()
    assert not media_path(settings, old_audio).exists()  # the replaced file went after commit
    assert Song.objects.count() == 1
    assert import_all(music)[0] == {Outcome.UNCHANGED: 1}


@needs_ffmpeg
def test_a_moved_file_keeps_its_song_and_a_copy_is_a_duplicate(tmp_path):
    music = tmp_path / "music"
    make_track(music / "old" / "one.ogg", title="One", artist="A")
    import_all(music)
    song = Song.objects.get()
    (music / "new").mkdir()
    (music / "old" / "one.ogg").rename(music / "new" / "one.ogg")
    shutil.copy(music / "new" / "one.ogg", music / "new" / "zcopy.ogg")

    counts, results = import_all(music)

    assert counts == {Outcome.MOVED: 1, Outcome.DUPLICATE: 1}
    assert [result.song_id for result in results] == [song.pk, song.pk]
    assert ImportedFile.objects.get().path == str((music / "new" / "one.ogg").resolve())
    assert Song.objects.count() == 1


# --- Skipped files and the report -------------------------------------------------------------


@needs_ffmpeg
def test_non_audio_files_are_skipped_and_reported_by_the_command(tmp_path, settings):
    music = tmp_path / "music"
    make_track(music / "song.mp3", title="Song", artist="A")
    (music / "cover.jpg").write_bytes(png_bytes())
    (music / "notes.txt").write_text("liner notes")
    (music / "fake.mp3").write_text("not really an mp3")
    (music / "empty.flac").write_bytes(b"")

    output = run_command("import_music", str(music), "--no-progress")

    root = music.resolve()
    assert f"not audio: {root / 'cover.jpg'}: {AUDIO_NOT_READABLE}" in output
    assert f"not audio: {root / 'fake.mp3'}: {AUDIO_NOT_READABLE}" in output
    assert f"not audio: {root / 'notes.txt'}: {AUDIO_NOT_READABLE}" in output
    assert f"not audio: {root / 'empty.flac'}: The file is empty." in output
    assert (
        "5 files: 1 added, 0 updated, 0 lyrics updated, 0 unchanged, 0 moved, 0 duplicate, "
        "4 not audio, 0 too large, 0 failed." in output
    )
    assert Song.objects.count() == 1
    assert len(stored_files(settings)) == 1  # the song's audio only


def test_a_file_over_the_uploads_limit_is_skipped_as_too_large(tmp_path, settings):
    music = tmp_path / "music"
    music.mkdir()
    (music / "long.wav").write_bytes(wav_bytes(4.0))
    (music / "short.wav").write_bytes(wav_bytes(1.0))
    settings.AUDIO_MAX_BYTES = len(wav_bytes(2.0))

    counts, results = import_all(music)

    assert counts == {Outcome.TOO_LARGE: 1, Outcome.ADDED: 1}
    assert results[0].reason.endswith("(AUDIO_MAX_BYTES)")
    assert list(Song.objects.values_list("title", flat=True)) == ["short"]


def test_the_command_shows_progress_and_what_the_tags_lacked(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    (music / "Untagged.wav").write_bytes(wav_bytes())
    (music / "readme.txt").write_text("hello")
    out, err = StringIO(), StringIO()

    call_command("import_music", str(music), stdout=out, stderr=err)

    # Not a terminal: the progress is written as lines (the last one at the end).
    assert err.getvalue().splitlines()[-1].startswith(f"[{'#' * 30}] 2/2 files (")
    path = music.resolve() / "Untagged.wav"
    assert f"added: {path} (no tags; title from the file name; artist 'Unknown Artist')" in (
        out.getvalue()
    )
    assert "2 files: 1 added" in out.getvalue()


def test_the_command_refuses_a_path_that_is_not_a_folder(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run_command("import_music", str(tmp_path / "missing"))
    assert Song.objects.count() == 0


# --- Resumable -------------------------------------------------------------------------------


@needs_ffmpeg
def test_an_interrupted_run_leaves_no_half_made_song_and_the_next_run_continues(tmp_path, settings):
    music = tmp_path / "music"
    for number in range(1, 4):
        make_track(music / f"{number}.mp3", title=f"Song {number}", artist="A",
                   album=f"Album {number}", cover=png_bytes(color="green"))  # fmt: skip
    interrupt_at = str((music / "2.mp3").resolve())

    def interrupt(path: str) -> None:
        if path == interrupt_at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_all(music, before_commit=interrupt)

    # The first file is in; of the second nothing: no song, album, record or stored file.
    assert list(Song.objects.values_list("title", flat=True)) == ["Song 1"]
    assert list(Album.objects.values_list("title", flat=True)) == ["Album 1"]
    first = Song.objects.select_related("album").get()
    assert set(stored_files(settings)) == {
        media_path(settings, first.audio.name), media_path(settings, first.album.image.name),
    }  # fmt: skip

    counts, _ = import_all(music)

    assert counts == {Outcome.UNCHANGED: 1, Outcome.ADDED: 2}
    assert sorted(Song.objects.values_list("title", flat=True)) == ["Song 1", "Song 2", "Song 3"]
    assert len(stored_files(settings)) == 6


@needs_ffmpeg
def test_files_go_to_the_storage_uploads_use_disk_or_bucket(tmp_path, media_backend):
    music = tmp_path / "music"
    for number in (1, 2):
        make_track(music / f"{number}.m4a", title=f"Song {number}", artist="A",
                   album=f"Album {number}", cover=png_bytes())  # fmt: skip

    def interrupt(path: str) -> None:
        if path.endswith("2.m4a"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_all(music, before_commit=interrupt)
    first = Song.objects.select_related("album").get()
    assert media_backend.names() == sorted([first.audio.name, first.album.image.name])

    counts, _ = import_all(music)

    assert counts == {Outcome.UNCHANGED: 1, Outcome.ADDED: 1}
    assert media_backend.names() == sorted(
        name
        for song in Song.objects.select_related("album")
        for name in (song.audio.name, song.album.image.name)
    )


# --- Bounded memory ---------------------------------------------------------------------------


def traced_from_here() -> None:
    """Start tracing after collecting what earlier tests left (their finalizers would
    allocate during the measure)."""
    gc.collect()
    tracemalloc.start()


def memory_held_after_a_run(root: Path) -> int:
    """The bytes a run leaves allocated (uncollected cycles included), without CPython's table
    of interned strings: pathlib interns every part of a path it parses (before Python 3.12;
    Django's `validate_file_name` parses each stored name), and that table, the whole
    interpreter's, grows by megabytes once along the way whatever the import does."""
    traced_from_here()
    try:
        summary = import_folder(root)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert summary.counts[Outcome.ADDED] == summary.files
    ours = snapshot.filter_traces([tracemalloc.Filter(False, pathlib.__file__)])
    return sum(stat.size for stat in ours.statistics("filename"))


def spread_wavs(root: Path, count: int, *, first: int = 0) -> Path:
    """`count` tiny WAVs, 50 to a folder, each different (its number from `first` appended
    after the audio: a distinct content hash)."""
    audio = wav_bytes()
    for number in range(first, first + count):
        folder = root / f"{number // 50:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:06d}.wav").write_bytes(audio + number.to_bytes(4, "little"))
    return root


def test_walking_holds_one_folder_at_a_time(tmp_path):
    root = spread_wavs(tmp_path / "walk", 3000)
    files = iter_files(root)
    traced_from_here()
    try:
        walked = sum(1 for _ in files)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert walked == 3000
    assert peak < 64 * 1024  # 3000 paths held at once would take several hundred kB


# Each file commits, as in a real run: in the test's own transaction, what waits for the
# commit (on_commit callbacks, savepoint names) would pile up and be measured.
@pytest.mark.django_db(transaction=True)
def test_memory_stays_flat_as_the_folder_grows(tmp_path):
    small = memory_held_after_a_run(spread_wavs(tmp_path / "small", 200))
    large = memory_held_after_a_run(spread_wavs(tmp_path / "large", 2000, first=200))

    assert Song.objects.count() == 2200
    # Ten times the files, not more memory: under 100 bytes for each extra file.
    assert large - small < 1800 * 100, (small, large)


def tagged_library(root: Path, templates: dict[str, bytes], count: int, *, first: int = 0) -> Path:
    """`count` real tagged files laid out as a library: albums of 10 tracks (one format each,
    the formats in turn), two albums to an artist, the first track of every other album with
    an embedded cover. Each is a copy of its format's template retagged: distinct content."""
    cover = png_bytes((16, 16), "green")
    formats = list(templates)
    for number in range(first, first + count):
        album = number // 10
        extension = formats[album % len(formats)]
        path = (
            root / f"Artist {album // 2}" / f"Album {album}" / f"{number % 10 + 1:02d}.{extension}"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(templates[extension])
        TAGGERS[extension](
            path,
            cover=cover if number % 10 == 0 and album % 2 == 0 else None,
            title=f"Song {number}",
            artist=f"Artist {album // 2}",
            album=f"Album {album}",
            track=f"{number % 10 + 1}/10",
            disc="1/1",
            date="1999",
            genre="Jazz",
        )
    return root


@pytest.fixture
def templates(tmp_path) -> dict[str, bytes]:
    return {
        extension: encode(tmp_path / "templates" / f"tone.{extension}").read_bytes()
        for extension in CODECS
    }


# Each file costs the same queries however many came before it (no lookup that grows with the
# catalog or the folder), and a second run reads the records a batch of files at a time.
@needs_ffmpeg
def test_queries_per_file_do_not_grow_with_the_folder(tmp_path, templates):
    music = tmp_path / "music"
    import_all(tagged_library(music / "warm", templates, 20))  # the catalog's first rows
    small = tagged_library(music / "small", templates, 20, first=20)
    large = tagged_library(music / "large", templates, 60, first=40)

    with CaptureQueriesContext(connection) as twenty:
        assert import_all(small)[0] == {Outcome.ADDED: 20}
    with CaptureQueriesContext(connection) as sixty:
        assert import_all(large)[0] == {Outcome.ADDED: 60}
    with CaptureQueriesContext(connection) as second_run:
        assert import_all(music)[0] == {Outcome.UNCHANGED: 100}

    # Three times the files (and albums, artists, covers), exactly three times the queries
    # beside the one that reads the batch's records.
    assert len(sixty) - 1 == 3 * (len(twenty) - 1), (len(twenty), len(sixty))
    assert len(twenty) <= 20 * 15  # about 14 a file today, covers and albums included
    # Unchanged files are skipped unread: one query for all 100 records.
    assert len(second_run) == 1, [query["sql"] for query in second_run]


def peak_of_a_run(root: Path) -> int:
    """The most bytes allocated at once while importing `root`."""
    traced_from_here()
    try:
        summary = import_folder(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.counts[Outcome.ADDED] == summary.files
    return peak


# The collector runs every COLLECT_EVERY files; run often here, what a file leaves behind
# must be gone by the next collection: the peak of 60 files is that of 20.
# Each size is measured twice and the lower peak kept: when the interpreter's table of
# interned strings (see memory_held_after_a_run) outgrows its size, CPython allocates the
# next one, megabytes after a long test session, in whichever run crosses the line (it
# failed CI once: 1.2 MB for 20 files, 8.9 MB for 60). The table doubles, so it grows at
# most once in these runs; a real per-file cost shows in both.
@needs_ffmpeg
@pytest.mark.django_db(transaction=True)
def test_peak_memory_does_not_grow_with_the_folder(tmp_path, templates, monkeypatch):
    monkeypatch.setattr(folder_import, "COLLECT_EVERY", 10)
    import_all(tagged_library(tmp_path / "warm", templates, 20, first=1000))
    small = [
        peak_of_a_run(tagged_library(tmp_path / f"small{run}", templates, 20, first=100 * run))
        for run in (1, 2)
    ]
    large = [
        peak_of_a_run(tagged_library(tmp_path / f"large{run}", templates, 60, first=100 * run + 20))
        for run in (3, 4)
    ]

    # 40 more files: under 1 kB each
    assert min(large) - min(small) < 40 * 1024, (small, large)
