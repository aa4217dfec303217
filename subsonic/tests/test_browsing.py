"""Browsing: the artists by index, an artist, an album, a song, top songs, what we know of
an artist or album, and the folder view; what each answers beyond its saved answer, its
refusals and its cost in queries."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Like, Play
from library import services as library_services
from library.models import AlbumLike
from subsonic import ids
from subsonic.endpoints.browsing import index_name, sort_name
from subsonic.envelope import plain
from subsonic.tests.calls import answer, api_key, call, error_of
from subsonic.tests.sample_catalog import SampleCatalog


def names_by_index(body: dict) -> dict[str, list[str]]:
    return {
        index["name"]: [artist["name"] for artist in index["artist"]] for index in body["index"]
    }


@pytest.mark.parametrize(
    ("name", "sorted_as", "index"),
    [
        ("The Beatles", "Beatles", "B"),
        ("the beatles", "beatles", "B"),
        ("Los Lobos", "Lobos", "L"),
        ("Les Négresses Vertes", "Négresses Vertes", "N"),
        ("The The", "The", "T"),  # the article of a name that is only one
        ("Theatre of Tragedy", "Theatre of Tragedy", "T"),
        ("Édith Piaf", "Édith Piaf", "E"),
        ("øystein", "øystein", "Ø"),
        ("2 Mello", "2 Mello", "#"),
        ("!!!", "!!!", "#"),
        ("  ", "  ", "#"),
    ],
)
def test_an_artist_is_indexed_by_the_first_letter_of_their_name_without_article(
    name: str, sorted_as: str, index: str
):
    assert sort_name(name) == sorted_as
    assert index_name(name) == index


def test_get_artists_groups_every_credited_artist_by_index(
    client: Client, secret: str, sample: SampleCatalog, make_song
):
    make_song("Something", "the Zombies")
    make_song("Lovely Rita", "Beach House")

    body = answer(call(client, "getArtists", api_key(secret)))["artists"]

    assert body["ignoredArticles"] == "The El La Los Las Le Les"
    assert names_by_index(body) == {
        "B": ["Beach House", "The Beatles"],
        "E": ["Édith Piaf"],
        "J": ["John Coltrane"],
        "Z": ["the Zombies"],
        "#": ["2 Mello"],
    }
    coltrane = body["index"][2]["artist"][0]
    assert coltrane == {
        "id": ids.artist_id(sample.coltrane.pk),
        "name": "John Coltrane",
        "coverArt": ids.artist_id(sample.coltrane.pk),
        "albumCount": 1,
    }


def test_get_artists_costs_one_query_whatever_the_number_of_artists(
    client: Client,
    secret: str,
    sample: SampleCatalog,
    make_song,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    call(client, "ping", api_key(secret))  # the sign-in's first use is written once
    with django_assert_num_queries(2):  # the sign-in, the artists
        few = answer(call(client, "getArtists", api_key(secret)))
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(6):
            make_song("Song", f"Artist {number}")

    with django_assert_num_queries(2):
        more = answer(call(client, "getArtists", api_key(secret)))

    count = sum(len(index["artist"]) for index in few["artists"]["index"])
    assert sum(len(index["artist"]) for index in more["artists"]["index"]) == count + 6


def test_get_artists_reads_the_artists_once_until_they_change(
    client: Client, secret: str, sample: SampleCatalog, django_assert_num_queries
):
    first = call(client, "getArtists", api_key(secret))
    # Each the sign-in alone: the artists were read once, getIndexes shapes the same ones.
    with django_assert_num_queries(2):
        again = call(client, "getArtists", api_key(secret))
        indexes = call(client, "getIndexes", api_key(secret))

    assert again.content == first.content
    assert answer(indexes)["indexes"]["index"]


def test_an_artist_no_song_or_album_credits_any_more_is_not_listed(
    client: Client, secret: str, sample: SampleCatalog
):
    sample.kinda_blue.delete()

    body = answer(call(client, "getArtists", api_key(secret)))["artists"]
    missing = call(client, "getArtist", api_key(secret), id=ids.artist_id(sample.mello.pk))

    assert "#" not in names_by_index(body)
    assert error_of(missing) == {"code": 70, "message": "No artist with this id."}


def test_get_indexes_checks_if_modified_since_is_a_whole_number(
    client: Client, secret: str, sample: SampleCatalog
):
    refused = call(client, "getIndexes", api_key(secret), ifModifiedSince="AAA")
    huge = call(client, "getIndexes", api_key(secret), ifModifiedSince="9" * 30)

    assert error_of(refused) == {
        "code": 0,
        "message": "ifModifiedSince must be a whole number of at most 18 digits.",
    }
    assert answer(huge)["status"] == "ok"


def test_get_indexes_lists_the_same_artists_for_folder_clients(
    client: Client, secret: str, sample: SampleCatalog
):
    before = int(timezone.now().timestamp() * 1000)

    indexes = answer(call(client, "getIndexes", api_key(secret), ifModifiedSince=before))
    artists = answer(call(client, "getArtists", api_key(secret)))

    body = indexes["indexes"]
    assert names_by_index(body) == names_by_index(artists["artists"])
    assert body["lastModified"] >= before
    assert body["index"][0]["artist"] == [
        {"id": ids.artist_id(sample.beatles.pk), "name": "The Beatles"}
    ]


def test_get_artist_lists_their_albums_oldest_first_and_without_a_year_last(
    client: Client, secret: str, sample: SampleCatalog, make_album, make_song
):
    later = make_album("Giant Steps", "John Coltrane", release_year=1960)
    undated = make_album("Unissued", "John Coltrane")
    make_song("Naima", "John Coltrane", album=later)

    body = answer(call(client, "getArtist", api_key(secret), id=ids.artist_id(sample.coltrane.pk)))

    artist = body["artist"]
    assert (artist["name"], artist["albumCount"]) == ("John Coltrane", 3)
    assert [album["name"] for album in artist["album"]] == ["Blue Train", "Giant Steps", "Unissued"]
    assert [album["songCount"] for album in artist["album"]] == [2, 1, 0]
    assert artist["album"][2] == {
        "id": ids.album_id(undated.pk),
        "name": "Unissued",
        "artist": "John Coltrane",
        "artistId": ids.artist_id(sample.coltrane.pk),
        "songCount": 0,
        "duration": 0,
        "created": artist["album"][2]["created"],
        "genres": [],
    }


def test_get_album_orders_its_songs_as_the_rest_album_detail(
    client: Client, secret: str, sample: SampleCatalog, make_song
):
    make_song("Locomotion", "John Coltrane", album=sample.blue_train)

    body = answer(call(client, "getAlbum", api_key(secret), id=ids.album_id(sample.blue_train.pk)))
    rest = client.get(f"/api/albums/{sample.blue_train.pk}/").json()

    album = body["album"]
    assert [song["id"] for song in album["song"]] == [
        ids.song_id(song["id"]) for song in rest["songs"]
    ]
    assert (album["songCount"], album["duration"]) == (3, 3)


def test_get_album_carries_the_listeners_stars_and_ratings_of_it_and_its_songs(
    client: Client, secret: str, listener, sample: SampleCatalog, make_user
):
    album, first, second = sample.blue_train, sample.blue_train_song, sample.moments_notice
    library_services.stars_add(user=listener, song_ids=[first.pk], album_ids=[album.pk])
    library_services.song_rate(user=listener, song_id=second.pk, rating=3)
    someone_else = make_user(email="else@example.com")
    library_services.stars_add(user=someone_else, song_ids=[second.pk])
    library_services.song_rate(user=someone_else, song_id=first.pk, rating=5)

    body = answer(call(client, "getAlbum", api_key(secret), id=ids.album_id(album.pk)))["album"]

    assert body["starred"] == plain(AlbumLike.objects.get(user=listener).created_at)
    marks = {song["id"]: (song.get("starred"), song.get("userRating")) for song in body["song"]}
    assert marks == {
        ids.song_id(first.pk): (plain(Like.objects.get(user=listener).liked_at), None),
        ids.song_id(second.pk): (None, 3),
    }


def test_album_and_song_cost_a_fixed_number_of_queries(
    client: Client, secret: str, sample: SampleCatalog, django_assert_num_queries
):
    call(client, "ping", api_key(secret))
    album_id = ids.album_id(sample.blue_train.pk)

    # The sign-in, the album with its songs, the listener's stars and ratings of the songs
    # and their star and rating of the album in one (subsonic/listener.py).
    with django_assert_num_queries(3):
        album = answer(call(client, "getAlbum", api_key(secret), id=album_id))
    with django_assert_num_queries(3):  # the sign-in, the song, its star and rating
        song = answer(call(client, "getSong", api_key(secret), id=ids.song_id(sample.lazy_bird.pk)))

    assert len(album["album"]["song"]) == 2
    assert song["song"]["title"] == "Lazy Bird"


def test_get_song_takes_a_bare_number_as_older_clients_keep_it(
    client: Client, secret: str, sample: SampleCatalog
):
    body = answer(call(client, "getSong", api_key(secret), id=str(sample.come_together.pk)))

    assert body["song"]["id"] == ids.song_id(sample.come_together.pk)
    assert body["song"]["parent"] == ids.album_id(sample.abbey_road.pk)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("getArtist", "ar"),
        ("getAlbum", "al"),
        ("getSong", "tr"),
        ("getArtistInfo2", "ar"),
        ("getAlbumInfo2", "al"),
        ("getMusicDirectory", "al"),
    ],
)
def test_an_unknown_or_foreign_or_wrong_kind_of_id_is_error_70(
    client: Client, secret: str, sample: SampleCatalog, name: str, kind: str
):
    for text in (f"{kind}-999999", "abc123", "pl-1", f"{kind}-0"):
        error = error_of(call(client, name, api_key(secret), id=text))
        assert error["code"] == 70, (text, error)


@pytest.mark.parametrize(
    "name",
    ["getArtist", "getAlbum", "getSong", "getMusicDirectory", "getArtistInfo2", "getAlbumInfo2"],
)
def test_an_id_is_required(client: Client, secret: str, name: str):
    assert error_of(call(client, name, api_key(secret))) == {
        "code": 10,
        "message": "Required parameter is missing: id.",
    }


# --- The folders ------------------------------------------------------------------------


def test_the_music_folder_holds_the_artists_in_index_order(
    client: Client, secret: str, sample: SampleCatalog
):
    body = answer(call(client, "getMusicDirectory", api_key(secret), id="1"))["directory"]

    assert (body["id"], body["name"]) == ("1", "Music")
    assert [child["title"] for child in body["child"]] == [
        "The Beatles",
        "Édith Piaf",
        "John Coltrane",
        "2 Mello",
    ]
    assert all(child["isDir"] and child["parent"] == "1" for child in body["child"])


def test_an_artists_folder_holds_their_albums_then_their_songs_on_no_album(
    client: Client, secret: str, sample: SampleCatalog
):
    artist_id = ids.artist_id(sample.coltrane.pk)

    body = answer(call(client, "getMusicDirectory", api_key(secret), id=artist_id))["directory"]

    assert (body["id"], body["parent"], body["name"]) == (artist_id, "1", "John Coltrane")
    assert [(child["id"], child["isDir"], child["parent"]) for child in body["child"]] == [
        (ids.album_id(sample.blue_train.pk), True, artist_id),
        (ids.song_id(sample.lazy_bird.pk), False, artist_id),
    ]


def test_an_albums_folder_holds_its_songs_and_each_folder_costs_few_queries(
    client: Client, secret: str, sample: SampleCatalog, django_assert_num_queries
):
    call(client, "ping", api_key(secret))
    album_id = ids.album_id(sample.blue_train.pk)

    # The sign-in, the album with its songs, the listener's stars and ratings of them.
    with django_assert_num_queries(3):
        album = answer(call(client, "getMusicDirectory", api_key(secret), id=album_id))
    # The sign-in, the artist, their albums, their songs, the stars and ratings of the songs.
    with django_assert_num_queries(5):
        call(client, "getMusicDirectory", api_key(secret), id=ids.artist_id(sample.coltrane.pk))
    with django_assert_num_queries(2):  # the sign-in, the artists
        call(client, "getMusicDirectory", api_key(secret), id="1")

    body = album["directory"]
    assert (body["parent"], body["name"]) == (ids.artist_id(sample.coltrane.pk), "Blue Train")
    assert [child["title"] for child in body["child"]] == ["Blue Train", "Moment's Notice"]


def test_a_song_is_no_folder(client: Client, secret: str, sample: SampleCatalog):
    song_id = ids.song_id(sample.lazy_bird.pk)

    assert error_of(call(client, "getMusicDirectory", api_key(secret), id=song_id)) == {
        "code": 70,
        "message": f"No such item: {song_id}.",
    }


# --- Top songs, artist and album info --------------------------------------------------


def test_top_songs_are_the_artists_most_played_then_their_newest(
    client: Client, secret: str, sample: SampleCatalog, listener
):
    recent = timezone.now() - timedelta(days=1)
    for _ in range(2):
        Play.objects.create(song=sample.moments_notice, user=listener, played_at=recent)
    Play.objects.create(song=sample.come_together, user=listener, played_at=recent)

    top = answer(call(client, "getTopSongs", api_key(secret), artist="JOHN COLTRANE"))
    one = answer(call(client, "getTopSongs", api_key(secret), artist="John Coltrane", count=1))
    nobody = answer(call(client, "getTopSongs", api_key(secret), artist="Nobody"))

    assert [song["title"] for song in top["topSongs"]["song"]] == [
        "Moment's Notice",
        "Lazy Bird",
        "Blue Train",
    ]
    assert [song["title"] for song in one["topSongs"]["song"]] == ["Moment's Notice"]
    assert nobody["topSongs"] == {"song": []}


def test_top_songs_need_an_artist_and_a_count_that_is_a_number(client: Client, secret: str):
    assert error_of(call(client, "getTopSongs", api_key(secret)))["code"] == 10
    assert error_of(call(client, "getTopSongs", api_key(secret), artist="x", count="ten")) == {
        "code": 0,
        "message": "count must be a whole number of at most 18 digits.",
    }


def test_artist_info_is_their_picture_found_by_artist_album_or_song(
    client: Client, secret: str, sample: SampleCatalog
):
    by_ids = [
        ids.artist_id(sample.coltrane.pk),
        ids.album_id(sample.blue_train.pk),
        ids.song_id(sample.lazy_bird.pk),
    ]

    infos = [
        answer(call(client, "getArtistInfo2", api_key(secret), id=text))["artistInfo2"]
        for text in by_ids
    ]
    without = answer(
        call(client, "getArtistInfo2", api_key(secret), id=ids.artist_id(sample.beatles.pk))
    )

    url = f"http://testserver/media/{sample.coltrane.image.name}"
    assert (
        infos
        == [{"biography": "", "smallImageUrl": url, "mediumImageUrl": url, "largeImageUrl": url}]
        * 3
    )
    assert without["artistInfo2"] == {"biography": ""}


def test_album_info_is_its_cover_found_by_album_or_song(
    client: Client, secret: str, sample: SampleCatalog
):
    by_album = call(client, "getAlbumInfo2", api_key(secret), id=ids.album_id(sample.blue_train.pk))
    by_song = call(
        client, "getAlbumInfo2", api_key(secret), id=ids.song_id(sample.moments_notice.pk)
    )
    single = call(client, "getAlbumInfo2", api_key(secret), id=ids.song_id(sample.lazy_bird.pk))

    url = f"http://testserver/media/{sample.blue_train.image.name}"
    expected = {"notes": "", "smallImageUrl": url, "mediumImageUrl": url, "largeImageUrl": url}
    assert answer(by_album)["albumInfo"] == expected
    assert answer(by_song)["albumInfo"] == expected
    assert error_of(single)["code"] == 70


def test_artist_info_refuses_a_count_that_is_not_a_whole_number(
    client: Client, secret: str, sample: SampleCatalog
):
    artist_id = ids.artist_id(sample.coltrane.pk)

    refused = call(client, "getArtistInfo2", api_key(secret), id=artist_id, count="-894")
    taken = call(client, "getArtistInfo2", api_key(secret), id=artist_id, count="20")

    assert error_of(refused) == {
        "code": 0,
        "message": "count must be a whole number of at most 18 digits.",
    }
    assert answer(taken)["status"] == "ok"


def test_artist_info_takes_any_whole_number_as_count(
    client: Client, secret: str, sample: SampleCatalog
):
    huge = call(
        client,
        "getArtistInfo2",
        api_key(secret),
        id=ids.artist_id(sample.coltrane.pk),
        count="2949046329803634011799552",
    )

    assert answer(huge)["status"] == "ok"
