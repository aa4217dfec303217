"""Lyrics in a music folder (catalog/folder_import.py): the `.lrc` beside an audio file, and
the lyrics in its tags, become the song's; an admin's stay. Real files: encoded by ffmpeg,
tagged by mutagen."""

import os
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, USLT

from catalog.folder_import import (
    LYRICS_UNCHANGED,
    LYRICS_WITHOUT_AUDIO,
    Outcome,
    import_file,
)
from catalog.lyrics import LINE_GOES_BACKWARDS
from catalog.models import Lyrics, LyricsSource, Song
from catalog.services import lyrics_set
from tests.tagged_audio import import_all, make_track, needs_ffmpeg

pytestmark = [pytest.mark.django_db, needs_ffmpeg]

SYNCED = "[ar:Tone]\n[00:00.50]First line\n[00:01.25]Second line\n"
OTHER = "[00:00.10]Changed words\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def music(tmp_path) -> Path:
    """The music folder (tmp_path holds the test's media storage too)."""
    folder = tmp_path / "music"
    folder.mkdir()
    return folder


def lines_of(song: Song) -> list[tuple[int | None, str]]:
    return [(line["start_ms"], line["text"]) for line in Lyrics.objects.get(song=song).lines]


def test_an_lrc_beside_the_audio_becomes_its_songs_synced_lyrics(music):
    make_track(music / "tone.mp3", title="Tone", artist="Sine")
    write(music / "tone.lrc", SYNCED)
    counts, results = import_all(music)
    song = Song.objects.get()
    assert lines_of(song) == [(500, "First line"), (1250, "Second line")]
    assert Lyrics.objects.get().source == LyricsSource.FOLDER
    # "tone.lrc" comes before "tone.mp3" in the walk: its audio was not imported yet.
    assert counts == {Outcome.ADDED: 1, Outcome.UNCHANGED: 1}
    assert results[0].reason == LYRICS_WITHOUT_AUDIO


def test_the_lrc_comes_before_the_tags_lyrics(music):
    track = make_track(music / "tone.flac", title="Tone", artist="Sine")
    audio = FLAC(track)
    audio["lyrics"] = "Words from the tags"
    audio.save()
    write(music / "tone.lrc", SYNCED)
    counts, _ = import_all(music)
    # "tone.flac" comes first: its import read the .lrc, and the .lrc itself changed nothing.
    assert counts == {Outcome.ADDED: 1, Outcome.UNCHANGED: 1}
    assert lines_of(Song.objects.get())[0] == (500, "First line")


def test_the_tags_lyrics_are_read_when_there_is_no_lrc(music):
    track = make_track(music / "tone.mp3", title="Tone", artist="Sine")
    tags = ID3(track)
    tags.add(USLT(encoding=3, lang="eng", desc="", text="Plain words\nSecond line"))
    tags.save(track)
    import_all(music)
    lyrics = Lyrics.objects.get()
    assert (lyrics.source, lyrics.synced) == (LyricsSource.TAGS, False)
    assert lines_of(Song.objects.get()) == [(None, "Plain words"), (None, "Second line")]


def test_a_changed_lrc_beside_an_unchanged_file_is_read_on_the_next_run(music):
    make_track(music / "tone.flac", title="Tone", artist="Sine")
    lrc = write(music / "tone.lrc", SYNCED)
    import_all(music)
    song = Song.objects.get()

    counts, _ = import_all(music)  # nothing new: nothing written
    assert counts == {Outcome.UNCHANGED: 2}

    write(lrc, OTHER)
    counts, results = import_all(music)
    assert counts == {Outcome.UNCHANGED: 1, Outcome.LYRICS: 1}
    assert results[1].song_id == song.pk
    assert lines_of(song) == [(100, "Changed words")]

    counts, results = import_all(music)
    assert results[1].reason == LYRICS_UNCHANGED.format(song_id=song.pk)


def test_an_lrc_named_in_capitals_or_beside_a_capitalised_extension_is_found(music):
    track = make_track(music / "tone.flac", title="Tone", artist="Sine")
    os.rename(track, music / "tone.FLAC")
    write(music / "tone.lrc", SYNCED)
    import_all(music)
    write(music / "tone.lrc", OTHER)
    counts, _ = import_all(music)
    assert counts[Outcome.LYRICS] == 1
    assert lines_of(Song.objects.get()) == [(100, "Changed words")]


def test_a_bad_lrc_is_a_note_beside_its_audio_and_a_failure_of_its_own(music):
    make_track(music / "tone.flac", title="Tone", artist="Sine")
    write(music / "tone.lrc", "[00:02.00]Later\n[00:01.00]Earlier\n")
    counts, results = import_all(music)
    assert counts == {Outcome.ADDED: 1, Outcome.FAILED: 1}
    added, failed = results
    assert any("tone.lrc" in note and "left out" in note for note in added.notes)
    assert LINE_GOES_BACKWARDS.split("{")[0] in failed.reason
    assert not Lyrics.objects.exists()  # the audio is in, without lyrics


def test_an_admins_lyrics_stay_whatever_the_folder_says(music):
    track = make_track(music / "tone.flac", title="Tone", artist="Sine")
    import_file(str(track))
    song = Song.objects.get()
    lyrics_set(song_id=song.pk, text="[00:03.00]The admin's own\n")
    write(music / "tone.lrc", SYNCED)
    counts, _ = import_all(music)
    assert counts == {Outcome.UNCHANGED: 2}
    assert Lyrics.objects.get().source == LyricsSource.UPLOAD
    assert lines_of(song) == [(3000, "The admin's own")]


def test_folder_lyrics_go_when_a_new_file_without_lyrics_replaces_the_audio(music):
    track = make_track(music / "tone.flac", title="Tone", artist="Sine")
    lrc = write(music / "tone.lrc", SYNCED)
    import_all(music)
    lrc.unlink()
    make_track(track, frequency=880, title="Tone", artist="Sine")  # new content
    counts, _ = import_all(music)
    assert counts == {Outcome.UPDATED: 1}
    assert not Lyrics.objects.exists()
