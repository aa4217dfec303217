from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.api import AUTHENTICATION_REQUIRED
from core.files.images import IMAGE_NOT_READABLE
from core.files.uploads import file_too_large_message
from core.text import BLANK
from library.models import Playlist
from library.schemas import PlaylistOut
from library.selectors import PLAYLIST_NOT_FOUND
from library.services import NOT_YOUR_PLAYLIST
from tests.api_shapes import playlist_out
from tests.helpers import bearer, multipart
from tests.media_samples import png_bytes, stored_files, upload

PLAYLISTS = "/api/playlists/"


def playlist_url(playlist_id: int) -> str:
    return f"{PLAYLISTS}{playlist_id}/"


def stored_names(settings) -> set[str]:
    return {path.relative_to(settings.MEDIA_ROOT).as_posix() for path in stored_files(settings)}


def too_long(field: str, max_length: int) -> dict:
    return {
        "detail": [
            {
                "loc": ["body", field],
                "msg": f"String should have at most {max_length} characters",
                "type": "string_too_long",
            }
        ]
    }


# --- Create -----------------------------------------------------------------------------


def test_create_makes_a_private_playlist_by_default(auth_client: Client, user):
    response = auth_client.post(PLAYLISTS, {"name": "  Road Trip  "}, "application/json")

    playlist = Playlist.objects.get()
    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == playlist_out(playlist, song_count=0, duration=0)
    assert (playlist.owner, playlist.name, playlist.description, playlist.is_public) == (
        user,
        "Road Trip",
        "",
        False,
    )


def test_create_takes_a_description_and_visibility(auth_client: Client, user):
    response = auth_client.post(
        PLAYLISTS,
        {"name": "Focus", "description": "Quiet ones.", "is_public": True},
        "application/json",
    )

    playlist = Playlist.objects.get()
    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == playlist_out(playlist, song_count=0, duration=0)
    assert (playlist.description, playlist.is_public) == ("Quiet ones.", True)


@pytest.mark.parametrize("flag", [0, 1, "true"])
def test_create_takes_visibility_only_as_a_json_boolean(auth_client: Client, flag):
    body = {"name": "Focus", "is_public": flag}

    response = auth_client.post(PLAYLISTS, body, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [(item["loc"], item["type"]) for item in response.json()["detail"]] == [
        (["body", "is_public"], "bool_type")
    ]
    assert not Playlist.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "x" * 101}, too_long("name", 100)),
        (
            {"name": "   "},
            {"detail": [{"loc": ["body", "name"], "msg": BLANK, "type": "value_error"}]},
        ),
        ({"name": "ok", "description": "d" * 301}, too_long("description", 300)),
        (
            {},
            {"detail": [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]},
        ),
        (
            {"name": "ok", "owner_id": 3},
            {
                "detail": [
                    {
                        "loc": ["body", "owner_id"],
                        "msg": "Extra inputs are not permitted",
                        "type": "extra_forbidden",
                    }
                ]
            },
        ),
    ],
)
def test_create_refuses_bad_fields_and_writes_nothing(auth_client: Client, body, expected):
    response = auth_client.post(PLAYLISTS, body, "application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == expected
    assert not Playlist.objects.exists()


def test_a_name_of_exactly_100_characters_is_fine(auth_client: Client):
    response = auth_client.post(PLAYLISTS, {"name": "x" * 100}, "application/json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["name"] == "x" * 100


# --- A write answers what a GET answers ------------------------------------------------


def test_create_answers_what_a_get_then_answers(auth_client: Client, django_assert_num_queries):
    # The caller, the insert, then the playlist read back as a GET reads it (one query).
    with django_assert_num_queries(3):
        created = auth_client.post(
            PLAYLISTS, {"name": "Focus", "is_public": True}, "application/json"
        )
    fetched = auth_client.get(playlist_url(created.json()["id"]))

    assert (created.status_code, fetched.status_code) == (HTTPStatus.CREATED, HTTPStatus.OK)
    assert created.json() == fetched.json()
    assert (created.json()["song_count"], created.json()["image_url"]) == (0, None)


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"name": "New"}, "content_type": "application/json"},
        multipart({"image_file": upload("p.png", png_bytes())}),
    ],
    ids=["json", "multipart image"],
)
def test_patch_answers_what_a_get_then_answers(
    auth_client: Client,
    user,
    make_playlist,
    make_song,
    make_album,
    django_assert_num_queries,
    request_kwargs,
):
    first = make_song("First", album=make_album(image=True))
    playlist = make_playlist(user, songs=[first, make_song("Second")])

    # The caller; in two savepoints the locked row, the image it may replace and the update;
    # then the playlist read back as a GET reads it (one query).
    with django_assert_num_queries(9):
        patched = auth_client.patch(playlist_url(playlist.pk), **request_kwargs)
    fetched = auth_client.get(playlist_url(playlist.pk))

    assert (patched.status_code, fetched.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert patched.json() == fetched.json()
    assert patched.json()["song_count"] == 2
    assert patched.json()["image_url"] is not None  # the upload, or the first song's cover


def test_the_schema_counts_nothing_itself(user, make_playlist, django_assert_num_queries):
    """A playlist not read through with_summary fails loudly, rather than querying."""
    bare = Playlist.objects.select_related("owner").get(pk=make_playlist(user).pk)

    with django_assert_num_queries(0), pytest.raises(AttributeError, match="first_cover"):
        PlaylistOut.model_validate(bare)


# --- Anonymous callers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", PLAYLISTS, None),
        ("get", f"{PLAYLISTS}?owner=1", None),
        ("post", PLAYLISTS, {"name": "x"}),
        ("patch", "{playlist}", {"name": "x"}),
        ("delete", "{playlist}", None),
        ("post", "{playlist}songs/", {"song_id": 1}),
        ("delete", "{playlist}songs/0/", None),
        ("post", "{playlist}songs/move/", {"from_position": 0, "to_position": 0}),
    ],
)
def test_user_routes_refuse_anonymous_callers(
    client: Client, user, make_playlist, make_song, method, path, body
):
    playlist = make_playlist(user, is_public=True, songs=[make_song()])
    before = list(playlist.items.values_list("position", "song_id"))
    path = path.format(playlist=playlist_url(playlist.pk))

    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = getattr(client, method)(path, **kwargs)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": AUTHENTICATION_REQUIRED}
    assert list(Playlist.objects.values_list("pk", "name")) == [(playlist.pk, "Road Trip")]
    assert list(playlist.items.values_list("position", "song_id")) == before


# --- Reading ----------------------------------------------------------------------------


def test_list_has_your_playlists_newest_first_and_nobody_elses(
    auth_client: Client, user, make_user, make_playlist
):
    older = make_playlist(user, "Older")
    newer = make_playlist(user, "Newer", is_public=True)
    make_playlist(make_user(), "Theirs", is_public=True)

    response = auth_client.get(PLAYLISTS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "items": [
            playlist_out(newer, song_count=0, duration=0),
            playlist_out(older, song_count=0, duration=0),
        ],
        "count": 2,
        "next": None,
    }


def test_owner_lists_that_users_public_playlists_only(
    auth_client: Client, user, make_user, make_playlist, make_song
):
    other = make_user(full_name="Bo Other")
    song = make_song()
    public = make_playlist(other, "Public", is_public=True, songs=[song, song])
    make_playlist(other, "Private")
    make_playlist(user, "Mine", is_public=True)

    response = auth_client.get(f"{PLAYLISTS}?owner={other.pk}")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "items": [playlist_out(public, song_count=2, duration=2 * song.duration)],
        "count": 1,
        "next": None,
    }


def test_owner_set_to_yourself_lists_your_public_ones(auth_client: Client, user, make_playlist):
    public = make_playlist(user, "Public", is_public=True)
    make_playlist(user, "Private")

    response = auth_client.get(f"{PLAYLISTS}?owner={user.pk}")

    assert response.json()["items"] == [playlist_out(public, song_count=0, duration=0)]


def test_owner_naming_nobody_is_an_empty_page(auth_client: Client):
    response = auth_client.get(f"{PLAYLISTS}?owner=999")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"items": [], "count": 0, "next": None}


@pytest.mark.parametrize("owner", ["0", "abc", str(2**63)])
def test_a_bad_owner_is_a_422(auth_client: Client, owner):
    response = auth_client.get(f"{PLAYLISTS}?owner={owner}")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["query", "owner"]


def test_get_shows_your_private_playlist_with_its_totals_and_first_cover(
    auth_client: Client, user, make_playlist, make_song, make_album
):
    album = make_album(image=True)
    first = make_song("First", album=album)
    second = make_song("Second", image=True)
    playlist = make_playlist(user, songs=[first, second])

    response = auth_client.get(playlist_url(playlist.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == playlist_out(
        playlist,
        song_count=2,
        duration=first.duration + second.duration,
        image=album.image.name,  # the first song has no image of its own: its album's
    )


def test_the_first_songs_own_image_comes_before_its_albums(
    auth_client: Client, user, make_playlist, make_song, make_album
):
    song = make_song(album=make_album(image=True), image=True)
    playlist = make_playlist(user, songs=[song])

    response = auth_client.get(playlist_url(playlist.pk))

    assert response.json()["image_url"] == f"http://testserver/media/{song.image.name}"


def test_a_public_playlist_is_readable_by_anyone(
    client: Client, user, make_user, make_playlist, make_song
):
    song = make_song()
    playlist = make_playlist(user, is_public=True, songs=[song])
    expected = playlist_out(playlist, song_count=1, duration=song.duration)

    anonymous = client.get(playlist_url(playlist.pk))
    other = client.get(playlist_url(playlist.pk), headers=bearer(make_user()))

    assert (anonymous.status_code, other.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert anonymous.json() == other.json() == expected


def test_someone_elses_private_playlist_is_a_404(client: Client, user, make_user, make_playlist):
    playlist = make_playlist(user)

    anonymous = client.get(playlist_url(playlist.pk))
    other = client.get(playlist_url(playlist.pk), headers=bearer(make_user()))
    unknown = client.get(playlist_url(playlist.pk + 1), headers=bearer(user))

    for response in (anonymous, other, unknown):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": PLAYLIST_NOT_FOUND}


def test_the_list_costs_the_same_queries_for_2_or_20_playlists(
    auth_client: Client, user, make_playlist, make_song, make_album
):
    songs = [make_song("With album", album=make_album(image=True)), make_song("Own", image=True)]

    def queries_for(count: int) -> int:
        Playlist.objects.all().delete()
        for number in range(count):
            make_playlist(user, f"P{number}", songs=songs[number % 2 :])
        with CaptureQueriesContext(connection) as queries:
            response = auth_client.get(f"{PLAYLISTS}?limit=50")
        assert response.status_code == HTTPStatus.OK
        assert len(response.json()["items"]) == count
        return len(queries)

    # The caller, then the page with its counts, durations and covers as subqueries.
    assert queries_for(2) == queries_for(20) == 2


# --- Update -----------------------------------------------------------------------------


def test_patch_with_json_changes_the_fields_sent(auth_client: Client, user, make_playlist):
    playlist = make_playlist(user, description="Old")
    before = playlist.updated_at

    response = auth_client.patch(
        playlist_url(playlist.pk), {"name": "New", "is_public": True}, "application/json"
    )

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.OK
    assert response.json() == playlist_out(playlist, song_count=0, duration=0)
    assert (playlist.name, playlist.description, playlist.is_public) == ("New", "Old", True)
    assert playlist.updated_at > before


@pytest.mark.parametrize("flag", [0, "true"])
def test_patch_with_json_takes_visibility_only_as_a_boolean(
    auth_client: Client, user, make_playlist, flag
):
    playlist = make_playlist(user, "Kept", is_public=True)

    response = auth_client.patch(
        playlist_url(playlist.pk), {"name": "New", "is_public": flag}, "application/json"
    )

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [(item["loc"], item["type"]) for item in response.json()["detail"]] == [
        (["body", "is_public"], "bool_type")
    ]
    assert (playlist.name, playlist.is_public) == ("Kept", True)


def test_patch_with_multipart_stores_an_image_and_replaces_it(
    auth_client: Client, user, make_playlist, settings, django_capture_on_commit_callbacks
):
    playlist = make_playlist(user)

    first = auth_client.patch(
        playlist_url(playlist.pk),
        **multipart({"image_file": upload("mine.png", png_bytes()), "is_public": "true"}),
    )
    playlist.refresh_from_db()
    first_name = playlist.image.name
    with django_capture_on_commit_callbacks(execute=True):
        second = auth_client.patch(
            playlist_url(playlist.pk),
            **multipart({"image_file": upload("other.png", png_bytes(color="green"))}),
        )
    playlist.refresh_from_db()

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert first_name.startswith("playlist_images/")
    assert second.json() == playlist_out(
        playlist, song_count=0, duration=0, image=playlist.image.name
    )
    assert playlist.is_public is True
    assert playlist.image_original_name == "other.png"
    # The first image was deleted once the second was saved.
    assert stored_names(settings) == {playlist.image.name}


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"image_file": None}, "content_type": "application/json"},
        multipart({"image_file": "null"}),
    ],
)
def test_patch_removes_the_image_with_null(
    auth_client: Client,
    user,
    make_playlist,
    make_song,
    settings,
    request_kwargs,
    django_capture_on_commit_callbacks,
):
    song = make_song(image=True)
    playlist = make_playlist(user, songs=[song])
    auth_client.patch(
        playlist_url(playlist.pk), **multipart({"image_file": upload("p.png", png_bytes())})
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(playlist_url(playlist.pk), **request_kwargs)

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.OK
    # Back to the first song's cover.
    assert response.json() == playlist_out(
        playlist, song_count=1, duration=song.duration, image=song.image.name
    )
    assert (playlist.image.name, playlist.image_original_name) == ("", "")
    assert stored_names(settings) == {song.audio.name, song.image.name}


def test_a_bad_image_is_a_422_and_stores_nothing(
    auth_client: Client, user, make_playlist, settings
):
    playlist = make_playlist(user)

    response = auth_client.patch(
        playlist_url(playlist.pk),
        **multipart({"name": "New", "image_file": upload("p.png", b"<html>no</html>")}),
    )

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "detail": [
            {"loc": ["body", "image_file"], "msg": IMAGE_NOT_READABLE, "type": "value_error"}
        ]
    }
    assert (playlist.name, playlist.image.name) == ("Road Trip", "")
    assert stored_files(settings) == []


def test_an_oversized_image_is_a_413_and_stores_nothing(
    auth_client: Client, user, make_playlist, settings
):
    settings.IMAGE_MAX_BYTES = 1024 * 1024
    big = png_bytes(size=(1200, 1200))
    big += b"\0" * (settings.IMAGE_MAX_BYTES + 1 - len(big))
    playlist = make_playlist(user)

    response = auth_client.patch(
        playlist_url(playlist.pk), **multipart({"image_file": upload("big.png", big)})
    )

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": file_too_large_message(settings.IMAGE_MAX_BYTES)}
    assert playlist.image.name == ""
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 101}, "name"),
        ({"name": " "}, "name"),
        ({"name": None}, "name"),
        ({"is_public": None}, "is_public"),
    ],
)
def test_patch_refuses_bad_fields(auth_client: Client, user, make_playlist, body, field):
    playlist = make_playlist(user)

    response = auth_client.patch(playlist_url(playlist.pk), body, "application/json")

    playlist.refresh_from_db()
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert (playlist.name, playlist.is_public) == ("Road Trip", False)


# --- Delete -----------------------------------------------------------------------------


def test_delete_removes_the_playlist_its_items_and_its_image(
    auth_client: Client,
    user,
    make_playlist,
    make_song,
    settings,
    django_capture_on_commit_callbacks,
):
    song = make_song()
    playlist = make_playlist(user, songs=[song])
    auth_client.patch(
        playlist_url(playlist.pk), **multipart({"image_file": upload("p.png", png_bytes())})
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(playlist_url(playlist.pk))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert not Playlist.objects.exists()
    assert not song.playlist_items.exists()
    assert stored_names(settings) == {song.audio.name}


# --- Someone else's playlist ------------------------------------------------------------


WRITES = [
    ("patch", "", {"name": "Mine now"}),
    ("delete", "", None),
    ("post", "songs/", {"song_id": "{song}"}),
    ("delete", "songs/0/", None),
    ("post", "songs/move/", {"from_position": 0, "to_position": 1}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
@pytest.mark.parametrize("is_public", [True, False])
def test_writes_to_someone_elses_playlist_are_403_if_public_404_if_private(
    client: Client, user, make_user, make_playlist, make_song, method, suffix, body, is_public
):
    song = make_song()
    playlist = make_playlist(make_user(), is_public=is_public, songs=[song, make_song("Two")])
    before = list(playlist.items.values_list("position", "song_id"))
    if body is not None:
        body = {key: song.pk if value == "{song}" else value for key, value in body.items()}

    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = getattr(client, method)(
        playlist_url(playlist.pk) + suffix, headers=bearer(user), **kwargs
    )

    if is_public:
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json() == {"detail": NOT_YOUR_PLAYLIST}
    else:
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": PLAYLIST_NOT_FOUND}
    stored = Playlist.objects.get()
    assert (stored.name, stored.updated_at) == ("Road Trip", playlist.updated_at)
    assert list(playlist.items.values_list("position", "song_id")) == before


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_writes_to_an_unknown_playlist_are_404(
    auth_client: Client, make_song, method, suffix, body
):
    song = make_song()
    if body is not None:
        body = {key: song.pk if value == "{song}" else value for key, value in body.items()}

    kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = getattr(auth_client, method)(playlist_url(99) + suffix, **kwargs)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": PLAYLIST_NOT_FOUND}
