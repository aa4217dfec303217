"""Two API processes on different ports behave as one service: they share the database, Redis
and an S3-compatible bucket, so whatever one of them does the other sees.

Both processes are real uvicorn servers (`config.asgi:application`) started by the live-server
fixtures of tests/live_servers.py. The bucket is moto's standalone S3 server
(tests/object_storage.py): it runs in a thread of this test process, but it speaks
HTTP on 127.0.0.1, so the servers reach it as they would reach S3, and this process lists
the bucket behind their backs with boto3. Redis is the run's own (`test_redis`,
tests/redis_servers.py), and only keys under this run's prefix are written.
"""

import uuid
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx
import pytest

from catalog.models import Song
from tests import live_servers as live
from tests.live_servers import (
    LiveServer,
    access_token,
    assert_delivered_once,
    post_message,
)
from tests.media_samples import png_bytes, wav_bytes
from tests.object_storage import ACCESS_KEY, PREFIX, REGION, SECRET_KEY, s3_client

# The live-server fixtures of the messaging tests and the S3 server of the catalog tests.

ANSWER_SECONDS = 10
SONGS = "/api/songs/"


class Bucket:
    """A bucket of its own on the moto server, looked at directly with boto3."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.name = f"two-hosts-{uuid.uuid4().hex[:12]}"
        self.client = s3_client(endpoint)
        self.client.create_bucket(Bucket=self.name)

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(entry["Key"] for entry in listing.get("Contents", ()))

    def remove(self) -> None:
        for key in self.keys():
            self.client.delete_object(Bucket=self.name, Key=key)
        self.client.delete_bucket(Bucket=self.name)

    def env(self) -> dict[str, str]:
        """The settings that point a server at this bucket."""
        return {
            "STORAGE_BUCKET": self.name,
            "STORAGE_ENDPOINT_URL": self.endpoint,
            "STORAGE_ACCESS_KEY_ID": ACCESS_KEY,
            "STORAGE_SECRET_ACCESS_KEY": SECRET_KEY,
            "STORAGE_REGION": REGION,
            "STORAGE_PREFIX": PREFIX,
        }


@pytest.fixture
def bucket(moto_endpoint) -> Iterator[Bucket]:
    made = Bucket(moto_endpoint)
    yield made
    made.remove()


def start_two_hosts(
    start_server: live.LiveServers, bucket: Bucket, redis_url: str, *, mode: str
) -> tuple[LiveServer, LiveServer]:
    """Processes A and B, started at once, on the one database, Redis and bucket."""
    env = {**bucket.env(), "MEDIA_STREAM_MODE": mode}
    host_a, host_b = start_server.many(2, redis_url=redis_url, env=env)
    assert urlsplit(host_a.url).port != urlsplit(host_b.url).port
    return host_a, host_b


def upload_song(server: LiveServer, admin, audio: bytes) -> dict:
    response = httpx.post(
        f"{server.url}{SONGS}",
        data={"title": "Two Hosts", "artist": "Lab"},
        files={
            "audio_file": ("take.wav", audio, "application/octet-stream"),
            "image_file": ("art.png", png_bytes(), "application/octet-stream"),
        },
        headers={"Authorization": f"Bearer {access_token(admin)}"},
        timeout=ANSWER_SECONDS,
    )
    assert response.status_code == HTTPStatus.CREATED, response.text
    return response.json()


def stream(server: LiveServer, song_id: int, **headers: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}{SONGS}{song_id}/stream/", headers=headers, timeout=ANSWER_SECONDS
    )


@pytest.mark.parametrize("mode", ["proxy", "redirect"])
def test_a_song_uploaded_on_one_host_streams_and_deletes_on_the_other(
    mode, start_server, bucket, redis_url, admin_user
):
    host_a, host_b = start_two_hosts(start_server, bucket, redis_url, mode=mode)
    audio = wav_bytes(2.0)

    # Uploaded through A: the row is in the shared database, the files in the bucket.
    created = upload_song(host_a, admin_user, audio)
    song = Song.objects.get(pk=created["id"])
    stored = sorted(f"{PREFIX}/{name}" for name in (song.audio.name, song.image.name))
    assert bucket.keys() == stored
    assert created["audio_url"] == f"{host_a.url}{SONGS}{song.pk}/stream/"

    # B knows the song A made, and streams a range of it.
    described = httpx.get(f"{host_b.url}{SONGS}{song.pk}/", timeout=ANSWER_SECONDS)
    assert described.status_code == HTTPStatus.OK, described.text
    assert described.json()["audio_url"] == f"{host_b.url}{SONGS}{song.pk}/stream/"
    ranged = stream(host_b, song.pk, Range="bytes=10-19")
    if mode == "proxy":
        # B reads the range from the bucket and answers it itself.
        assert ranged.status_code == HTTPStatus.PARTIAL_CONTENT, ranged.text
    else:
        # B sends the player to a presigned URL of the bucket, which answers the range.
        assert ranged.status_code == HTTPStatus.FOUND, ranged.text
        location = ranged.headers["location"]
        assert urlsplit(location).netloc == urlsplit(bucket.endpoint).netloc
        assert urlsplit(location).path == f"/{bucket.name}/{PREFIX}/{song.audio.name}"
        assert "X-Amz-Signature=" in location
        ranged = httpx.get(location, headers={"Range": "bytes=10-19"}, timeout=ANSWER_SECONDS)
        assert ranged.status_code == HTTPStatus.PARTIAL_CONTENT, ranged.text
    assert ranged.content == audio[10:20]
    assert ranged.headers["content-range"] == f"bytes 10-19/{len(audio)}"
    assert ranged.headers["content-type"] == "audio/wav"

    # Deleted through B: the row goes, and with it both objects in the bucket.
    deleted = httpx.delete(
        f"{host_b.url}{SONGS}{song.pk}/",
        headers={"Authorization": f"Bearer {access_token(admin_user)}"},
        timeout=ANSWER_SECONDS,
    )
    assert deleted.status_code == HTTPStatus.NO_CONTENT, deleted.text
    assert bucket.keys() == []
    assert not Song.objects.filter(pk=song.pk).exists()

    # A no longer knows it either.
    gone = httpx.get(f"{host_a.url}{SONGS}{song.pk}/", timeout=ANSWER_SECONDS)
    assert gone.status_code == HTTPStatus.NOT_FOUND, gone.text
    assert stream(host_a, song.pk, Range="bytes=10-19").status_code == HTTPStatus.NOT_FOUND


def test_a_message_posted_to_one_host_reaches_a_socket_on_the_other(
    start_server, sockets, bucket, redis_url, make_user
):
    host_a, host_b = start_two_hosts(start_server, bucket, redis_url, mode="proxy")
    ada, bob = make_user(), make_user()
    # Both tabs are on B; the message goes to A.
    ada_tab = sockets.open(host_b, ada, "ada@B")
    bob_tab = sockets.open(host_b, bob, "bob@B")

    # REST on A -> Redis -> B's sockets.
    response = post_message(host_a, sender=ada, receiver=bob, content="From A to B")

    message = assert_delivered_once(sockets, response, sender=ada_tab, receiver=bob_tab)
    assert (message.sender, message.receiver, message.content) == (ada, bob, "From A to B")
