from django.test import Client

from tests.helpers import operations

ADMIN_WRITE = {"401", "403", "413", "422"}
# A route with an id in its path: unknown is 404, beyond the id range 422.
BY_ID = {"404", "422"}


def test_every_catalog_status_is_documented(client: Client):
    found = operations(client)
    expected = {
        ("GET", "/api/songs/"): {"200", "422"},
        ("POST", "/api/songs/"): {"201", "404"} | ADMIN_WRITE,  # an unknown album_id
        ("GET", "/api/songs/featured/"): {"200"},
        ("GET", "/api/songs/made-for-you/"): {"200"},
        ("GET", "/api/songs/trending/"): {"200"},
        ("GET", "/api/songs/{song_id}/"): {"200"} | BY_ID,
        ("PUT", "/api/songs/{song_id}/"): {"200"} | BY_ID | ADMIN_WRITE,
        ("PATCH", "/api/songs/{song_id}/"): {"200"} | BY_ID | ADMIN_WRITE,
        ("DELETE", "/api/songs/{song_id}/"): {"204", "401", "403"} | BY_ID,
        # 302: to the object, when the files are in a bucket (catalog/streaming.py).
        ("GET", "/api/songs/{song_id}/stream/"): {"200", "206", "302", "304", "416"} | BY_ID,
        ("HEAD", "/api/songs/{song_id}/stream/"): {"200", "302", "304"} | BY_ID,
        ("POST", "/api/songs/{song_id}/plays/"): {"201", "401"} | BY_ID,
        ("GET", "/api/albums/"): {"200", "422"},
        ("POST", "/api/albums/"): {"201"} | ADMIN_WRITE,
        ("GET", "/api/albums/{album_id}/"): {"200"} | BY_ID,
        ("PUT", "/api/albums/{album_id}/"): {"200"} | BY_ID | ADMIN_WRITE,
        ("PATCH", "/api/albums/{album_id}/"): {"200"} | BY_ID | ADMIN_WRITE,
        ("DELETE", "/api/albums/{album_id}/"): {"204", "401", "403"} | BY_ID,
    }

    # Any operation answers 503 while the database is away.
    assert {key: set(found[key]["responses"]) for key in expected} == {
        key: statuses | {"503"} for key, statuses in expected.items()
    }


def test_uploads_and_streams_document_their_content_types(client: Client):
    found = operations(client)

    create = found[("POST", "/api/songs/")]["requestBody"]["content"]["multipart/form-data"]
    assert create["schema"]["required"] == ["title", "artist", "audio_file"]
    for key in [("PUT", "/api/songs/{song_id}/"), ("PATCH", "/api/albums/{album_id}/")]:
        assert set(found[key]["requestBody"]["content"]) == {
            "multipart/form-data",
            "application/json",
        }
    stream = found[("GET", "/api/songs/{song_id}/stream/")]
    assert {"audio/mpeg", "audio/ogg", "audio/flac", "audio/wav", "audio/mp4"} <= set(
        stream["responses"]["206"]["content"]
    )
    assert {"Range", "If-Range", "If-None-Match"} <= {p["name"] for p in stream["parameters"]}
    # Signed in or not: the token is optional there.
    assert found[("GET", "/api/songs/made-for-you/")]["security"] == [{"BearerJWT": []}, {}]
