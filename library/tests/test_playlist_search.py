"""The search box finds playlists by name by the catalog's rules (issue 22): every word in any
order, the last one a prefix, accents and case ignored, typos forgiven, ranked exact > whole
words > prefixes > typos; public playlists and the caller's own only, on PostgreSQL and SQLite
alike (library migration 0006)."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from library.models import Playlist
from tests.helpers import bearer

SEARCH = "/api/search/"

PUBLIC = [
    "Road Trip Classics",
    "Café Jazz Evenings",
    "Beyoncé Essentials",
    "Morning Run",
    "Zéphyr Chill Beats",
    "Workout Hits 2024",
    "Don't Stop Rock",
    "Señorita Summer",
]
# Filler that shares the queries' words, so that matching alone does not make the top 3.
FILLER_WORDS = ["Road", "Jazz", "Run", "Chill", "Hits", "Rock", "Summer", "Night", "Trip"]


@pytest.fixture
def playlists(make_user, make_playlist) -> dict:
    curator, stranger, listener = (make_user(full_name=name) for name in ("C", "S", "L"))
    Playlist.objects.bulk_create(
        Playlist(
            owner=curator,
            name=f"{FILLER_WORDS[n % 9]} {FILLER_WORDS[(n * 4 + 1) % 9]} {n}",
            is_public=True,
        )
        for n in range(60)
    )
    for name in PUBLIC:
        make_playlist(curator, name, is_public=True)
    make_playlist(stranger, "Secret Garden Tunes")  # private: never anyone else's
    make_playlist(listener, "Mes Séances Secrètes")  # private: the listener's own
    return {"listener": listener, "stranger": stranger}


def found(client: Client, term: str, user=None, limit: int = 5) -> list[str]:
    headers = bearer(user) if user is not None else {}
    response = client.get(SEARCH, {"q": term, "limit": limit}, headers=headers)
    assert response.status_code == HTTPStatus.OK
    return [playlist["name"] for playlist in response.json()["playlists"]]


# (query, the name expected in the top 3)
QUERIES = [
    # every word, in any order
    ("road trip classics", "Road Trip Classics"),
    ("classics road trip", "Road Trip Classics"),
    ("jazz cafe", "Café Jazz Evenings"),
    ("run morning", "Morning Run"),
    # the last word as typed so far
    ("road trip cla", "Road Trip Classics"),
    ("morn", "Morning Run"),
    ("workout hits 20", "Workout Hits 2024"),
    # accents and case, both ways
    ("cafe", "Café Jazz Evenings"),
    ("CAFÉ JAZZ", "Café Jazz Evenings"),
    ("beyonce", "Beyoncé Essentials"),
    ("zephyr chill", "Zéphyr Chill Beats"),
    ("senorita", "Señorita Summer"),
    ("mörning rün", "Morning Run"),
    ("ROAD TRÍP", "Road Trip Classics"),
    # one-letter typos
    ("beyonse", "Beyoncé Essentials"),
    ("road trip clasics", "Road Trip Classics"),
    ("workot hits", "Workout Hits 2024"),
    ("essentals", "Beyoncé Essentials"),
    # punctuation
    ("dont stop", "Don't Stop Rock"),
    ("don't stop rock", "Don't Stop Rock"),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_the_expected_playlist_is_in_the_top_three(client: Client, playlists, query, expected):
    top = found(client, query)[:3]

    assert expected in top, (query, top)


def test_the_whole_name_leads_then_whole_words_then_prefixes_newer_first(
    client: Client, make_user, make_playlist
):
    owner = make_user()
    for name in ("Roadhouse Blues", "Old Road", "Road", "Road Songs", "Roads"):
        make_playlist(owner, name, is_public=True)

    assert found(client, "road") == ["Road", "Road Songs", "Old Road", "Roads", "Roadhouse Blues"]


def test_a_private_playlist_of_someone_else_is_never_found(client: Client, playlists):
    for term in ("secret garden tunes", "garden", "secret gar", "secrt garden", "🔥"):
        assert found(client, term) == [], term
        assert found(client, term, playlists["listener"]) == [], term
    assert found(client, "garden", playlists["stranger"]) == ["Secret Garden Tunes"]


def test_the_callers_own_private_playlist_is_found(client: Client, playlists):
    listener = playlists["listener"]

    assert found(client, "seances secretes", listener) == ["Mes Séances Secrètes"]
    assert found(client, "secrètes mes", listener) == ["Mes Séances Secrètes"]
    assert found(client, "secretes seanc", listener) == ["Mes Séances Secrètes"]
    assert found(client, "seances secretes") == []  # not to anyone else


def test_edits_and_deletions_reach_the_index(client: Client, make_user, make_playlist):
    playlist = make_playlist(make_user(), "Sunday Brunch", is_public=True)
    assert found(client, "brunch sunday") == ["Sunday Brunch"]

    playlist.name = "Monday Blues"
    playlist.save()
    assert found(client, "monday") == ["Monday Blues"]
    assert found(client, "brunch") == []

    playlist.delete()
    assert found(client, "monday") == []


def test_a_term_without_words_is_looked_for_literally(client: Client, make_user, make_playlist):
    make_playlist(make_user(), "Fire 🔥", is_public=True)

    assert found(client, "🔥") == ["Fire 🔥"]
    assert found(client, "fire 🔥") == ["Fire 🔥"]


@pytest.mark.parametrize("term", ['"', "a*", "title:halo", "a & !b", "NEAR(a b)", "%_", "\\"])
def test_hostile_terms_never_fail(client: Client, playlists, term):
    assert isinstance(found(client, term), list)


# (term, all queries, the playlists' queries). No song, album or artist here: the catalog's
# vocabulary look-up and the words like each unknown word (one query a word), then no pass.
# Then the playlists' vocabulary look-up and their one pass; for a typo, the words like it
# in between and the typos' pass instead.
SEARCH_BOX_QUERIES = [
    ("road trip", 5, 2),  # whole words, "trip" also as the start of another
    ("morn", 4, 2),  # no whole word: as a prefix
    ("beyonse", 5, 3),  # unknown: the words like it, then the typos' pass
]


@pytest.mark.parametrize(("term", "queries", "of_playlists"), SEARCH_BOX_QUERIES)
def test_search_box_query_counts(client: Client, playlists, term, queries, of_playlists):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(SEARCH, {"q": term, "limit": 5})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["playlists"]
    assert len(captured) == queries
    assert sum("library_playlist" in query["sql"] for query in captured) == of_playlists
