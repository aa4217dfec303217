"""GET/PUT/DELETE /api/songs/{id}/lyrics/, and lyrics read from an uploaded file's tags."""

from http import HTTPStatus

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, SYLT, USLT, ID3NoHeaderError
from mutagen.mp4 import MP4

from catalog.models import Lyrics, LyricsSource
from catalog.selectors.lyrics import NO_LYRICS
from catalog.selectors.songs import SONG_NOT_FOUND
from tests.helpers import multipart
from tests.media_samples import audio_bytes, upload

SYNCED = """[ar:John Coltrane]
[ti:Moment's Notice]
[la:eng]
[00:01.00]First line
[00:02.50]<00:02.50>Second <00:03.00>line
[00:04.00][00:06.00]Chorus
"""


def lyrics_url(song_id: int) -> str:
    return f"/api/songs/{song_id}/lyrics/"


def put_text(client, song_id: int, text: str):
    return client.put(lyrics_url(song_id), {"text": text}, content_type="application/json")


def test_synced_lyrics_are_served_line_by_line_with_word_times(client, admin_client, make_song):
    song = make_song()

    stored = put_text(admin_client, song.pk, SYNCED)
    served = client.get(lyrics_url(song.pk))

    assert stored.status_code == HTTPStatus.OK
    assert served.status_code == HTTPStatus.OK
    assert served.json() == stored.json()
    body = served.json()
    assert (body["synced"], body["lang"], body["offset_ms"]) == (True, "eng", 0)
    assert [(line["start_ms"], line["text"]) for line in body["lines"]] == [
        (1000, "First line"),
        (2500, "Second line"),
        (4000, "Chorus"),
        (6000, "Chorus"),
    ]
    assert body["lines"][1]["words"] == [
        {"start_ms": 2500, "text": "Second"},
        {"start_ms": 3000, "text": "line"},
    ]
    assert body["lines"][0]["words"] is None


def test_plain_lyrics_have_no_times(client, admin_client, make_song):
    song = make_song()

    put_text(admin_client, song.pk, "One\n\nTwo\n")
    body = client.get(lyrics_url(song.pk)).json()

    assert body["synced"] is False
    assert [(line["start_ms"], line["text"]) for line in body["lines"]] == [
        (None, "One"),
        (None, "Two"),
    ]


def test_an_lrc_file_in_a_form_replaces_the_lyrics(admin_client, make_song):
    song = make_song()
    put_text(admin_client, song.pk, "Old words")

    response = admin_client.put(
        lyrics_url(song.pk),
        **multipart({"lyrics_file": upload("song.lrc", "[00:01.00]Né".encode("utf-16"))}),
    )

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["lines"] == [{"start_ms": 1000, "text": "Né", "words": None}]
    assert Lyrics.objects.get().source == LyricsSource.UPLOAD


@pytest.mark.parametrize(
    ("content", "in_detail"),
    [
        (b"\x00\x01\x02binary", "text"),
        (b"caf\xe9 latin-1", "UTF-8"),
        (b"[00:75.00]seconds past 59", "1"),
        (b"[00:05.00]later\n[00:01.00]earlier", "2"),
        (b"x" * (256 * 1024 + 1), "256"),
    ],
)
def test_a_bad_file_is_a_422_naming_what_is_wrong_and_writes_nothing(
    admin_client, make_song, content, in_detail
):
    song = make_song()
    put_text(admin_client, song.pk, "Kept")

    response = admin_client.put(
        lyrics_url(song.pk), **multipart({"lyrics_file": upload("bad.lrc", content)})
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    detail = response.json()["detail"]
    assert in_detail in detail[0]["msg"], detail
    assert Lyrics.objects.get().lines == [{"start_ms": None, "text": "Kept", "words": None}]


@pytest.mark.parametrize("body", [{}, {"text": None}, {"text": ""}, {"text": 5}, {"other": "x"}])
def test_a_bad_body_is_a_422(admin_client, make_song, body):
    song = make_song()

    response = admin_client.put(lyrics_url(song.pk), body, content_type="application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not Lyrics.objects.exists()


def test_text_and_a_file_together_are_a_422(admin_client, make_song):
    song = make_song()

    response = admin_client.put(
        lyrics_url(song.pk),
        **multipart({"text": "a", "lyrics_file": upload("a.lrc", b"b")}),
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not Lyrics.objects.exists()


def test_only_admins_write_lyrics(client, auth_client, make_song):
    song = make_song()

    anonymous = put_text(client, song.pk, "x")
    listener = put_text(auth_client, song.pk, "x")
    removal = auth_client.delete(lyrics_url(song.pk))

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert listener.status_code == removal.status_code == HTTPStatus.FORBIDDEN
    assert not Lyrics.objects.exists()


def test_missing_song_or_lyrics_are_404s_that_say_which(client, admin_client, make_song):
    song = make_song()

    no_song = client.get(lyrics_url(10**6))
    no_lyrics = client.get(lyrics_url(song.pk))
    put_text(admin_client, song.pk, "x")
    removed = admin_client.delete(lyrics_url(song.pk))
    again = admin_client.delete(lyrics_url(song.pk))

    assert no_song.json() == {"detail": SONG_NOT_FOUND}
    assert no_lyrics.json() == {"detail": NO_LYRICS}
    assert removed.status_code == HTTPStatus.NO_CONTENT
    assert again.json() == {"detail": NO_LYRICS}
    assert not Lyrics.objects.exists()


# --- from the audio file's tags ---------------------------------------------------------


def tagged_mp3(tmp_path, *, synced: bool) -> bytes:
    path = tmp_path / "tagged.mp3"
    path.write_bytes(audio_bytes("tone.mp3"))
    tags = _id3_of(path)
    if synced:
        tags.add(
            SYLT(encoding=3, lang="eng", format=2, type=1, text=[("Hello", 1500), ("World", 3250)])
        )
    else:
        tags.add(USLT(encoding=3, lang="eng", desc="", text="Plain words\nSecond line"))
    tags.save(path)
    return path.read_bytes()


def _id3_of(path) -> ID3:
    try:
        return ID3(path)
    except ID3NoHeaderError:
        return ID3()


def tagged_flac(tmp_path) -> bytes:
    path = tmp_path / "tagged.flac"
    path.write_bytes(audio_bytes("tone.flac"))
    audio = FLAC(path)
    audio["LYRICS"] = "[00:00.50]From a Vorbis comment"
    audio.save()
    return path.read_bytes()


def tagged_m4a(tmp_path) -> bytes:
    path = tmp_path / "tagged.m4a"
    path.write_bytes(audio_bytes("tone.m4a"))
    audio = MP4(path)
    audio["\xa9lyr"] = ["From MP4"]
    audio.save()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "make", "lines"),
    [
        ("a.mp3", lambda tmp: tagged_mp3(tmp, synced=True), [(1500, "Hello"), (3250, "World")]),
        (
            "a.mp3",
            lambda tmp: tagged_mp3(tmp, synced=False),
            [(None, "Plain words"), (None, "Second line")],
        ),
        ("a.flac", tagged_flac, [(500, "From a Vorbis comment")]),
        ("a.m4a", tagged_m4a, [(None, "From MP4")]),
    ],
)
def test_lyrics_in_the_uploaded_files_tags_become_the_songs(
    client, make_song, tmp_path, name, make, lines
):
    song = make_song(audio=make(tmp_path))

    body = client.get(lyrics_url(song.pk)).json()

    assert [(line["start_ms"], line["text"]) for line in body["lines"]] == lines
    assert Lyrics.objects.get().source == LyricsSource.TAGS


def test_an_admins_lyrics_outlive_a_new_file_and_tag_lyrics_go_with_theirs(
    admin_client, make_song, tmp_path
):
    admins = make_song(title="Kept")
    tagged = make_song(title="Tagged", audio=tagged_flac(tmp_path))
    put_text(admin_client, admins.pk, "The admin's words")

    for song in (admins, tagged):
        response = admin_client.patch(
            f"/api/songs/{song.pk}/",
            **multipart({"audio_file": upload("new.mp3", audio_bytes("tone.mp3"))}),
        )
        assert response.status_code == HTTPStatus.OK, response.content

    assert Lyrics.objects.get(song=admins).lines[0]["text"] == "The admin's words"
    assert not Lyrics.objects.filter(song=tagged).exists()


# --- the admin's song page ------------------------------------------------------------


def change_song(staff_client, song, **extra):
    from django.urls import reverse

    return staff_client.post(
        reverse("admin:catalog_song_change", args=[song.pk]),
        {"title": song.title, "artist_name": song.artist_name, **extra},
    )


def test_an_admin_gives_a_song_lyrics_sees_them_and_removes_them(staff_client, make_song):
    from django.urls import reverse

    song = make_song()

    given = change_song(
        staff_client, song, lyrics_file=upload("song.lrc", b"[00:01.00]From the admin")
    )
    page = staff_client.get(reverse("admin:catalog_song_change", args=[song.pk])).content
    removed = change_song(staff_client, song, remove_lyrics="on")

    assert given.status_code == removed.status_code == HTTPStatus.FOUND
    assert "Synced (1 lines, from Upload): From the admin" in page.decode()
    assert not Lyrics.objects.exists()


def test_a_bad_lyrics_file_is_shown_beside_its_field_and_nothing_changes(staff_client, make_song):
    song = make_song(title="Unchanged")

    response = change_song(
        staff_client, song, title="Changed", lyrics_file=upload("bad.lrc", b"caf\xe9")
    )

    assert response.status_code == HTTPStatus.OK
    assert "UTF-8" in " ".join(response.context["adminform"].form.errors["lyrics_file"])
    song.refresh_from_db()
    assert song.title == "Unchanged"
    assert not Lyrics.objects.exists()
