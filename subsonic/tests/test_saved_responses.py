"""Every implemented endpoint's answer, in XML and JSON, against the one saved in
responses/ (as Gonic's tests do). After a deliberate change: `UPDATE_SAVED=1 pytest
subsonic/tests/test_saved_responses.py`, then review the diff of responses/."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from subsonic import ids
from subsonic.registry import ENDPOINTS
from subsonic.tests.calls import (
    LISTENER_EMAIL,
    api_key,
    assert_as_specified,
    assert_saved,
    call,
    xml_root,
)
from subsonic.tests.sample_catalog import SampleCatalog

# Each implemented endpoint, with the parameters of its saved call.
CALLS = {
    "ping": {},
    "getLicense": {},
    "getOpenSubsonicExtensions": {},
    "getMusicFolders": {},
    "getScanStatus": {},
    "getUser": {"username": LISTENER_EMAIL},
    "tokenInfo": {},
}


# The browsing, list, search and file endpoints, on the sample catalog
# (subsonic/tests/sample_catalog.py): each call's parameters made from it. The file
# endpoints answer the file itself (test_media.py): their saved answer is their error.
SAMPLE_CALLS: dict[str, Callable[[SampleCatalog], dict[str, Any]]] = {
    "getArtists": lambda sample: {},
    "getIndexes": lambda sample: {},
    "getMusicDirectory": lambda sample: {"id": ids.artist_id(sample.coltrane.pk)},
    "getArtist": lambda sample: {"id": ids.artist_id(sample.coltrane.pk)},
    "getAlbum": lambda sample: {"id": ids.album_id(sample.blue_train.pk)},
    "getSong": lambda sample: {"id": ids.song_id(sample.lazy_bird.pk)},
    "getTopSongs": lambda sample: {"artist": "John Coltrane", "count": 2},
    "getArtistInfo2": lambda sample: {"id": ids.artist_id(sample.coltrane.pk)},
    "getAlbumInfo2": lambda sample: {"id": ids.album_id(sample.blue_train.pk)},
    "getAlbumList2": lambda sample: {"type": "newest"},
    "getAlbumList": lambda sample: {"type": "alphabeticalByName"},
    "getRandomSongs": lambda sample: {"fromYear": 1969, "toYear": 1969},
    "search3": lambda sample: {"query": "blue train"},
    "stream": lambda sample: {"id": "tr-999999"},
    "download": lambda sample: {"id": "al-1"},
    "getCoverArt": lambda sample: {"id": ids.song_id(sample.come_together.pk)},
}


def test_every_implemented_endpoint_has_a_saved_call():
    assert set(CALLS) | set(SAMPLE_CALLS) == set(ENDPOINTS)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", CALLS)
def test_the_answer_is_the_saved_one(client: Client, secret: str, make_song, name: str, form: str):
    make_song()
    make_song(title="Lazy Bird")

    response = call(client, name, api_key(secret), f=form, **CALLS[name])

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
    else:
        assert_as_specified(response, name)
    assert_saved(response, name, form)


@pytest.mark.parametrize("form", ["xml", "json"])
def test_an_error_is_the_saved_one(client: Client, db, form: str):
    response = call(client, "ping", api_key("not-a-key"), f=form)

    if form == "xml":
        assert xml_root(response).get("status") == "failed"
    assert_saved(response, "error_invalid_api_key", form)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", SAMPLE_CALLS)
def test_the_answer_on_the_sample_catalog_is_the_saved_one(
    client: Client, secret: str, sample: SampleCatalog, name: str, form: str
):
    response = call(client, name, api_key(secret), f=form, **SAMPLE_CALLS[name](sample))

    if form == "xml":
        xml_root(response)
    else:
        assert_as_specified(response, name)
    assert_saved(response, name, form)
