from django.test import Client

from tests.helpers import operations

# Routes that write someone's playlist: not signed in 401, someone else's public playlist
# 403, a private or unknown one 404, a bad id or position 422.
OWNER_WRITE = {"401", "403", "404", "422"}


def test_every_playlist_status_is_documented(client: Client):
    found = operations(client)
    expected = {
        ("GET", "/api/playlists/"): {"200", "401", "422"},
        ("POST", "/api/playlists/"): {"201", "401", "413", "422"},
        ("GET", "/api/playlists/{playlist_id}/"): {"200", "404", "422"},
        ("PATCH", "/api/playlists/{playlist_id}/"): {"200", "413"} | OWNER_WRITE,
        ("DELETE", "/api/playlists/{playlist_id}/"): {"204"} | OWNER_WRITE,
        ("GET", "/api/playlists/{playlist_id}/songs/"): {"200", "404", "422"},
        ("POST", "/api/playlists/{playlist_id}/songs/"): {"201", "413"} | OWNER_WRITE,
        ("DELETE", "/api/playlists/{playlist_id}/songs/{position}/"): {"204"} | OWNER_WRITE,
        ("POST", "/api/playlists/{playlist_id}/songs/move/"): {"204", "413"} | OWNER_WRITE,
    }

    assert {key: set(found[key]["responses"]) for key in expected} == {
        key: statuses | {"503"} for key, statuses in expected.items()
    }
    assert {found[key]["operationId"] for key in expected} == {
        "playlists_list",
        "playlists_create",
        "playlists_get",
        "playlists_update",
        "playlists_delete",
        "playlists_songs_list",
        "playlists_songs_add",
        "playlists_songs_remove",
        "playlists_songs_move",
    }
    assert all(found[key]["tags"] == ["library"] for key in expected)


def test_reading_a_playlist_takes_an_optional_token(client: Client):
    found = operations(client)

    for path in ("/api/playlists/{playlist_id}/", "/api/playlists/{playlist_id}/songs/"):
        assert found[("GET", path)]["security"] == [{"BearerJWT": []}, {}]
    assert found[("GET", "/api/playlists/")]["security"] == [{"BearerJWT": []}]


def test_patch_takes_json_or_multipart_with_an_image(client: Client):
    body = operations(client)[("PATCH", "/api/playlists/{playlist_id}/")]["requestBody"]

    form = body["content"]["multipart/form-data"]["schema"]["properties"]
    json = body["content"]["application/json"]["schema"]["properties"]
    assert set(form) == set(json) == {"name", "description", "is_public", "image_file", "rules"}
    assert form["image_file"] == {"type": "string", "format": "binary"}
    assert json["image_file"]["type"] == "null"
