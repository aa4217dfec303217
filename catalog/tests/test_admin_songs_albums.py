"""The songs, albums and plays pages of the admin: forms, lists, and files written like the API."""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from catalog.audio import AUDIO_NOT_READABLE
from catalog.models import Album, Play, Song
from tests.media_samples import png_bytes, stored_files, upload, wav_bytes


@pytest.fixture
def catalog(make_album, make_song) -> dict:
    album = make_album("Kind of Blue", "Miles Davis", image=True)
    song = make_song("So What", "Miles Davis", album=album)
    return {"album": album, "song": song}


def test_add_forms_have_no_dates_and_change_forms_do(staff_client: Client, catalog):
    for model, obj in (("song", catalog["song"]), ("album", catalog["album"])):
        added = staff_client.get(reverse(f"admin:catalog_{model}_add")).content.decode()
        changed = staff_client.get(
            reverse(f"admin:catalog_{model}_change", args=[obj.pk])
        ).content.decode()

        assert "Created at" not in added, model
        assert "Created at" in changed, model


def test_the_album_form_shows_its_image_once_and_songs_without_title_lines(
    staff_client: Client, catalog
):
    album = catalog["album"]

    page = staff_client.get(reverse("admin:catalog_album_change", args=[album.pk])).content.decode()

    assert page.count(f'<img src="{album.image.url}"') == 1  # the image field's preview
    assert "group/title" not in page  # Unfold's line above each inline row
    song_url = reverse("admin:catalog_song_change", args=[catalog["song"].pk])
    assert re.search(rf'<a [^>]*href="{song_url}">So What</a>', page)


def test_the_song_list_shows_a_player_a_cover_and_m_ss(staff_client: Client, catalog):
    page = staff_client.get(reverse("admin:catalog_song_changelist")).content.decode()

    assert "<audio controls" in page
    assert f'src="/api/songs/{catalog["song"].pk}/stream/"' in page
    assert catalog["album"].image.url in page  # the song falls back to its album's cover
    assert "0:01" in page


def test_the_album_list_counts_songs(staff_client: Client, catalog, make_song):
    make_song("Freddie Freeloader", "Miles Davis", album=catalog["album"])

    page = staff_client.get(reverse("admin:catalog_album_changelist")).content.decode()

    assert re.search(r"<td[^>]*field-display_song_count[^>]*>\s*2\s*<", page)


def test_adding_a_song_reads_its_duration_and_renames_the_file(staff_client: Client, settings, db):
    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {
            "title": "Tone",
            "artist_name": "Sine",
            "audio": upload("../../escape.mp3", wav_bytes(seconds=3)),
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    song = Song.objects.get()
    assert song.duration == 3
    assert song.audio.name.startswith("songs/")
    assert song.audio.name.endswith(".wav")
    assert "escape" not in song.audio.name
    assert stored_files(settings) == [Path(settings.MEDIA_ROOT) / song.audio.name]


@pytest.mark.parametrize(
    ("field", "content"),
    [("audio", png_bytes()), ("audio", b""), ("image", b"plain text")],
)
def test_a_bad_upload_is_a_form_error_and_stores_nothing(
    staff_client: Client, settings, db, field, content
):
    files = {"audio": upload("a.mp3", wav_bytes()), field: upload("x.bin", content)}

    response = staff_client.post(
        reverse("admin:catalog_song_add"), {"title": "Bad", "artist_name": "Input", **files}
    )

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert field in errors
    if field == "audio" and content:
        assert errors["audio"] == [AUDIO_NOT_READABLE]
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_replacing_a_songs_audio_in_the_admin_deletes_the_old_file(
    staff_client: Client, catalog, settings, django_capture_on_commit_callbacks
):
    song = catalog["song"]
    old = Path(settings.MEDIA_ROOT) / song.audio.name

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_song_change", args=[song.pk]),
            {
                "title": song.title,
                "artist_name": song.artist_name,
                "album": song.album_id,
                "audio": upload("new.wav", wav_bytes(seconds=4)),
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    song.refresh_from_db()
    assert song.duration == 4
    assert not old.exists()
    assert (Path(settings.MEDIA_ROOT) / song.audio.name).exists()


def test_deleting_an_album_in_the_admin_deletes_its_songs_and_files(
    staff_client: Client, catalog, settings, django_capture_on_commit_callbacks
):
    album = catalog["album"]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_album_delete", args=[album.pk]), {"post": "yes"}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert not Album.objects.exists()
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_plays_are_read_only(staff_client: Client, catalog, user):
    play = Play.objects.create(song=catalog["song"], user=user)

    assert staff_client.get(reverse("admin:catalog_play_add")).status_code == HTTPStatus.FORBIDDEN
    response = staff_client.post(
        reverse("admin:catalog_play_delete", args=[play.pk]), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Play.objects.filter(pk=play.pk).exists()


# --- Genre, year, track and disc numbers -----------------------------------------------


def test_a_song_added_in_the_admin_takes_its_genre_year_and_numbers(
    staff_client: Client, make_album, db
):
    album = make_album("Kind of Blue", "Miles Davis", genre="Jazz")

    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {
            "title": "So What",
            "artist_name": "Miles Davis",
            "album": album.pk,
            "genre": " jazz ",
            "year": "1959",
            "track_number": "1",
            "disc_number": "",
            "audio": upload("so-what.wav", wav_bytes()),
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    song = Song.objects.get()
    # The service's rules: trimmed, and spelled as the catalog spells the genre.
    assert (song.genre, song.year, song.track_number, song.disc_number) == ("Jazz", 1959, 1, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("year", "999"), ("year", "2101"), ("track_number", "0"), ("disc_number", "1000")],
)
def test_a_number_out_of_range_is_a_form_error_and_writes_nothing(
    staff_client: Client, settings, db, field, value
):
    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {"title": "T", "artist_name": "A", field: value, "audio": upload("t.wav", wav_bytes())},
    )

    assert response.status_code == HTTPStatus.OK
    assert field in response.context["adminform"].form.errors
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_an_album_gets_a_genre_in_the_admin_and_a_bad_year_is_refused(
    staff_client: Client, catalog
):
    album = catalog["album"]
    url = reverse("admin:catalog_album_change", args=[album.pk])
    fields = {"title": album.title, "artist_name": album.artist_name, "songs-TOTAL_FORMS": "1"}
    fields |= {"songs-INITIAL_FORMS": "1", "songs-0-id": catalog["song"].pk}
    fields |= {"songs-0-album": album.pk}

    refused = staff_client.post(url, {**fields, "genre": "Modal", "release_year": "59"})
    album.refresh_from_db()
    assert refused.status_code == HTTPStatus.OK
    assert "release_year" in refused.context["adminform"].form.errors
    assert (album.genre, album.release_year) == (None, None)

    saved = staff_client.post(url, {**fields, "genre": "Modal jazz", "release_year": "1959"})
    album.refresh_from_db()
    assert saved.status_code == HTTPStatus.FOUND
    assert (album.genre, album.release_year) == ("Modal jazz", 1959)


def test_the_lists_filter_by_genre_and_show_genre_and_year(
    staff_client: Client, make_album, make_song
):
    jazz = make_album("Kind of Blue", genre="Jazz")
    make_album("Paranoid", genre="Metal")
    make_song("So What", album=jazz, genre="Jazz", year=1959)
    make_song("Iron Man", genre="Metal", year=1970)

    songs = staff_client.get(reverse("admin:catalog_song_changelist"), {"genre": "JAZZ"})
    albums = staff_client.get(reverse("admin:catalog_album_changelist"), {"genre": "metal"})

    song_page = songs.content.decode()
    assert [song.title for song in songs.context["cl"].result_list] == ["So What"]
    assert re.search(r"<td[^>]*field-year[^>]*>\s*1959\s*<", song_page)
    assert re.search(r"<td[^>]*field-genre[^>]*>\s*Jazz\s*<", song_page)
    assert "?genre=Metal" in song_page  # the filter offers every genre of the songs
    assert [album.title for album in albums.context["cl"].result_list] == ["Paranoid"]


def test_the_album_page_lists_its_songs_in_track_order(staff_client: Client, make_album, make_song):
    album = make_album()
    make_song("Last", album=album)
    make_song("Two", album=album, track_number=2)
    make_song("One", album=album, track_number=1)

    page = staff_client.get(reverse("admin:catalog_album_change", args=[album.pk])).content.decode()

    assert page.index(">One<") < page.index(">Two<") < page.index(">Last<")
