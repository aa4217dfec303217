"""Files on disk and in an S3-compatible bucket (moto's server over HTTP), through the API.

Every test in the first part runs on both backends (`media_backend`); with the bucket the
stream is proxied through the app. The redirect mode, the object headers and the settings
are bucket-only.
"""

from http import HTTPStatus
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.utils.functional import empty

from catalog import services
from catalog.audio import verify_stored_audio
from catalog.models import Song
from catalog.streaming import RANGE_NOT_SATISFIABLE, REDIRECT_CACHE_CONTROL
from core.errors import Invalid
from core.files.object_storage import IMMUTABLE_CACHE_CONTROL, BucketStorage
from tests.helpers import asgi_request, multipart, run_project_python
from tests.media_samples import audio_bytes, png_bytes, upload, wav_bytes
from tests.object_storage import cleanup_media, use_bucket

pytestmark = pytest.mark.django_db

SONGS = "/api/songs/"


def stream_url(song_id: int) -> str:
    return f"/api/songs/{song_id}/stream/"


def create_song(admin_client, *, audio: bytes | None = None, image: bool = True) -> dict:
    data = {"title": "Sine", "artist": "Lab", "audio_file": upload("a.wav", audio or wav_bytes())}
    if image:
        data["image_file"] = upload("art.png", png_bytes())
    response = admin_client.post(SONGS, data)
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()


def test_upload_stream_replace_and_delete_keep_the_files_in_step(
    media_backend, admin_client, django_capture_on_commit_callbacks
):
    audio = wav_bytes(2.0)
    created = create_song(admin_client, audio=audio)
    song = Song.objects.get(pk=created["id"])
    assert media_backend.names() == sorted([song.audio.name, song.image.name])

    whole, body = asgi_request("GET", stream_url(song.pk))
    ranged, part = asgi_request("GET", stream_url(song.pk), headers={"Range": "bytes=10-19"})
    suffix, tail = asgi_request("GET", stream_url(song.pk), headers={"Range": "bytes=-7"})
    beyond, _ = asgi_request("GET", stream_url(song.pk), headers={"Range": f"bytes={len(audio)}-"})
    same, _ = asgi_request("GET", stream_url(song.pk), headers={"If-None-Match": whole["ETag"]})
    head, head_body = asgi_request("HEAD", stream_url(song.pk))

    assert whole.status_code == HTTPStatus.OK
    assert body == audio
    assert whole["Content-Type"] == "audio/wav"
    assert ranged.status_code == HTTPStatus.PARTIAL_CONTENT
    assert part == audio[10:20]
    assert ranged["Content-Range"] == f"bytes 10-19/{len(audio)}"
    assert suffix.status_code == HTTPStatus.PARTIAL_CONTENT
    assert tail == audio[-7:]
    assert beyond.status_code == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
    assert beyond["Content-Range"] == f"bytes */{len(audio)}"
    assert beyond.json() == {"detail": RANGE_NOT_SATISFIABLE}
    assert same.status_code == HTTPStatus.NOT_MODIFIED
    assert head.status_code == HTTPStatus.OK
    assert head_body == b""
    assert head["Content-Length"] == str(len(audio))
    assert head["ETag"] == whole["ETag"]

    old_audio = song.audio.name
    with django_capture_on_commit_callbacks(execute=True):
        replaced = admin_client.patch(
            f"{SONGS}{song.pk}/",
            **multipart({"audio_file": upload("n.mp3", audio_bytes("tone.mp3"))}),
        )
    assert replaced.status_code == HTTPStatus.OK
    song.refresh_from_db()
    assert song.audio.name != old_audio
    assert media_backend.names() == sorted([song.audio.name, song.image.name])
    after, new_body = asgi_request("GET", stream_url(song.pk))
    assert after["ETag"] != whole["ETag"]
    assert after["Content-Type"] == "audio/mpeg"
    assert new_body == audio_bytes("tone.mp3")

    with django_capture_on_commit_callbacks(execute=True):
        deleted = admin_client.delete(f"{SONGS}{song.pk}/")
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert media_backend.names() == []


def test_an_upload_failing_its_check_leaves_no_file(media_backend, admin_client):
    response = admin_client.post(
        SONGS, {"title": "T", "artist": "A", "audio_file": upload("x.mp3", b"not audio" * 100)}
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert media_backend.names() == []


def test_a_save_failing_after_the_files_were_stored_removes_them(media_backend, monkeypatch):
    def fail(*args, **kwargs):
        raise DatabaseError("the insert failed")

    monkeypatch.setattr(Song, "_do_insert", fail)

    with pytest.raises(DatabaseError):
        services.song_create(
            title="T",
            artist="A",
            audio_file=upload("a.wav", wav_bytes()),
            image_file=upload("art.png", png_bytes()),
        )

    assert media_backend.names() == []


def test_a_missing_file_is_404_on_both_backends(media_backend, admin_client):
    created = create_song(admin_client, image=False)
    media_backend.remove(Song.objects.get(pk=created["id"]).audio.name)

    response, _ = asgi_request("GET", stream_url(created["id"]))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "The audio file of this song is missing."}


def test_a_bulk_load_checks_audio_already_in_storage(media_backend):
    media_backend.put("songs/loaded.wav", wav_bytes(2.0))

    name, verified = verify_stored_audio("loaded.wav")

    assert name == "songs/loaded.wav"
    assert verified.duration == 2
    assert verified.content_type == "audio/wav"
    with pytest.raises(Invalid):
        verify_stored_audio("absent.wav")


# --- Bucket only ----------------------------------------------------------------------


@pytest.fixture
def bucket(settings, moto_endpoint):
    return use_bucket(settings, moto_endpoint)


def test_the_settings_build_the_bucket_storage(bucket):
    assert default_storage._wrapped is empty  # dropped when STORAGES changed
    name = default_storage.save("probe/x.png", upload("x.png", png_bytes()))

    assert isinstance(default_storage._wrapped, BucketStorage)
    assert bucket.names() == [name]


def test_objects_get_their_real_type_inline_disposition_and_immutable_caching(bucket, admin_client):
    created = create_song(admin_client)
    song = Song.objects.get(pk=created["id"])

    audio, image = bucket.head(song.audio.name), bucket.head(song.image.name)
    acl = bucket.client.get_object_acl(Bucket=bucket.bucket, Key=f"media/{song.audio.name}")

    # The client sent application/octet-stream: the stored type comes from the bytes.
    assert audio["ContentType"] == "audio/wav"
    assert image["ContentType"] == "image/png"
    for head in (audio, image):
        assert head["ContentDisposition"] == "inline"
        assert head["CacheControl"] == IMMUTABLE_CACHE_CONTROL
    # Private: the owner alone is granted anything, no AllUsers or AuthenticatedUsers grant.
    grantees = [grant["Grantee"].get("URI", "owner") for grant in acl["Grants"]]
    assert grantees == ["owner"]


def test_image_urls_are_presigned_and_absolute(bucket, admin_client, client):
    created = create_song(admin_client)

    url = client.get(f"{SONGS}{created['id']}/").json()["image_url"]

    assert url.startswith(f"{bucket.endpoint}/{bucket.bucket}/media/song_images/")
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=300" in url
    fetched = httpx.get(url)
    assert fetched.status_code == HTTPStatus.OK
    assert fetched.content == png_bytes()


def test_image_urls_are_public_with_media_public_url(settings, moto_endpoint, admin_client, client):
    use_bucket(settings, moto_endpoint, public_url="https://cdn.example.com/")
    created = create_song(admin_client)
    song = Song.objects.get(pk=created["id"])

    url = client.get(f"{SONGS}{created['id']}/").json()["image_url"]

    assert url == f"https://cdn.example.com/media/{song.image.name}"


def test_redirect_mode_sends_the_player_to_a_presigned_url_that_answers_ranges(
    bucket, admin_client, settings
):
    settings.MEDIA_STREAM_MODE = "redirect"
    audio = wav_bytes(2.0)
    created = create_song(admin_client, audio=audio, image=False)

    response, _ = asgi_request("GET", stream_url(created["id"]), headers={"Range": "bytes=4-11"})
    head, _ = asgi_request("HEAD", stream_url(created["id"]))
    unknown, _ = asgi_request("GET", stream_url(999))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Cache-Control"] == REDIRECT_CACHE_CONTROL
    location = response["Location"]
    assert urlsplit(location).netloc == urlsplit(bucket.endpoint).netloc
    assert "X-Amz-Expires=300" in location
    ranged = httpx.get(location, headers={"Range": "bytes=4-11"})
    assert ranged.status_code == HTTPStatus.PARTIAL_CONTENT
    assert ranged.content == audio[4:12]
    assert ranged.headers["Content-Type"] == "audio/wav"
    assert ranged.headers["Content-Range"] == f"bytes 4-11/{len(audio)}"
    whole = httpx.get(location)
    assert whole.status_code == HTTPStatus.OK
    assert whole.content == audio
    assert head.status_code == HTTPStatus.FOUND
    assert httpx.head(head["Location"]).status_code == HTTPStatus.OK
    assert unknown.status_code == HTTPStatus.NOT_FOUND


def test_proxy_mode_reads_ranges_a_chunk_at_a_time(bucket, admin_client, settings):
    from catalog.streaming import CHUNK_SIZE

    settings.MEDIA_STREAM_MODE = "proxy"
    audio = wav_bytes(8.0)
    assert len(audio) > 3 * CHUNK_SIZE
    created = create_song(admin_client, audio=audio, image=False)

    response = admin_client.get(stream_url(created["id"]), headers={"Range": "bytes=100-"})

    assert response.status_code == HTTPStatus.PARTIAL_CONTENT
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == audio[100:]
    assert len(chunks) > 1
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)


# --- cleanup_media --------------------------------------------------------------------


def test_cleanup_media_lists_orphans_and_missing_files_then_deletes_the_orphans(
    media_backend, admin_client
):
    kept = Song.objects.get(pk=create_song(admin_client)["id"])
    broken = Song.objects.get(pk=create_song(admin_client, image=False)["id"])
    media_backend.remove(broken.audio.name)
    media_backend.put("songs/orphan.wav", wav_bytes())
    media_backend.put("song_images/stray.png", png_bytes())
    media_backend.put("elsewhere/not-ours.txt", b"left alone")
    before = media_backend.names()

    dry_run = cleanup_media("--older-than", "0")

    assert media_backend.names() == before
    assert dry_run[:-1] == [
        "orphan song_images/stray.png",
        "orphan songs/orphan.wav",
        f"missing {broken.audio.name} (catalog.Song {broken.pk} audio)",
    ]
    assert dry_run[-1].startswith("2 orphaned files found (dry run")
    assert dry_run[-1].endswith(
        "1 rows with a missing file; 0 pending deletions found; 0 incomplete uploads found."
    )

    deleted = cleanup_media("--older-than", "0", "--delete")

    assert deleted[:2] == [
        "deleted orphan song_images/stray.png",
        "deleted orphan songs/orphan.wav",
    ]
    assert media_backend.names() == sorted(
        [kept.audio.name, kept.image.name, "elsewhere/not-ours.txt"]
    )
    assert Song.objects.count() == 2  # rows are never deleted
    assert cleanup_media("--older-than", "0")[:-1] == [
        f"missing {broken.audio.name} (catalog.Song {broken.pk} audio)"
    ]


def test_cleanup_media_leaves_recent_files_alone_by_default(media_backend):
    media_backend.put("songs/in-flight.wav", wav_bytes())

    output = cleanup_media("--delete")

    assert media_backend.names() == ["songs/in-flight.wav"]
    assert output[-1].startswith("0 orphaned files deleted")


# --- Settings -------------------------------------------------------------------------

SHOW_STORAGE = (
    "import django; django.setup();"
    "from django.core.files.storage import default_storage as s;"
    "s._setup(); w = s._wrapped;"
    "print(type(w).__name__, w.bucket_name, w.location, w.endpoint_url, w.region_name,"
    " w.default_acl, w.querystring_expire, repr(w.public_url))"
)


def test_storage_bucket_selects_the_bucket_backend_and_without_it_the_disk():
    key = "a-long-enough-development-key-for-this-settings-test-only-0123456789"
    bucket = run_project_python(
        SHOW_STORAGE,
        DEBUG="True",
        SECRET_KEY=key,
        STORAGE_BUCKET="music-media",
        STORAGE_ENDPOINT_URL="http://127.0.0.1:9000",
        STORAGE_REGION="eu-west-1",
        STORAGE_PREFIX="/media/",
        MEDIA_URL_EXPIRY_SECONDS="120",
    )
    disk = run_project_python(
        "import django; django.setup();"
        "from django.core.files.storage import default_storage as s; s._setup();"
        "print(type(s._wrapped).__name__)",
        DEBUG="True",
        SECRET_KEY=key,
        STORAGE_BUCKET="",
    )
    bad_mode = run_project_python(
        "import django; django.setup()", DEBUG="True", SECRET_KEY=key, MEDIA_STREAM_MODE="copy"
    )

    assert bucket.stdout.split() == [
        "BucketStorage",
        "music-media",
        "media",
        "http://127.0.0.1:9000",
        "eu-west-1",
        "None",  # no ACL: the bucket stays private
        "120",
        "''",
    ]
    assert disk.stdout.strip() == "FileSystemStorage"
    assert bad_mode.returncode == 1
    assert bad_mode.stderr.strip() == 'Set MEDIA_STREAM_MODE to "redirect" or "proxy".'
