"""Both kinds of media storage for tests: the disk, and a real S3 endpoint over HTTP.

The bucket is served by moto's standalone server (a Werkzeug server in a thread, on a free
port of 127.0.0.1): boto3 talks HTTP to it exactly as it would to S3, nothing is patched in
process. Each test gets a bucket of its own; `STORAGES` is overridden through the `settings`
fixture, and Django's `setting_changed` handler drops the cached storages
(`django.core.files.storage.storages` and `default_storage._wrapped`) both ways.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from config.settings import bucket_storage
from tests.helpers import run_command
from tests.ports import free_port

REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
PREFIX = "media"
_buckets = count(1)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of an S3 API (moto's server) for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}),
    )


@dataclass
class MediaBackend:
    """Where the test's files are, and how to look at them behind the app's back."""

    kind: str  # "disk" or "bucket"
    root: Path | None = None  # disk
    client: object = None  # bucket
    bucket: str = ""
    endpoint: str = ""

    def names(self) -> list[str]:
        """Every stored name, as a row holds it."""
        if self.kind == "disk":
            return sorted(
                str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()
            )
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(
            entry["Key"].removeprefix(f"{PREFIX}/") for entry in listing.get("Contents", ())
        )

    def put(self, name: str, content: bytes) -> None:
        """Store a file directly, as an operator or a crashed process would have left it."""
        if self.kind == "disk":
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        else:
            self.client.put_object(Bucket=self.bucket, Key=f"{PREFIX}/{name}", Body=content)

    def remove(self, name: str) -> None:
        if self.kind == "disk":
            (self.root / name).unlink()
        else:
            self.client.delete_object(Bucket=self.bucket, Key=f"{PREFIX}/{name}")

    def head(self, name: str) -> dict:
        return self.client.head_object(Bucket=self.bucket, Key=f"{PREFIX}/{name}")


def use_bucket(settings, endpoint: str, **options) -> MediaBackend:
    """Point the default storage at a new bucket of the moto server."""
    client = s3_client(endpoint)
    bucket = f"media-{next(_buckets)}"
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": bucket_storage(
            bucket,
            endpoint_url=endpoint,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            region_name=REGION,
            location=PREFIX,
            **options,
        ),
    }
    return MediaBackend("bucket", client=client, bucket=bucket, endpoint=endpoint)


@pytest.fixture(params=["disk", "bucket"])
def media_backend(request, settings) -> MediaBackend:
    """The test runs once with files on disk and once in a bucket (streamed in proxy mode)."""
    if request.param == "disk":
        return MediaBackend("disk", root=Path(settings.MEDIA_ROOT))
    settings.MEDIA_STREAM_MODE = "proxy"
    return use_bucket(settings, request.getfixturevalue("moto_endpoint"))


def cleanup_media(*arguments: str) -> list[str]:
    """The lines `manage.py cleanup_media` prints."""
    return run_command("cleanup_media", *arguments).splitlines()
