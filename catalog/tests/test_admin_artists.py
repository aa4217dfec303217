"""Artists in the admin (list, search, rename, image, merge, delete) and the songs list's likes
column, through real admin requests."""

import html
import re
from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import services
from catalog.models import Album, Artist, Song
from tests.helpers import like
from tests.media_samples import png_bytes, stored_files, upload

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_artist_changelist")


def artist_of(name: str) -> Artist:
    return services.artist_named(name)


def add_song(artist: Artist, title: str = "Song", credit: str | None = None) -> Song:
    """A song row made directly (no file): `credit` is its artist_name, the artist's by default."""
    return Song.objects.create(
        title=title,
        artist=artist,
        artist_name=credit or artist.name,
        duration=60,
        audio="songs/x.wav",
    )


def add_album(artist: Artist, title: str = "Album", credit: str | None = None) -> Album:
    return Album.objects.create(title=title, artist=artist, artist_name=credit or artist.name)


def cells(page: str, field: str) -> list[str]:
    """The text of each row's `field` column in a changelist page, in order."""
    found = re.findall(rf'class="field-{field}[ "][^>]*>(.*?)</t[dh]>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]


def listed_artists(page: str) -> dict[str, tuple[str, str]]:
    """{name: (songs, albums)} as the artist changelist shows them."""
    names = cells(page, "name")
    songs, albums = cells(page, "display_song_count"), cells(page, "display_album_count")
    assert len(names) == len(songs) == len(albums)
    return dict(zip(names, zip(songs, albums, strict=True), strict=True))


def change_url(artist: Artist) -> str:
    return reverse("admin:catalog_artist_change", args=[artist.pk])


def merge(client: Client, *artists: Artist, follow: bool = False):
    return client.post(
        CHANGELIST,
        {"action": "merge_artists", "_selected_action": [artist.pk for artist in artists]},
        follow=follow,
    )


# --- The list --------------------------------------------------------------------------------


def test_the_artist_list_shows_each_artists_song_and_album_counts(staff_client: Client):
    miles, nina = artist_of("Miles Davis"), artist_of("Nina Simone")
    for n in range(3):
        add_song(miles, f"Take {n}")
    add_album(miles)
    add_album(nina, "Pastel Blues")
    add_album(nina, "Wild Is the Wind")
    artist_of("Nobody Yet")

    response = staff_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert listed_artists(response.content.decode()) == {
        "Miles Davis": ("3", "1"),
        "Nina Simone": ("0", "2"),
        "Nobody Yet": ("0", "0"),
    }


def list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == HTTPStatus.OK
    assert cells(response.content.decode(), "name")  # the list, not an error page
    return len(queries)


def test_the_artist_list_takes_as_many_queries_for_12_artists_as_for_2(staff_client: Client):
    for n in range(2):
        artist = artist_of(f"Artist {n}")
        add_song(artist)
        add_album(artist)
    few = list_queries(staff_client)

    for n in range(2, 12):
        artist = artist_of(f"Artist {n}")
        add_song(artist)
        add_song(artist, "Other")
        add_album(artist)
    page = staff_client.get(CHANGELIST).content.decode()
    many = list_queries(staff_client)

    assert len(listed_artists(page)) == 12
    assert listed_artists(page)["Artist 5"] == ("2", "1")
    assert many == few


def test_the_artist_list_searches_by_name(staff_client: Client):
    for name in ("Nina Simone", "Miles Davis", "Simone Dinnerstein"):
        artist_of(name)

    page = staff_client.get(CHANGELIST, {"q": "simone"}).content.decode()

    assert sorted(listed_artists(page)) == ["Nina Simone", "Simone Dinnerstein"]


def test_the_artist_change_page_shows_the_artist(staff_client: Client):
    miles = artist_of("Miles Davis")

    response = staff_client.get(change_url(miles))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert re.search(r'<input[^>]*name="name"[^>]*value="Miles Davis"', page)
    assert 'name="image"' in page


# --- Renaming and the image --------------------------------------------------------------------


def test_renaming_recredits_the_exact_name_only(staff_client: Client):
    miles = artist_of("Miles Davis")
    exact = add_song(miles, "So What")
    album = add_album(miles, "Kind of Blue")
    featuring = add_song(miles, "Budo", credit="Miles Davis feat. John Coltrane")
    lowercase = add_song(miles, "Blue in Green", credit="miles davis")

    response = staff_client.post(change_url(miles), {"name": "Miles Dewey Davis"})

    assert response.status_code == HTTPStatus.FOUND, response.content[:2000]
    miles.refresh_from_db()
    assert (miles.name, miles.name_key) == ("Miles Dewey Davis", "miles dewey davis")
    credits = dict(Song.objects.values_list("pk", "artist_name"))
    assert credits == {
        exact.pk: "Miles Dewey Davis",
        featuring.pk: "Miles Davis feat. John Coltrane",
        lowercase.pk: "miles davis",
    }
    album.refresh_from_db()
    assert album.artist_name == "Miles Dewey Davis"
    assert set(Song.objects.values_list("artist", flat=True)) == {miles.pk}


@pytest.mark.parametrize("taken", ["BEYONCE", "beyoncé", "Beyonce"])
def test_renaming_to_another_artists_name_is_refused(staff_client: Client, taken: str):
    artist_of("Beyoncé")
    nina = artist_of("Nina Simone")
    song = add_song(nina, "Feeling Good")

    response = staff_client.post(change_url(nina), {"name": taken})

    assert response.status_code == HTTPStatus.OK  # the form again, with its error
    assert html.escape(services.ARTIST_NAME_TAKEN) in response.content.decode()
    nina.refresh_from_db()
    song.refresh_from_db()
    assert nina.name == "Nina Simone"
    assert song.artist_name == "Nina Simone"
    assert sorted(Artist.objects.values_list("name", flat=True)) == ["Beyoncé", "Nina Simone"]


@pytest.mark.parametrize("page", ["change", "add"])
def test_a_name_taken_between_the_forms_check_and_the_save_changes_nothing(
    staff_client: Client, monkeypatch, page: str
):
    artist_of("Beyoncé")
    nina = artist_of("Nina Simone")
    song = add_song(nina, "Feeling Good")
    # As if another admin took the name after this form was checked: only the database's
    # unique key notices.
    monkeypatch.setattr(services, "artist_name_taken", lambda *args, **kwargs: False)
    url = change_url(nina) if page == "change" else reverse("admin:catalog_artist_add")

    response = staff_client.post(url, {"name": "BEYONCE"}, follow=True)

    assert response.redirect_chain == [(url, HTTPStatus.FOUND)]
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [services.ARTIST_NAME_TAKEN]  # and no "changed successfully"
    nina.refresh_from_db()
    song.refresh_from_db()
    assert (nina.name, song.artist_name) == ("Nina Simone", "Nina Simone")
    assert sorted(Artist.objects.values_list("name", flat=True)) == ["Beyoncé", "Nina Simone"]
    assert not LogEntry.objects.exists()


def test_a_non_image_is_refused_as_the_artist_image(staff_client: Client, settings):
    nina = artist_of("Nina Simone")

    response = staff_client.post(
        change_url(nina),
        {"name": "Nina Simone", "image": upload("photo.png", b"not a picture at all")},
    )

    assert response.status_code == HTTPStatus.OK
    assert re.search(r"valid image|not an image", response.content.decode())
    nina.refresh_from_db()
    assert not nina.image
    assert stored_files(settings) == []


def test_an_image_uploaded_in_the_admin_is_stored(staff_client: Client, settings):
    nina = artist_of("Nina Simone")

    response = staff_client.post(
        change_url(nina), {"name": "Nina Simone", "image": upload("nina.png", png_bytes())}
    )

    assert response.status_code == HTTPStatus.FOUND
    nina.refresh_from_db()
    assert nina.image_original_name == "nina.png"
    assert stored_files(settings) == [settings.MEDIA_ROOT / nina.image.name]


# --- Merging -----------------------------------------------------------------------------------


def test_merging_moves_everything_to_the_artist_with_most_songs(
    staff_client: Client, settings, django_capture_on_commit_callbacks
):
    beatles = artist_of("The Beatles")
    shouting = artist_of("THE BEATLES!")
    lower = artist_of("the beatles (remastered)")
    other = artist_of("Nina Simone")
    kept_songs = [add_song(beatles, f"Song {n}") for n in range(3)]
    moved_song = add_song(shouting, "Help!")
    featuring = add_song(shouting, "Get Back", credit="THE BEATLES! with Billy Preston")
    albums = [add_album(shouting, "Abbey Road"), add_album(lower, "Let It Be")]
    add_song(other, "Feeling Good")
    services.artist_update(artist_id=lower.pk, image_file=upload("fab.png", png_bytes()))
    lower.refresh_from_db()
    image = lower.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = merge(staff_client, shouting, lower, beatles, follow=True)

    assert response.status_code == HTTPStatus.OK
    assert "Merged 3 artists into The Beatles." in response.content.decode()
    assert sorted(Artist.objects.values_list("name", flat=True)) == ["Nina Simone", "The Beatles"]
    moved = Song.objects.exclude(artist=other)
    assert set(moved.values_list("artist", flat=True)) == {beatles.pk}
    assert moved.count() == len(kept_songs) + 2
    assert set(Album.objects.values_list("artist", flat=True)) == {beatles.pk}
    assert {album.pk for album in albums} == set(Album.objects.values_list("pk", flat=True))
    moved_song.refresh_from_db()
    featuring.refresh_from_db()
    assert moved_song.artist_name == "The Beatles"  # credited the merged name exactly
    assert featuring.artist_name == "THE BEATLES! with Billy Preston"
    assert Album.objects.get(title="Let It Be").artist_name == "The Beatles"
    beatles.refresh_from_db()
    assert beatles.image.name == image  # adopted, file kept
    assert stored_files(settings) == [settings.MEDIA_ROOT / image]


def test_a_merge_that_fails_midway_changes_nothing(staff_client: Client, monkeypatch):
    kept = artist_of("The Beatles")
    first, second = artist_of("Beatles, The"), artist_of("Beatles (UK)")
    add_song(kept, "A")
    add_song(kept, "B")
    add_song(first, "C")
    add_album(second, "D")
    deleted = []
    original_delete = Artist.delete

    def delete_then_fail(self, *args, **kwargs):
        if deleted:
            raise RuntimeError("the database went away")
        deleted.append(self.pk)
        return original_delete(self, *args, **kwargs)

    monkeypatch.setattr(Artist, "delete", delete_then_fail)
    before = list(Song.objects.values_list("pk", "artist", "artist_name").order_by("pk"))

    with pytest.raises(RuntimeError):
        merge(staff_client, kept, first, second)

    assert deleted  # the first merged artist went, then the second failed
    assert Artist.objects.count() == 3
    assert list(Song.objects.values_list("pk", "artist", "artist_name").order_by("pk")) == before
    assert Album.objects.get().artist_id == second.pk


def test_merging_one_artist_warns_and_changes_nothing(staff_client: Client):
    miles = artist_of("Miles Davis")
    song = add_song(miles)

    response = merge(staff_client, miles, follow=True)

    assert response.status_code == HTTPStatus.OK
    assert "Select two or more artists to merge." in response.content.decode()
    assert list(Artist.objects.values_list("pk", flat=True)) == [miles.pk]
    song.refresh_from_db()
    assert song.artist_id == miles.pk


# --- Deleting ----------------------------------------------------------------------------------


def test_an_artist_with_songs_cannot_be_deleted(staff_client: Client):
    miles = artist_of("Miles Davis")
    song = add_song(miles, "So What")

    response = staff_client.post(
        reverse("admin:catalog_artist_delete", args=[miles.pk]), {"post": "yes"}
    )

    assert response.status_code == HTTPStatus.OK
    page = html.unescape(response.content.decode())
    assert "Cannot delete artist" in page
    assert "protected related objects" in page
    assert "So What" in page
    assert Artist.objects.filter(pk=miles.pk).exists()
    assert Song.objects.filter(pk=song.pk, artist=miles).exists()


def test_an_uncredited_artist_is_deleted_with_its_image(
    staff_client: Client, settings, django_capture_on_commit_callbacks
):
    nobody = services.artist_create(name="Nobody", image_file=upload("n.png", png_bytes()))
    artist_of("Somebody")
    assert stored_files(settings)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_artist_delete", args=[nobody.pk]), {"post": "yes"}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert list(Artist.objects.values_list("name", flat=True)) == ["Somebody"]
    assert stored_files(settings) == []


# --- Likes -------------------------------------------------------------------------------------


def songs_list(client: Client) -> tuple[dict[str, str], int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:catalog_song_changelist"))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    titles, likes = cells(page, "title"), cells(page, "display_likes")
    assert len(titles) == len(likes)
    return dict(zip(titles, likes, strict=True)), len(queries)


def test_the_songs_list_shows_likes_in_as_many_queries_for_any_number(
    staff_client: Client, listeners
):
    miles = artist_of("Miles Davis")
    liked, once = add_song(miles, "So What"), add_song(miles, "Freddie Freeloader")
    like(liked, listeners[:3])
    like(once, listeners[3:4], days_ago=30)  # every like counts here, not just this week's
    songs_list(staff_client)  # the genre filter's list is read once, then kept a minute
    shown, few = songs_list(staff_client)
    assert shown == {"So What": "3", "Freddie Freeloader": "1"}

    for n in range(10):
        like(add_song(miles, f"Take {n}"), listeners[: n % 3])
    shown, many = songs_list(staff_client)

    assert len(shown) == 12
    assert (shown["So What"], shown["Take 2"], shown["Take 3"]) == ("3", "2", "0")
    assert many == few
