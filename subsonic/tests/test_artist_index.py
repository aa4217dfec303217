"""The artist index (getArtists, getIndexes, the music folder) is built once and kept until a
committed write changes the artists, their albums or the songs that credit them
(subsonic/artist_index.py, subsonic/signals.py): each write below is seen by the next read."""

from collections.abc import Callable

import pytest
from django.test import Client

from catalog import services
from subsonic import artist_index
from subsonic.tests.calls import answer, api_key, call
from subsonic.tests.sample_catalog import SampleCatalog


def artists_listed(client: Client, secret: str) -> dict[str, int]:
    """Each artist getArtists lists, by name, with their album count."""
    body = answer(call(client, "getArtists", api_key(secret)))["artists"]
    return {
        artist["name"]: artist["albumCount"]
        for index in body["index"]
        for artist in index["artist"]
    }


def folder_names(client: Client, secret: str, endpoint: str) -> set[str]:
    if endpoint == "getIndexes":
        body = answer(call(client, "getIndexes", api_key(secret)))["indexes"]
        return {artist["name"] for index in body["index"] for artist in index["artist"]}
    body = answer(call(client, "getMusicDirectory", api_key(secret), id="1"))["directory"]
    return {child["title"] for child in body["child"]}


@pytest.fixture
def committed(django_capture_on_commit_callbacks) -> Callable[[Callable[[], object]], None]:
    """Run a write and what its commit runs, as outside a test's transaction."""

    def run(write: Callable[[], object]) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            write()

    return run


def test_an_artist_added_is_listed(client: Client, secret: str, sample: SampleCatalog, committed):
    assert "Nina Simone" not in artists_listed(client, secret)

    committed(lambda: services.album_create(title="Pastel Blues", artist="Nina Simone"))

    assert artists_listed(client, secret)["Nina Simone"] == 1


def test_an_artist_renamed_is_listed_under_the_new_name(
    client: Client, secret: str, sample: SampleCatalog, committed
):
    before = artists_listed(client, secret)

    committed(lambda: services.artist_update(artist_id=sample.piaf.pk, name="Edith Piaf"))

    after = artists_listed(client, secret)
    assert "Édith Piaf" in before
    assert "Édith Piaf" not in after
    assert "Edith Piaf" in after


def test_an_artist_deleted_is_no_longer_listed(
    client: Client, secret: str, sample: SampleCatalog, committed
):
    lonely = services.artist_create(name="Nobody Yet")
    committed(lambda: services.album_create(title="Alone", artist="Nobody Yet"))
    assert "Nobody Yet" in artists_listed(client, secret)

    def delete() -> None:
        services.album_delete(album_id=lonely.albums.get().pk)
        services.artist_delete(artist_id=lonely.pk)

    committed(delete)

    assert "Nobody Yet" not in artists_listed(client, secret)


def test_an_album_added_or_deleted_changes_the_album_count(
    client: Client, secret: str, sample: SampleCatalog, committed
):
    assert artists_listed(client, secret)["The Beatles"] == 1

    committed(lambda: services.album_create(title="Help!", artist="The Beatles"))
    assert artists_listed(client, secret)["The Beatles"] == 2

    committed(lambda: services.album_delete(album_id=sample.abbey_road.pk))
    assert artists_listed(client, secret)["The Beatles"] == 1


def test_an_album_renamed_makes_the_next_read_build_the_index_again(
    client: Client, secret: str, sample: SampleCatalog, committed, django_assert_num_queries
):
    artists_listed(client, secret)
    with django_assert_num_queries(1):  # the sign-in: the index is kept
        artists_listed(client, secret)

    committed(lambda: services.album_update(album_id=sample.abbey_road.pk, title="Abbey Rd"))

    with django_assert_num_queries(2):  # the sign-in, the artists read again
        artists_listed(client, secret)


def test_a_song_saved_with_its_artist_unchanged_keeps_the_index(
    client: Client, secret: str, sample: SampleCatalog, committed, django_assert_num_queries
):
    artists_listed(client, secret)

    def retitle() -> None:
        sample.kinda_blue.title = "Kinda Blue (live)"
        sample.kinda_blue.save(update_fields=["title"])

    committed(retitle)

    with django_assert_num_queries(1):
        artists_listed(client, secret)


def test_a_song_moved_to_another_artist_moves_them_in_the_index(
    client: Client, secret: str, sample: SampleCatalog, committed
):
    assert "2 Mello" in artists_listed(client, secret)

    committed(lambda: services.song_update(song_id=sample.kinda_blue.pk, artist="Miles Davis"))

    listed = artists_listed(client, secret)
    assert "2 Mello" not in listed
    assert listed["Miles Davis"] == 0


def test_a_write_not_committed_keeps_the_index(
    client: Client, secret: str, sample: SampleCatalog, django_assert_num_queries
):
    artists_listed(client, secret)
    services.album_create(title="Pastel Blues", artist="Nina Simone")  # the test's transaction

    with django_assert_num_queries(1):
        assert "Nina Simone" not in artists_listed(client, secret)


@pytest.mark.parametrize("endpoint", ["getIndexes", "getMusicDirectory"])
def test_the_folder_views_follow_the_index_too(
    client: Client, secret: str, sample: SampleCatalog, committed, endpoint: str
):
    assert "Nina Simone" not in folder_names(client, secret, endpoint)

    committed(lambda: services.album_create(title="Pastel Blues", artist="Nina Simone"))

    assert "Nina Simone" in folder_names(client, secret, endpoint)


def test_the_index_is_built_again_in_every_process_after_a_change(
    client: Client, secret: str, sample: SampleCatalog, django_assert_num_queries
):
    """Another process's write reaches this one through the shared generation: replacing it
    is all a write does here."""
    artists_listed(client, secret)

    artist_index.invalidate()

    with django_assert_num_queries(2):
        artists_listed(client, secret)
