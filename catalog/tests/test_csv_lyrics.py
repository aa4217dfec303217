"""The songs' CSV `lyrics` column (catalog/resources.py): LRC or plain lines, through the
admin's import pages (preview, confirm) and its export."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog import services
from catalog.lyrics import LINE_GOES_BACKWARDS
from catalog.models import Lyrics, LyricsSource, Song
from tests.admin_pages import confirm, export_csv, page_text, preview
from tests.media_samples import wav_bytes

HEADER = "title,artist,album,album_artist,lyrics,audio_file\n"
SYNCED = "[00:01.00]First line\n[00:02.50]<00:02.50>Word <00:03.00>times"


def row(title: str, lyrics: str, audio: str = "track0.wav") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([title, "Someone", "", "", lyrics, audio])
    return buffer.getvalue()


def imported(client: Client, csv_text: str) -> None:
    confirm(client, "song", preview(client, "song", csv_text))


def lines_of(title: str) -> list[tuple[int | None, str]]:
    lyrics = Lyrics.objects.get(song__title=title)
    return [(line["start_ms"], line["text"]) for line in lyrics.lines]


def test_a_lyrics_cell_gives_a_new_song_its_synced_lyrics_as_an_admins(
    staff_client: Client, songs_in_storage
):
    imported(staff_client, HEADER + row("Synced", SYNCED) + row("Plain", "One\nTwo", "track1.wav"))

    assert lines_of("Synced") == [(1000, "First line"), (2500, "Word times")]
    words = Lyrics.objects.get(song__title="Synced").lines[1]["words"]
    assert words == [{"start_ms": 2500, "text": "Word"}, {"start_ms": 3000, "text": "times"}]
    assert lines_of("Plain") == [(None, "One"), (None, "Two")]
    assert set(Lyrics.objects.values_list("source", flat=True)) == {LyricsSource.UPLOAD}


def test_a_bad_lyrics_cell_is_the_rows_error_under_its_column_and_nothing_is_imported(
    staff_client: Client, songs_in_storage
):
    backwards = "[00:02.00]Later\n[00:01.00]Earlier"
    previewed = preview(staff_client, "song", HEADER + row("Fine", SYNCED) + row("Bad", backwards))

    assert "process_import" not in previewed.content.decode()
    text = page_text(previewed)
    message = LINE_GOES_BACKWARDS.format(line=2, time="[00:01.00]", previous="[00:02.00]")
    assert f"lyrics: {message} 2 Bad Someone" in text
    assert not Song.objects.exists()
    assert not Lyrics.objects.exists()


def test_an_empty_cell_leaves_the_lyrics_and_the_same_lyrics_leave_the_row_unchanged(
    staff_client: Client, songs_in_storage
):
    imported(staff_client, HEADER + row("Kept", SYNCED))
    stored = Lyrics.objects.get()

    previewed = preview(staff_client, "song", HEADER + row("Kept", ""))
    assert " Skipped " in page_text(previewed)
    confirm(staff_client, "song", previewed)
    # Written otherwise (a comment line, spaces), they are the same lyrics: skipped too.
    same = "[re:hand made]\n[00:01.000]First line\n[00:02.50] <00:02.50>Word <00:03.00>times"
    previewed = preview(staff_client, "song", HEADER + row("Kept", same))
    assert " Skipped " in page_text(previewed)
    confirm(staff_client, "song", previewed)

    assert Lyrics.objects.get().updated_at == stored.updated_at

    imported(staff_client, HEADER + row("Kept", "[00:00.50]New words"))
    assert lines_of("Kept") == [(500, "New words")]


def test_lyrics_from_the_files_tags_stay_the_tags_when_another_column_changes(
    staff_client: Client, songs_in_storage
):
    song = services.song_create(
        title="Tagged",
        artist="Someone",
        audio_file=SimpleUploadedFile("t.wav", wav_bytes(seconds=2)),
    )
    services.lyrics_store(
        song_id=song.pk,
        parsed=services.parse_lyrics("[00:01.00]From the tags"),
        source=LyricsSource.TAGS,
    )
    exported = export_csv(staff_client, "song").decode()
    assert "[00:01.000]From the tags" in exported

    changed = exported.replace(",Someone,,,,", ",Someone,,,Jazz,", 1)
    assert changed != exported
    imported(staff_client, changed)

    song.refresh_from_db()
    assert song.genre == "Jazz"
    assert Lyrics.objects.get().source == LyricsSource.TAGS


def test_the_export_reads_every_songs_lyrics_in_its_one_query(
    staff_client: Client, songs_in_storage, django_assert_max_num_queries
):
    for index in range(5):
        song = services.song_create(
            title=f"Song {index}",
            artist="Someone",
            audio_file=SimpleUploadedFile("t.wav", wav_bytes(seconds=2)),
        )
        services.lyrics_set(song_id=song.pk, text=f"[00:0{index}.00]Line {index}")
    with django_assert_max_num_queries(12) as first:
        export_csv(staff_client, "song")
    for index in range(5, 15):
        services.song_create(
            title=f"Song {index}",
            artist="Someone",
            audio_file=SimpleUploadedFile("t.wav", wav_bytes(seconds=2)),
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        body = export_csv(staff_client, "song").decode()
    assert body.count("[00:0") == 5
