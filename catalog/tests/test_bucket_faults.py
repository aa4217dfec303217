"""A bucket that is down, stuck or cut off midway: 503 with Retry-After, and nothing lost.

The bucket is moto's S3 server over HTTP, reached through a real TCP proxy
(catalog/tests/fault_proxy.py) that refuses connections, swallows requests without answering,
or resets a connection midway through an upload. What the app stored is checked behind its
back, on moto directly. The storage's timeouts are 1 s and 2 attempts here (3 s, 5 s and 2 in
production), so a stuck bucket answers 503 in seconds.
"""

import time
from http import HTTPStatus

import httpx
import pytest
from django.core.management import CommandError
from django.urls import reverse

from catalog.models import Album, Song
from catalog.tests.fault_proxy import fault_proxy
from config.api import STORAGE_UNAVAILABLE
from config.settings import bucket_storage
from core.errors import RETRY_AFTER_SECONDS
from core.models import PendingFileDeletion
from tests import live_servers as live
from tests.helpers import asgi_request, bearer, credited, multipart, run_project_python
from tests.media_samples import png_bytes, upload, wav_bytes
from tests.object_storage import (
    ACCESS_KEY,
    PREFIX,
    REGION,
    SECRET_KEY,
    MediaBackend,
    cleanup_media,
    s3_client,
    use_bucket,
)

pytestmark = pytest.mark.django_db

# The live-server fixture of the messaging tests: a database this process and gunicorn share.

SONGS = "/api/songs/"
TIMEOUTS = {"connect_timeout": 1, "read_timeout": 1, "max_attempts": 2}
# A stuck bucket must answer well before a gunicorn worker would be killed (30 s); with the
# test timeouts a call gives up after about 2 s (2 attempts of 1 s, and a backoff under 1 s).
STUCK_ANSWER_SECONDS = 15
GUNICORN_TIMEOUT = 30  # deploy/gunicorn.conf.py's default worker timeout
# Past boto3's multipart threshold (8 MiB): uploaded in parts.
MULTIPART_AUDIO_SECONDS = 300


@pytest.fixture
def proxy(moto_endpoint):
    with fault_proxy(moto_endpoint) as proxy:
        yield proxy


@pytest.fixture
def bucket(settings, proxy, moto_endpoint) -> MediaBackend:
    """The app's storage on a new bucket through the proxy; the backend looks at moto directly."""
    backend = use_bucket(settings, proxy.url, **TIMEOUTS)
    backend.client = s3_client(moto_endpoint)
    settings.MEDIA_STREAM_MODE = "proxy"
    return backend


def song_form(audio: bytes | None = None, *, image: bool = True) -> dict:
    data = {"title": "Sine", "artist": "Lab", "audio_file": upload("a.wav", audio or wav_bytes())}
    if image:
        data["image_file"] = upload("art.png", png_bytes())
    return data


def create_song(admin_client, **options) -> Song:
    response = admin_client.post(SONGS, song_form(**options))
    assert response.status_code == HTTPStatus.CREATED, response.content
    return Song.objects.get(pk=response.json()["id"])


def assert_unavailable(response) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": STORAGE_UNAVAILABLE}


def incomplete_uploads(bucket: MediaBackend) -> list[str]:
    listing = bucket.client.list_multipart_uploads(Bucket=bucket.bucket)
    return [upload["Key"] for upload in listing.get("Uploads", ())]


# --- Upload ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["refuse", "hang"])
def test_an_upload_to_a_bucket_away_answers_503_and_writes_nothing(
    bucket, proxy, admin_client, fault
):
    getattr(proxy, fault)()
    started = time.monotonic()

    response = admin_client.post(SONGS, song_form())

    assert time.monotonic() - started < STUCK_ANSWER_SECONDS
    assert_unavailable(response)
    assert not Song.objects.exists()
    assert bucket.names() == []


def test_a_failed_replacement_keeps_the_song_and_its_file(bucket, proxy, admin_client):
    song = create_song(admin_client, image=False)
    proxy.refuse()

    response = admin_client.patch(
        f"{SONGS}{song.pk}/", **multipart({"audio_file": upload("b.wav", wav_bytes(3.0))})
    )

    assert_unavailable(response)
    kept = Song.objects.get(pk=song.pk)
    assert (kept.audio.name, kept.duration) == (song.audio.name, song.duration)
    assert bucket.names() == [song.audio.name]


def test_a_multipart_upload_cut_midway_is_aborted(bucket, proxy, admin_client):
    audio = wav_bytes(MULTIPART_AUDIO_SECONDS)
    assert len(audio) > 8 * 1024 * 1024
    proxy.cut_after(1024 * 1024)  # every part dies after 1 MiB; small requests pass

    response = admin_client.post(SONGS, song_form(audio, image=False))

    assert_unavailable(response)
    assert proxy.cuts >= 1
    assert not Song.objects.exists()
    assert incomplete_uploads(bucket) == []  # boto3 aborted it
    assert bucket.names() == []


def test_an_upload_cut_off_for_good_is_aborted_by_cleanup_media(bucket, proxy, admin_client):
    proxy.cut_after(1024 * 1024, then="refuse")  # the bucket goes down midway and stays down

    response = admin_client.post(SONGS, song_form(wav_bytes(MULTIPART_AUDIO_SECONDS)))

    assert_unavailable(response)
    assert not Song.objects.exists()
    proxy.relay()
    left = incomplete_uploads(bucket)
    assert len(left) == 1  # the abort could not reach the bucket
    assert left[0].startswith(f"{PREFIX}/songs/")

    dry_run = cleanup_media("--older-than", "0")
    assert f"incomplete upload {left[0]}" in dry_run
    assert incomplete_uploads(bucket) == left

    done = cleanup_media("--older-than", "0", "--delete")

    assert f"aborted incomplete upload {left[0]}" in done
    assert incomplete_uploads(bucket) == []
    assert bucket.names() == []


# --- Stream ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["refuse", "hang"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_stream_from_a_bucket_away_answers_503(bucket, proxy, admin_client, fault, method):
    song = create_song(admin_client, image=False)
    getattr(proxy, fault)()
    started = time.monotonic()

    response, _ = asgi_request(method, f"{SONGS}{song.pk}/stream/")

    assert time.monotonic() - started < STUCK_ANSWER_SECONDS
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_a_redirect_whose_credentials_cannot_be_fetched_answers_503(
    settings, proxy, moto_endpoint, monkeypatch, tmp_path
):
    """In redirect mode the app never reaches the bucket (the player does); what it needs is
    credentials to sign with, which an instance role or a container fetches from a server."""
    client = s3_client(moto_endpoint)
    client.create_bucket(Bucket="media-redirect")
    song = Song.objects.create(
        title="T", **credited("A"), duration=1, audio="songs/x.wav"
    )  # the object itself is never looked up in this mode
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # The container's credentials server (ECS, EKS pod identity) is down.
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{proxy.url}/credentials")
    proxy.refuse()
    settings.MEDIA_STREAM_MODE = "redirect"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": bucket_storage(
            "media-redirect", endpoint_url=moto_endpoint, region_name=REGION, **TIMEOUTS
        ),
    }

    response, _ = asgi_request("GET", f"{SONGS}{song.pk}/stream/")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


# --- Delete ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["refuse", "hang"])
def test_a_delete_with_the_bucket_away_answers_204_and_cleanup_media_removes_the_files(
    bucket, proxy, admin_client, django_capture_on_commit_callbacks, fault
):
    song = create_song(admin_client)
    names = sorted([song.audio.name, song.image.name])
    getattr(proxy, fault)()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"{SONGS}{song.pk}/")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Song.objects.filter(pk=song.pk).exists()
    assert sorted(PendingFileDeletion.objects.values_list("name", flat=True)) == names
    assert bucket.names() == names  # still there: the bucket did not answer

    with pytest.raises(CommandError, match="file storage is unavailable"):
        cleanup_media("--delete")
    assert PendingFileDeletion.objects.count() == 2

    proxy.relay()
    assert cleanup_media() == [
        *(f"pending deletion {name}" for name in names),
        "0 orphaned files found (dry run: --delete removes them); 0 rows with a missing file; "
        "2 pending deletions found; 0 incomplete uploads found.",
    ]
    done = cleanup_media("--delete")

    assert done[:2] == [f"deleted pending {name}" for name in names]
    assert bucket.names() == []
    assert not PendingFileDeletion.objects.exists()


def test_an_album_delete_with_the_bucket_stuck_tries_once_and_leaves_the_rest(
    bucket, proxy, admin_client, django_capture_on_commit_callbacks
):
    album = Album.objects.create(title="LP", **credited("Lab"))
    songs = [create_song(admin_client) for _ in range(3)]
    Song.objects.filter(pk__in=[song.pk for song in songs]).update(album=album)
    names = sorted(name for song in songs for name in (song.audio.name, song.image.name))
    proxy.hang()
    started = time.monotonic()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/albums/{album.pk}/")

    # Six files, but one wait: after the first gives up the rest are recorded untried.
    assert time.monotonic() - started < STUCK_ANSWER_SECONDS
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Song.objects.exists()
    assert sorted(PendingFileDeletion.objects.values_list("name", flat=True)) == names

    proxy.relay()
    cleanup_media("--delete")

    assert bucket.names() == []
    assert not PendingFileDeletion.objects.exists()


def test_a_pending_file_a_row_refers_to_again_is_kept(bucket, admin_client):
    song = create_song(admin_client, image=False)
    PendingFileDeletion.objects.create(name=song.audio.name)

    output = cleanup_media("--delete")

    assert output[0] == f"kept {song.audio.name}: a row refers to it"
    assert bucket.names() == [song.audio.name]
    assert not PendingFileDeletion.objects.exists()


# --- Admin ----------------------------------------------------------------------------


def test_the_admin_says_the_storage_is_unavailable_and_saves_nothing(bucket, proxy, staff_client):
    proxy.refuse()

    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {"title": "Tone", "artist_name": "Sine", "audio": upload("a.wav", wav_bytes())},
    )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert "The file storage is unavailable right now" in page
    assert f'href="{reverse("admin:catalog_song_add")}"' in page
    assert not Song.objects.exists()
    assert bucket.names() == []


# --- Settings -------------------------------------------------------------------------


def test_the_client_has_bounded_timeouts_and_attempts(settings, moto_endpoint):
    from django.core.files.storage import default_storage

    settings.STORAGE_CONNECT_TIMEOUT, settings.STORAGE_READ_TIMEOUT = 2.5, 4
    settings.STORAGE_MAX_ATTEMPTS = 3
    settings.STORAGES = {
        **settings.STORAGES,
        "default": bucket_storage(
            "any",
            endpoint_url=moto_endpoint,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            region_name=REGION,
        ),
    }

    config = default_storage.client.meta.config

    assert (config.connect_timeout, config.read_timeout) == (2.5, 4)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.s3 == {"addressing_style": "path"}  # what django-storages set is kept


SHOW_CLIENT_CONFIG = (
    "import django; django.setup();"
    "from django.core.files.storage import default_storage as s;"
    "c = s.client.meta.config;"
    "print(c.connect_timeout, c.read_timeout, c.retries['total_max_attempts'])"
)


def test_the_timeouts_come_from_the_environment_with_bounded_defaults():
    bucket = {
        "DEBUG": "True",
        "SECRET_KEY": "a-long-enough-development-key-for-this-settings-test-only-0123456789",
        "STORAGE_BUCKET": "music-media",
        "STORAGE_ENDPOINT_URL": "http://127.0.0.1:9",
        "STORAGE_ACCESS_KEY_ID": "key",
        "STORAGE_SECRET_ACCESS_KEY": "secret",
        "STORAGE_REGION": REGION,
    }
    defaults = run_project_python(SHOW_CLIENT_CONFIG, **bucket)
    chosen = run_project_python(
        SHOW_CLIENT_CONFIG,
        **bucket,
        STORAGE_CONNECT_TIMEOUT="1.5",
        STORAGE_READ_TIMEOUT="4",
        STORAGE_MAX_ATTEMPTS="3",
    )

    assert defaults.stdout.split() == ["3.0", "5.0", "2"], defaults.stderr
    connect, read, attempts = (float(value) for value in defaults.stdout.split())
    assert attempts * (connect + read) < GUNICORN_TIMEOUT * 0.8
    assert chosen.stdout.split() == ["1.5", "4.0", "3"], chosen.stderr


# --- Under gunicorn, with the production timeouts ---------------------------------------------


@pytest.fixture
def gunicorn_on_faulty_bucket(live_database_url, proxy, moto_endpoint, tmp_path):
    """gunicorn as deployed (deploy/gunicorn.conf.py: sync workers, 30 s worker timeout), its
    bucket behind the proxy, with the default storage timeouts; (server, bucket)."""
    bucket = f"media-gunicorn-{time.monotonic_ns()}"
    s3_client(moto_endpoint).create_bucket(Bucket=bucket)
    env = live.server_env(
        database_url=live_database_url,
        redis_url="",
        env={
            "WEB_CONCURRENCY": "1",
            "GUNICORN_CMD_ARGS": "",
            "GUNICORN_TIMEOUT": str(GUNICORN_TIMEOUT),
            "STORAGE_BUCKET": bucket,
            "STORAGE_ENDPOINT_URL": proxy.url,
            "STORAGE_ACCESS_KEY_ID": ACCESS_KEY,
            "STORAGE_SECRET_ACCESS_KEY": SECRET_KEY,
            "STORAGE_REGION": REGION,
            "STORAGE_PREFIX": PREFIX,
            "MEDIA_STREAM_MODE": "proxy",
            "MEDIA_ACCEL_REDIRECT": "",
        },
    )
    for name in ("STORAGE_CONNECT_TIMEOUT", "STORAGE_READ_TIMEOUT", "STORAGE_MAX_ATTEMPTS"):
        env.pop(name, None)  # the production defaults
    server = live.start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        yield server, bucket
    finally:
        server.stop()
        print(f"--- gunicorn {server.url} ---\n{server.log()}")  # shown when the test failed


@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_503_while_the_bucket_hangs_instead_of_losing_the_worker(
    gunicorn_on_faulty_bucket, proxy, moto_endpoint, admin_user
):
    """A stream, an upload and a multipart upload that gets stuck midway (its parts wait the
    timeouts out, then so does boto3's abort: the longest case) all answer 503 in time."""
    server, bucket = gunicorn_on_faulty_bucket
    headers = bearer(admin_user)
    form = {"title": "Sine", "artist": "Lab"}

    def post_song(audio: bytes) -> httpx.Response:
        files = {"audio_file": ("a.wav", audio, "application/octet-stream")}
        return httpx.post(
            f"{server.url}{SONGS}",
            data=form,
            files=files,
            headers=headers,
            timeout=GUNICORN_TIMEOUT * 2,
        )

    created = post_song(wav_bytes())
    assert created.status_code == HTTPStatus.CREATED, created.text
    stream = f"{server.url}{SONGS}{created.json()['id']}/stream/"
    large = wav_bytes(MULTIPART_AUDIO_SECONDS)

    answers = {}
    for fault, send in (
        (proxy.hang, lambda: httpx.get(stream, timeout=GUNICORN_TIMEOUT * 2)),
        (proxy.hang, lambda: post_song(wav_bytes())),
        (lambda: proxy.stall_after(1024 * 1024), lambda: post_song(large)),
    ):
        proxy.relay()
        fault()
        started = time.monotonic()
        response = send()
        answers[response.request.method, len(answers)] = (response, time.monotonic() - started)

    times = {key: round(seconds, 1) for key, (_, seconds) in answers.items()}
    print(times)  # about 10, 12 and 22 s
    for (_, index), (response, seconds) in answers.items():
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE, (times, response.text)
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert response.json() == {"detail": STORAGE_UNAVAILABLE}
        # Answered by the worker before gunicorn would have killed it: a single call well
        # before; the stuck multipart upload (two waits, and 10 MB sent first) before at least.
        assert seconds < GUNICORN_TIMEOUT * (0.7 if index < 2 else 1), times
    assert proxy.cuts >= 1  # the large upload did get stuck midway (a part or both)
    assert "WORKER TIMEOUT" not in server.log()
    assert Song.objects.count() == 1
    proxy.relay()
    keys = s3_client(moto_endpoint).list_objects_v2(Bucket=bucket).get("KeyCount")
    assert keys == 1
