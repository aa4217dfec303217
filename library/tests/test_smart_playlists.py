"""Smart playlists over the REST API: rules, their refusals, their songs when read, the
owner's plays, likes and ratings, previews, .nsp imports and the items they refuse."""

import json
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Song
from core.text import BLANK, CONTROL_CHARACTERS
from library import nsp
from library.models import Playlist, PlaylistItem
from library.schemas import RULES_NOT_JSON
from library.selectors import PLAYLIST_NOT_FOUND
from library.services import MANUAL_TAKES_NO_RULES, NOT_YOUR_PLAYLIST, SMART_PLAYLIST_READ_ONLY
from library.smart_schemas import (
    DAYS_VALUE,
    MAX_LIMIT,
    NOT_A_RULE,
    RANGE_VALUE,
    TEXT_VALUE,
    TOO_DEEP,
    TOO_MANY_RULES,
    UNKNOWN_FIELD,
)
from library.tests import smart_rows as rows
from tests.api_shapes import playlist_out, song_out
from tests.helpers import bearer, multipart

PLAYLISTS = "/api/playlists/"
PREVIEW = "/api/playlists/preview/"
IMPORT = "/api/playlists/import-nsp/"

LIKED = {"field": "liked", "operator": "is", "value": True}


def smart(*rules: dict, match: str = "all", **extra) -> dict:
    return {"match": match, "rules": list(rules), **extra}


def stored(rules: dict) -> dict:
    """The rules as answered: the defaults filled in."""
    return {"sort": "title", "order": "asc", "limit": MAX_LIMIT, **rules}


def one_error(loc: list, msg: str, type_: str = "smart_rule") -> dict:
    return {"detail": [{"loc": loc, "msg": msg, "type": type_}]}


@pytest.fixture
def catalog(db):
    """Four songs: two by Nina Simone (1958, 1965), one jazz, one rock."""
    blues = rows.album("Little Girl Blue")
    return {
        "blue": rows.song("My Baby Just Cares", album=blues, genre="Jazz", year=1958, duration=215),
        "feeling": rows.song("Feeling Good", genre="Soul", year=1965, duration=177),
        "train": rows.song("Blue Train", "John Coltrane", genre="Jazz", year=1957, duration=643),
        "creep": rows.song("Creep", "Radiohead", genre="Rock", year=1992, duration=238),
    }


def create(client: Client, rules: dict, **fields):
    body = {"name": "Mine", **fields, "rules": rules}
    return client.post(PLAYLISTS, body, "application/json")


def item_titles(client: Client, playlist_id: int) -> list[str]:
    response = client.get(f"{PLAYLISTS}{playlist_id}/songs/")
    assert response.status_code == HTTPStatus.OK
    return [item["song"]["title"] for item in response.json()["items"]]


# --- Create and read -------------------------------------------------------------------


def test_create_a_smart_playlist_answers_it_with_its_rules_and_figures(auth_client, catalog):
    rules = smart({"field": "artist", "operator": "is", "value": "nina simone"})

    response = create(auth_client, rules)

    playlist = Playlist.objects.get()
    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == playlist_out(playlist, song_count=2, duration=215 + 177)
    assert response.json()["kind"] == "smart"
    assert response.json()["rules"] == stored(rules)
    assert not PlaylistItem.objects.exists()


def test_a_manual_playlist_is_manual_without_rules(auth_client, catalog):
    response = auth_client.post(PLAYLISTS, {"name": "Hand-made"}, "application/json")

    assert response.status_code == HTTPStatus.CREATED
    assert (response.json()["kind"], response.json()["rules"]) == ("manual", None)


def test_the_songs_are_computed_when_read_in_the_rules_order(auth_client, catalog):
    rules = smart(
        {"field": "genre", "operator": "is", "value": "jazz"},
        {"field": "year", "operator": "gt", "value": 1990},
        match="any",
        sort="year",
        order="desc",
    )
    playlist_id = create(auth_client, rules).json()["id"]

    assert item_titles(auth_client, playlist_id) == ["Creep", "My Baby Just Cares", "Blue Train"]
    # Fresh: a song added later is in it at the next read.
    rows.song("Round Midnight", "Thelonious Monk", genre="JAZZ", year=1947)
    assert item_titles(auth_client, playlist_id)[-1] == "Round Midnight"


def test_items_have_positions_and_pages_and_the_limit_holds(auth_client, catalog):
    playlist_id = create(
        auth_client, smart({"field": "duration", "operator": "gt", "value": 1}, limit=3)
    ).json()["id"]

    first = auth_client.get(f"{PLAYLISTS}{playlist_id}/songs/?limit=2").json()
    second = auth_client.get(f"{PLAYLISTS}{playlist_id}/songs/?cursor={first['next']}").json()

    assert [item["position"] for item in first["items"] + second["items"]] == [0, 1, 2]
    assert [item["song"]["title"] for item in first["items"] + second["items"]] == [
        "Blue Train",
        "Creep",
        "Feeling Good",
    ]
    assert (first["count"], second["next"]) == (3, None)
    song = Song.objects.get(title="Blue Train")
    assert first["items"][0]["song"] == song_out(song)


def test_reading_the_songs_costs_the_same_queries_at_any_size(
    auth_client, catalog, django_assert_num_queries
):
    rules = smart(
        LIKED | {"value": False},
        {"field": "play_count", "operator": "lt", "value": 5},
        {"field": "rating", "operator": "in_range", "value": [0, 5]},
        {"field": "last_played", "operator": "not_in_the_last_days", "value": 3},
        limit=2,
    )
    playlist_id = create(auth_client, rules).json()["id"]
    url = f"{PLAYLISTS}{playlist_id}/songs/?limit=1"

    # The caller, the playlist's rules, then the page and its count: each one query.
    with django_assert_num_queries(4):
        assert auth_client.get(url).status_code == HTTPStatus.OK
    for number in range(5):
        rows.song(f"More {number}")
    # The whole list on one page: no count query.
    with django_assert_num_queries(3):
        assert auth_client.get(url.replace("limit=1", "limit=50")).json()["count"] == 2


def test_the_list_costs_the_same_queries_with_more_smart_playlists(
    auth_client, catalog, django_assert_num_queries
):
    create(auth_client, smart(LIKED))
    with django_assert_num_queries(2):
        first = auth_client.get(PLAYLISTS).json()
    for _ in range(4):
        create(auth_client, smart(LIKED))
    with django_assert_num_queries(2):
        assert len(auth_client.get(PLAYLISTS).json()["items"]) == 5
    assert first["items"][0]["kind"] == "smart"


def test_one_playlist_answers_its_figures_now_and_the_list_as_of_then(auth_client, user, catalog):
    playlist_id = create(auth_client, smart(LIKED)).json()["id"]
    rows.like(user, catalog["creep"])

    assert auth_client.get(PLAYLISTS).json()["items"][0]["song_count"] == 0
    one = auth_client.get(f"{PLAYLISTS}{playlist_id}/").json()
    assert (one["song_count"], one["duration"]) == (1, 238)
    listed = auth_client.get(PLAYLISTS).json()["items"][0]
    assert (listed["song_count"], listed["duration"]) == (1, 238)


def test_one_smart_playlist_costs_one_query_more_and_writes_only_what_moved(
    auth_client, user, catalog, django_assert_num_queries
):
    playlist_id = create(auth_client, smart(LIKED)).json()["id"]
    url = f"{PLAYLISTS}{playlist_id}/"
    rows.like(user, catalog["blue"])

    # The caller, the playlist, its songs' figures, and the UPDATE of the figures that moved.
    with django_assert_num_queries(4):
        assert auth_client.get(url).json()["song_count"] == 1
    with django_assert_num_queries(3):
        assert auth_client.get(url).json()["song_count"] == 1


# --- The owner's plays, likes and ratings ---------------------------------------------------


def test_per_listener_fields_are_the_owners_not_the_readers(client, user, make_user, catalog):
    other = make_user()
    now = datetime.now(UTC)
    rows.like(user, catalog["creep"])
    rows.like(other, catalog["train"])
    rows.rate(user, catalog["feeling"], 5)
    rows.rate(other, catalog["blue"], 5)
    rows.plays(user, catalog["blue"], now, rows.days_ago(now, 1), rows.days_ago(now, 40))
    rows.plays(other, catalog["train"], now, now, now)
    owner = Client(headers=bearer(user))
    reader = Client(headers=bearer(other))

    def titles(rules: dict) -> list[str]:
        playlist_id = create(owner, rules, is_public=True).json()["id"]
        return item_titles(reader, playlist_id)

    assert titles(smart(LIKED)) == ["Creep"]
    assert titles(smart({"field": "rating", "operator": "is", "value": 5})) == ["Feeling Good"]
    assert titles(smart({"field": "play_count", "operator": "gt", "value": 2})) == [
        "My Baby Just Cares"
    ]
    assert titles(smart({"field": "last_played", "operator": "in_the_last_days", "value": 7}))[
        :1
    ] == ["My Baby Just Cares"]
    never = smart({"field": "last_played", "operator": "not_in_the_last_days", "value": 7})
    assert titles(never) == ["Blue Train", "Creep", "Feeling Good"]
    # Unrated is 0; ties go to the older song.
    unrated = smart({"field": "rating", "operator": "is", "value": 0}, sort="rating")
    assert titles(unrated) == ["My Baby Just Cares", "Blue Train", "Creep"]


def test_text_rules_ignore_case_and_negations_take_songs_without_a_value(auth_client, catalog):
    def titles(*rules: dict, **extra) -> list[str]:
        return item_titles(auth_client, create(auth_client, smart(*rules, **extra)).json()["id"])

    assert titles({"field": "title", "operator": "contains", "value": "BLUE"}) == ["Blue Train"]
    assert titles({"field": "title", "operator": "starts_with", "value": "my b"}) == [
        "My Baby Just Cares"
    ]
    assert titles({"field": "title", "operator": "ends_with", "value": "GOOD"}) == ["Feeling Good"]
    # Three songs have no album: "is not" and "does not contain" take them.
    assert titles({"field": "album", "operator": "is_not", "value": "little girl blue"}) == [
        "Blue Train",
        "Creep",
        "Feeling Good",
    ]
    assert titles({"field": "album", "operator": "not_contains", "value": "%"}) == [
        "Blue Train",
        "Creep",
        "Feeling Good",
        "My Baby Just Cares",
    ]
    assert titles({"field": "year", "operator": "in_range", "value": [1957, 1960]}) == [
        "Blue Train",
        "My Baby Just Cares",
    ]


def test_date_rules_take_utc_days(auth_client, catalog):
    Song.objects.filter(pk=catalog["creep"].pk).update(created_at=datetime(2020, 3, 1, tzinfo=UTC))
    Song.objects.filter(pk=catalog["train"].pk).update(
        created_at=datetime(2020, 3, 2, 23, 59, tzinfo=UTC)
    )

    def titles(operator: str, value) -> list[str]:
        rules = smart({"field": "date_added", "operator": operator, "value": value})
        return item_titles(auth_client, create(auth_client, rules).json()["id"])

    assert titles("in_range", ["2020-03-01", "2020-03-02"]) == ["Blue Train", "Creep"]
    assert titles("before", "2020-03-02") == ["Creep"]
    assert titles("after", "2020-03-01") == ["Blue Train", "Feeling Good", "My Baby Just Cares"]
    assert titles("in_the_last_days", 30) == ["Feeling Good", "My Baby Just Cares"]


# --- Refusals: each names the rule, and writes nothing -------------------------------------


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            smart(LIKED, LIKED, {"field": "year", "operator": "in_range", "value": [1999]}),
            one_error(["body", "rules", "rules", 2, "value"], RANGE_VALUE),
        ),
        (
            smart(LIKED, {"field": "mood", "operator": "is", "value": "happy"}),
            one_error(["body", "rules", "rules", 1], f"{UNKNOWN_FIELD} {NOT_A_RULE}"),
        ),
        (
            smart(smart({"field": "last_played", "operator": "in_the_last_days", "value": 0})),
            one_error(["body", "rules", "rules", 0, "rules", 0, "value"], DAYS_VALUE),
        ),
        (
            smart({"field": "genre", "operator": "in_range", "value": "rock"}),
            one_error(
                ["body", "rules", "rules", 0, "operator"],
                "Input should be 'is', 'is_not', 'contains', 'not_contains', 'starts_with' or "
                "'ends_with'",
                "literal_error",
            ),
        ),
        (
            smart(smart(smart(smart(LIKED)))),
            one_error(["body", "rules"], TOO_DEEP),
        ),
        (smart(*[LIKED] * 51), None),
        (smart(smart(*[LIKED] * 11)), one_error(["body", "rules"], TOO_MANY_RULES)),
        (smart(smart(LIKED, smart(*[LIKED] * 6))), one_error(["body", "rules"], TOO_MANY_RULES)),
        (
            smart(LIKED, limit=MAX_LIMIT + 1),
            one_error(
                ["body", "rules", "limit"],
                "Input should be less than or equal to 1000",
                "less_than_equal",
            ),
        ),
        (
            smart(LIKED | {"value": "yes"}),
            one_error(["body", "rules", "rules", 0, "value"], "The value is true or false."),
        ),
        (
            smart({"field": "title", "operator": "is", "value": "a\x00b"}),
            one_error(["body", "rules", "rules", 0, "value"], CONTROL_CHARACTERS, "value_error"),
        ),
        (
            smart({"field": "title", "operator": "is", "value": "   "}),
            one_error(["body", "rules", "rules", 0, "value"], BLANK, "value_error"),
        ),
        (
            smart({"field": "title", "operator": "is", "value": 7}),
            one_error(["body", "rules", "rules", 0, "value"], TEXT_VALUE),
        ),
        (
            smart({"field": ["title"], "operator": "is", "value": "x"}),
            one_error(["body", "rules", "rules", 0], f"{UNKNOWN_FIELD} {NOT_A_RULE}"),
        ),
    ],
)
def test_bad_rules_are_a_422_naming_the_rule_and_write_nothing(auth_client, rules, expected):
    response = create(auth_client, rules)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    if expected is not None:
        assert response.json() == expected
    else:
        assert response.json()["detail"][0]["loc"] == ["body", "rules", "rules"]
    assert not Playlist.objects.exists()


def test_groups_full_to_each_levels_cap_are_taken(auth_client):
    full = smart(*[smart(LIKED, *[smart(*[LIKED] * 5)] * 9)] * 5, LIKED)

    response = create(auth_client, full)

    assert response.status_code == HTTPStatus.CREATED, response.content


def test_writes_to_a_smart_playlists_songs_are_a_422(auth_client, catalog):
    playlist_id = create(auth_client, smart(LIKED)).json()["id"]
    url = f"{PLAYLISTS}{playlist_id}/songs/"
    song_id = catalog["creep"].pk
    expected = one_error(["body"], SMART_PLAYLIST_READ_ONLY, "value_error")
    before = Playlist.objects.values().get()

    responses = [
        auth_client.post(url, {"song_id": song_id}, "application/json"),
        auth_client.post(f"{url}move/", {"from_position": 0, "to_position": 1}, "application/json"),
        auth_client.delete(f"{url}0/"),
    ]

    assert [response.status_code for response in responses] == [HTTPStatus.UNPROCESSABLE_ENTITY] * 3
    assert [response.json() for response in responses] == [expected] * 3
    assert not PlaylistItem.objects.exists()
    assert Playlist.objects.values().get() == before


def test_patch_changes_a_smart_playlists_rules(auth_client, catalog):
    playlist_id = create(auth_client, smart(LIKED)).json()["id"]
    rules = smart({"field": "genre", "operator": "is", "value": "rock"})

    response = auth_client.patch(f"{PLAYLISTS}{playlist_id}/", {"rules": rules}, "application/json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["rules"] == stored(rules)
    assert (response.json()["song_count"], response.json()["duration"]) == (1, 238)
    assert Playlist.objects.get().rules == stored(rules)


def test_patch_takes_rules_as_json_text_in_multipart(auth_client, catalog):
    playlist_id = create(auth_client, smart(LIKED)).json()["id"]
    rules = smart({"field": "genre", "operator": "is", "value": "rock"})
    url = f"{PLAYLISTS}{playlist_id}/"

    response = auth_client.patch(url, **multipart({"rules": json.dumps(rules)}))
    refused = auth_client.patch(url, **multipart({"rules": "{not json"}))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["rules"] == stored(rules)
    assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert refused.json() == one_error(["body", "rules"], RULES_NOT_JSON, "json_invalid")
    assert Playlist.objects.get().rules == stored(rules)


def test_patch_does_not_make_a_manual_playlist_smart(auth_client, catalog):
    playlist_id = auth_client.post(PLAYLISTS, {"name": "Hand"}, "application/json").json()["id"]

    response = auth_client.patch(
        f"{PLAYLISTS}{playlist_id}/", {"rules": smart(LIKED)}, "application/json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == one_error(["body", "rules"], MANUAL_TAKES_NO_RULES, "value_error")
    assert Playlist.objects.get().rules is None


def test_bad_rules_in_a_patch_change_nothing(auth_client, catalog):
    playlist_id = create(auth_client, smart(LIKED)).json()["id"]
    bad = smart({"field": "year", "operator": "is", "value": 1.5})

    response = auth_client.patch(f"{PLAYLISTS}{playlist_id}/", {"rules": bad}, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["body", "rules", "rules", 0, "value"]
    assert Playlist.objects.get().rules == stored(smart(LIKED))


def test_a_private_smart_playlist_is_not_found_by_others_and_only_its_owner_edits(
    auth_client, make_user, catalog
):
    private_id = create(auth_client, smart(LIKED)).json()["id"]
    public_id = create(auth_client, smart(LIKED), is_public=True).json()["id"]
    other = Client(headers=bearer(make_user()))
    patch = {"rules": smart({"field": "year", "operator": "gt", "value": 1})}

    assert other.get(f"{PLAYLISTS}{private_id}/").status_code == HTTPStatus.NOT_FOUND
    assert other.get(f"{PLAYLISTS}{private_id}/songs/").json() == {"detail": PLAYLIST_NOT_FOUND}
    assert other.get(f"{PLAYLISTS}{public_id}/songs/").status_code == HTTPStatus.OK
    denied = other.patch(f"{PLAYLISTS}{public_id}/", patch, "application/json")
    assert (denied.status_code, denied.json()) == (
        HTTPStatus.FORBIDDEN,
        {"detail": NOT_YOUR_PLAYLIST},
    )
    hidden = other.patch(f"{PLAYLISTS}{private_id}/", patch, "application/json")
    assert hidden.status_code == HTTPStatus.NOT_FOUND
    assert {playlist.rules["rules"][0]["field"] for playlist in Playlist.objects.all()} == {"liked"}


# --- Preview --------------------------------------------------------------------------


def test_preview_answers_the_first_songs_and_writes_nothing(
    auth_client, catalog, django_assert_num_queries
):
    rules = smart({"field": "genre", "operator": "is", "value": "jazz"}, sort="duration")

    # The caller, then the songs.
    with django_assert_num_queries(2):
        response = auth_client.post(PREVIEW, {"rules": rules}, "application/json")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == [song_out(catalog["blue"]), song_out(catalog["train"])]
    assert not Playlist.objects.exists()


def test_preview_refuses_bad_rules_naming_them(auth_client):
    rules = smart({"field": "year", "operator": "in_range", "value": [1]})

    response = auth_client.post(PREVIEW, {"rules": rules}, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == one_error(["body", "rules", "rules", 0, "value"], RANGE_VALUE)


def test_preview_needs_a_signed_in_listener(client):
    response = client.post(PREVIEW, {"rules": smart(LIKED)}, "application/json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


# --- Import of Navidrome's .nsp files ------------------------------------------------------

NSP = {
    "name": "90s Jazz and Rock",
    "comment": "From Navidrome",
    "all": [
        {"any": [{"is": {"genre": "Jazz"}}, {"contains": {"genre": "rock"}}]},
        {"isNot": {"loved": True}},
        {"inTheRange": {"year": [1950, 1999]}},
        {"notInTheLast": {"lastPlayed": 30}},
        {"gt": {"duration": 200.0}},
        {"GT": {"playCount": -1}},
    ],
    "sort": "-year",
    "limit": 10,
}


def upload_nsp(client: Client, content: bytes, **fields):
    data = {nsp.FILE_FIELD: SimpleUploadedFile("mix.nsp", content), **fields}
    return client.post(IMPORT, data)


def test_import_nsp_makes_a_smart_playlist(auth_client, catalog):
    response = upload_nsp(auth_client, json.dumps(NSP).encode())

    playlist = Playlist.objects.get()
    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == playlist_out(playlist, song_count=3, duration=238 + 215 + 643)
    assert (playlist.name, playlist.description) == ("90s Jazz and Rock", "From Navidrome")
    assert playlist.rules == {
        "match": "all",
        "rules": [
            {
                "match": "any",
                "rules": [
                    {"field": "genre", "operator": "is", "value": "Jazz"},
                    {"field": "genre", "operator": "contains", "value": "rock"},
                ],
            },
            {"field": "liked", "operator": "is", "value": False},
            {"field": "year", "operator": "in_range", "value": [1950, 1999]},
            {"field": "last_played", "operator": "not_in_the_last_days", "value": 30},
            {"field": "duration", "operator": "gt", "value": 200},
            {"field": "play_count", "operator": "gt", "value": -1},
        ],
        "sort": "year",
        "order": "desc",
        "limit": 10,
    }
    assert item_titles(auth_client, playlist.pk) == ["Creep", "My Baby Just Cares", "Blue Train"]


def test_import_nsp_takes_a_name_from_the_form(auth_client):
    response = upload_nsp(auth_client, json.dumps(NSP).encode(), name="Mine")

    assert response.status_code == HTTPStatus.CREATED
    assert Playlist.objects.get().name == "Mine"


@pytest.mark.parametrize(
    ("content", "loc", "msg"),
    [
        (b"{not json", [], nsp.NSP_NOT_JSON),
        (b"\xff\xfe{}", [], nsp.NSP_NOT_UTF8),
        (b" " * (nsp.MAX_NSP_BYTES + 1), [], nsp.NSP_TOO_LARGE),
        (b"[]", [], nsp.NSP_NOT_OBJECT),
        (json.dumps({"name": "x"}).encode(), [], nsp.NSP_NO_GROUP),
        (
            json.dumps({"all": [{"is": {"loved": True}}, {"inPlaylist": {"id": "abc"}}]}).encode(),
            ["all", 1, "inPlaylist"],
            nsp.unsupported_operator_message("inPlaylist"),
        ),
        (
            json.dumps({"any": [{"is": {"albumartist": "Nina"}}]}).encode(),
            ["any", 0, "is", "albumartist"],
            nsp.unsupported_field_message("albumartist"),
        ),
        (
            json.dumps({"all": [{"is": {"loved": True}}], "limitPercent": 10}).encode(),
            ["limitPercent"],
            nsp.NSP_LIMIT_PERCENT,
        ),
        (
            json.dumps({"all": [{"is": {"loved": True}}], "sort": "random"}).encode(),
            ["sort"],
            nsp.unsupported_field_message("random"),
        ),
    ],
)
def test_import_nsp_refusals_name_what_and_write_nothing(auth_client, content, loc, msg):
    response = upload_nsp(auth_client, content)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == one_error(["body", nsp.FILE_FIELD, *loc], msg, "value_error")
    assert not Playlist.objects.exists()


def test_import_nsp_refuses_a_value_our_rules_refuse(auth_client):
    content = json.dumps({"all": [{"inTheRange": {"year": [2000]}}], "name": "x"}).encode()

    response = upload_nsp(auth_client, content)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == one_error(["body", nsp.FILE_FIELD, "rules", 0, "value"], RANGE_VALUE)
    assert not Playlist.objects.exists()


def test_import_nsp_without_a_name_takes_the_files_own_name(auth_client):
    response = upload_nsp(auth_client, json.dumps({"all": [{"is": {"loved": True}}]}).encode())

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["name"] == "mix"  # mix.nsp
    assert Playlist.objects.get().name == "mix"


def test_a_range_given_high_to_low_is_the_same_range(auth_client):
    reversed_range = smart({"field": "year", "operator": "in_range", "value": [1999, 1990]})
    reversed_days = smart(
        {"field": "date_added", "operator": "in_range", "value": ["2026-12-31", "2026-01-01"]}
    )

    for rules in (reversed_range, reversed_days):
        response = auth_client.post(PREVIEW, {"rules": rules}, "application/json")
        assert response.status_code == HTTPStatus.OK, response.content
    created = auth_client.post(
        PLAYLISTS, {"name": "Nineties", "rules": reversed_range}, "application/json"
    )
    assert created.json()["rules"]["rules"][0]["value"] == [1990, 1999]


def test_a_limit_that_is_not_a_whole_number_is_a_422(auth_client):
    rules = {**smart(LIKED), "limit": True}

    response = auth_client.post(PREVIEW, {"rules": rules}, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["body", "rules", "limit"]


def test_import_nsp_needs_the_file(auth_client):
    response = auth_client.post(IMPORT, {"name": "x"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == one_error(["body", nsp.FILE_FIELD], "Field required", "missing")
    assert not Playlist.objects.exists()
