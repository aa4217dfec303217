"""Artists as the API shows them: lists, pages, and the artist every write finds or makes."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from catalog import services
from catalog.models import Artist, Play
from catalog.selectors.artists import ARTIST_NOT_FOUND, ARTIST_TOP_SONGS
from core.errors import Conflict
from tests.api_shapes import album_out, song_out
from tests.helpers import multipart
from tests.media_samples import png_bytes, upload, wav_bytes

ARTISTS = "/api/artists/"


def artist_url(artist_id: int, tail: str = "") -> str:
    return f"{ARTISTS}{artist_id}/{tail}"


def artist_out(artist: Artist, *, song_count: int, album_count: int) -> dict:
    artist.refresh_from_db()
    return {
        "id": artist.pk,
        "name": artist.name,
        "image_url": f"http://testserver/media/{artist.image.name}" if artist.image else None,
        "song_count": song_count,
        "album_count": album_count,
    }


def play(song, *, days_ago: float = 0, times: int = 1) -> None:
    moment = timezone.now() - timedelta(days=days_ago)
    Play.objects.bulk_create(Play(song=song, played_at=moment) for _ in range(times))


# --- Writes find or make the artist -------------------------------------------------------


def test_a_new_name_makes_an_artist_and_a_known_one_ignoring_case_and_accents_reuses_it(
    admin_client: Client, db
):
    first = admin_client.post(
        "/api/songs/",
        {"title": "Halo", "artist": "Beyoncé", "audio_file": upload("a.wav", wav_bytes())},
    )
    second = admin_client.post("/api/albums/", {"title": "Live", "artist": "  BEYONCE "})

    assert first.status_code == HTTPStatus.CREATED
    assert second.status_code == HTTPStatus.CREATED
    [artist] = Artist.objects.all()
    assert artist.name == "Beyoncé"
    assert first.json()["artist_id"] == second.json()["artist_id"] == artist.pk
    # Each keeps the name as it was sent (trimmed): clients see what they wrote.
    assert (first.json()["artist"], second.json()["artist"]) == ("Beyoncé", "BEYONCE")


def test_changing_a_songs_artist_links_the_new_one(admin_client: Client, make_song):
    song = make_song(artist="Miles Davis")

    response = admin_client.patch(
        f"/api/songs/{song.pk}/", {"artist": "Bill Evans"}, "application/json"
    )

    assert response.status_code == HTTPStatus.OK
    evans = Artist.objects.get(name="Bill Evans")
    assert response.json() == song_out(song)
    assert (response.json()["artist"], response.json()["artist_id"]) == ("Bill Evans", evans.pk)
    # Miles Davis is credited by nothing now: kept as a row, no longer listed.
    assert Artist.objects.filter(name="Miles Davis").exists()
    assert [item["name"] for item in admin_client.get(ARTISTS).json()["items"]] == ["Bill Evans"]


def test_a_refused_write_makes_no_artist(admin_client: Client, db):
    response = admin_client.post(
        "/api/songs/",
        {"title": "T", "artist": "Nobody Yet", "audio_file": upload("x.mp3", b"no audio" * 50)},
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not Artist.objects.exists()


def test_renaming_an_artist_recredits_the_rows_that_named_them_exactly(make_song, make_album):
    song = make_song(artist="Prince")
    duet = make_song("Duet", artist="Prince")
    album = make_album(artist="Prince")
    artist = song.artist
    # A credit that is more than the name stays as written.
    duet.artist_name = "Prince feat. Sheena Easton"
    duet.save()

    services.artist_update(artist_id=artist.pk, name="The Artist")

    song.refresh_from_db(), duet.refresh_from_db(), album.refresh_from_db()
    assert (song.artist_name, album.artist_name) == ("The Artist", "The Artist")
    assert duet.artist_name == "Prince feat. Sheena Easton"
    assert Artist.objects.get(pk=artist.pk).name_key == "the artist"


def test_an_artist_cannot_take_another_artists_name(make_song):
    beyonce = make_song(artist="Beyoncé").artist
    other = make_song(artist="Solange").artist

    with pytest.raises(Conflict):
        services.artist_update(artist_id=other.pk, name="BEYONCE")

    other.refresh_from_db()
    assert other.name == "Solange"
    assert Artist.objects.get(pk=beyonce.pk).name == "Beyoncé"


# --- The list -----------------------------------------------------------------------------


def test_the_list_is_by_name_with_the_counts_of_each(client: Client, make_song, make_album):
    coltrane_album = make_album(artist="John Coltrane")
    make_song(artist="John Coltrane", album=coltrane_album)
    make_song("Naima", artist="john coltrane")
    make_song("So What", artist="Miles Davis")
    make_album("Kind of Blue", artist="Miles Davis")
    make_album("Solo", artist="Anita Baker")
    coltrane, davis, baker = (
        Artist.objects.get(name=name) for name in ("John Coltrane", "Miles Davis", "Anita Baker")
    )

    response = client.get(ARTISTS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "count": 3,
        "next": None,
        "items": [
            artist_out(baker, song_count=0, album_count=1),
            artist_out(coltrane, song_count=2, album_count=1),
            artist_out(davis, song_count=1, album_count=1),
        ],
    }
    by_songs = client.get(ARTISTS, {"ordering": "-song_count"}).json()["items"]
    assert [item["name"] for item in by_songs] == ["John Coltrane", "Miles Davis", "Anita Baker"]


def test_the_list_searches_names_ignoring_case(client: Client, make_song):
    make_song(artist="Miles Davis")
    make_song(artist="Davis Sisters")
    make_song(artist="Coltrane")

    def names(search: str) -> list[str]:
        response = client.get(ARTISTS, {"search": search})
        assert response.status_code == HTTPStatus.OK
        return [item["name"] for item in response.json()["items"]]

    assert names("DAVIS") == ["Davis Sisters", "Miles Davis"]
    assert names("   ") == ["Coltrane", "Davis Sisters", "Miles Davis"]  # blank: no filter
    assert names("nobody") == []


def test_the_list_refuses_bad_parameters(client: Client, db):
    for query in ({"ordering": "age"}, {"search": "a\x00"}, {"limit": 0}):
        response = client.get(ARTISTS, query)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, query


def test_an_artist_image_is_listed(client: Client, make_song):
    artist = make_song(artist="Nina Simone").artist
    services.artist_update(artist_id=artist.pk, image_file=upload("n.png", png_bytes()))

    [item] = client.get(ARTISTS).json()["items"]

    assert item == artist_out(artist, song_count=1, album_count=0)
    assert item["image_url"].startswith("http://testserver/media/artist_images/")


@pytest.mark.parametrize("ordering", ["name", "-song_count"])
def test_a_page_of_artists_costs_the_same_queries_whatever_its_size(
    client: Client, make_song, ordering, django_assert_num_queries
):
    for number in range(7):
        make_song(f"Song {number}", artist=f"Artist {number}")

    # The page and its count (more rows follow); each artist's counts come with the page.
    with django_assert_num_queries(2):
        assert len(client.get(ARTISTS, {"limit": 2, "ordering": ordering}).json()["items"]) == 2
    with django_assert_num_queries(2):
        assert len(client.get(ARTISTS, {"limit": 6, "ordering": ordering}).json()["items"]) == 6


def test_artists_come_in_pages_by_cursor(client: Client, make_song):
    for number in range(5):
        make_song(f"Song {number}", artist=f"Artist {number}")

    first = client.get(ARTISTS, {"limit": 2}).json()
    second = client.get(ARTISTS, {"limit": 2, "cursor": first["next"]}).json()

    assert [item["name"] for item in first["items"] + second["items"]] == [
        f"Artist {number}" for number in range(4)
    ]


# --- One artist -----------------------------------------------------------------------------


def test_the_detail_has_the_albums_newest_first_and_the_top_songs(
    client: Client, make_song, make_album
):
    old_album = make_album("First", artist="Nina Simone")
    new_album = make_album("Second", artist="Nina Simone", image=True)
    songs = [
        make_song(f"Song {number}", artist="Nina Simone", album=old_album if number < 3 else None)
        for number in range(12)
    ]
    make_song("Someone else's", artist="Miles Davis")
    play(songs[2], times=3)
    play(songs[0], times=2)
    play(songs[5], days_ago=40, times=9)  # before the last 28 days: not counted
    artist = songs[0].artist

    response = client.get(artist_url(artist.pk))

    assert response.status_code == HTTPStatus.OK
    # The two played songs, then the newest of the rest.
    newest_first = [song for song in reversed(songs) if song not in (songs[2], songs[0])]
    top = [songs[2], songs[0], *newest_first][:ARTIST_TOP_SONGS]
    assert response.json() == {
        **artist_out(artist, song_count=12, album_count=2),
        "albums": [
            album_out(new_album, song_count=0, image=new_album.image.name),
            album_out(old_album, song_count=3),
        ],
        "top_songs": [song_out(song) for song in top],
    }


def test_the_detail_of_an_artist_with_few_songs_lists_them_all(client: Client, make_song):
    songs = [make_song(f"Song {number}", artist="Tape Hiss") for number in range(3)]

    response = client.get(artist_url(songs[0].artist_id))

    assert [item["id"] for item in response.json()["top_songs"]] == [
        song.pk for song in reversed(songs)
    ]
    assert response.json()["albums"] == []


def test_the_detail_costs_a_fixed_number_of_queries(
    client: Client, make_song, make_album, django_assert_max_num_queries
):
    album = make_album(artist="Bass Theory")
    for number in range(15):
        song = make_song(f"Song {number}", artist="Bass Theory", album=album)
        play(song, times=number % 3)

    with django_assert_max_num_queries(4):
        response = client.get(artist_url(album.artist_id))

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["top_songs"]) == ARTIST_TOP_SONGS


def test_an_unknown_or_uncredited_artist_is_a_404(client: Client, make_song):
    song = make_song(artist="Gone Soon")
    services.song_delete(song_id=song.pk)

    for url in (
        artist_url(song.artist_id),
        artist_url(999_999),
        artist_url(song.artist_id, "songs/"),
    ):
        response = client.get(url)
        assert response.status_code == HTTPStatus.NOT_FOUND, url
        assert response.json() == {"detail": ARTIST_NOT_FOUND}


def test_an_id_beyond_any_row_is_a_422(client: Client, db):
    assert client.get(artist_url(2**63)).status_code == HTTPStatus.UNPROCESSABLE_ENTITY


# --- The artist's songs ----------------------------------------------------------------------


def test_the_artists_songs_newest_first_in_pages(client: Client, make_song, make_album):
    album = make_album(artist="Kilo Cycle", image=True)
    songs = [
        make_song(f"Song {number}", artist="Kilo Cycle", album=album if number % 2 else None)
        for number in range(5)
    ]
    make_song("Other", artist="Mono Mira")

    response = client.get(artist_url(songs[0].artist_id, "songs/"), {"limit": 3})

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["count"] == 5
    assert body["items"] == [
        song_out(song, image=album.image.name if song.album_id else None)
        for song in reversed(songs[2:])
    ]
    rest = client.get(artist_url(songs[0].artist_id, "songs/"), {"cursor": body["next"]}).json()
    assert [item["id"] for item in rest["items"]] == [songs[1].pk, songs[0].pk]


def test_a_page_of_the_artists_songs_costs_the_same_queries_whatever_its_size(
    client: Client, make_song, django_assert_num_queries
):
    songs = [make_song(f"Song {number}", artist="Aurora Signal") for number in range(7)]
    url = artist_url(songs[0].artist_id, "songs/")

    # The artist, the page, its count.
    with django_assert_num_queries(3):
        small = client.get(url, {"limit": 2})
    with django_assert_num_queries(3):
        large = client.get(url, {"limit": 6})

    assert (small.status_code, large.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert [len(page.json()["items"]) for page in (small, large)] == [2, 6]
    assert small.json()["count"] == large.json()["count"] == 7


def test_songs_and_albums_show_their_artist_id(client: Client, make_song, make_album):
    album = make_album(artist="Nina Hertz")
    song = make_song(artist="NINA HERTZ", album=album)

    song_body = client.get(f"/api/songs/{song.pk}/").json()
    album_body = client.get(f"/api/albums/{album.pk}/").json()

    assert song_body["artist_id"] == album_body["artist_id"] == album.artist_id
    assert (song_body["artist"], album_body["artist"]) == ("NINA HERTZ", "Nina Hertz")
    assert album_body["songs"] == [song_out(song)]


def test_a_json_put_takes_the_artist_by_name(admin_client: Client, make_album):
    album = make_album(artist="Old Name")

    response = admin_client.put(
        f"/api/albums/{album.pk}/", **multipart({"title": "T", "artist": "New Name"})
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["artist_id"] == Artist.objects.get(name="New Name").pk


@pytest.mark.postgres_only
def test_the_list_search_ignores_accents_on_postgresql(client: Client, make_song):
    make_song(artist="Beyoncé")
    make_song(artist="Björk")

    for term in ("beyonce", "BEYONCE", "Beyoncé"):
        found = client.get(ARTISTS, {"search": term}).json()["items"]
        assert [item["name"] for item in found] == ["Beyoncé"], term


def test_a_name_that_decomposes_longer_than_the_key_column_still_makes_one_artist(db):
    # "ﷺ" is one character that decomposes into eighteen: the key is cut to its column.
    first = services.artist_named("ﷺ" * 200)
    again = services.artist_named("ﷺ" * 200)

    assert first.pk == again.pk
    assert len(first.name_key) == 200
