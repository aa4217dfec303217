"""copy_media --to-bucket: the files on disk (the test's MEDIA_ROOT) into a bucket of moto's
server over HTTP, under the same names, rows untouched.

The rows and their files are made on the disk first (the default storage of the tests),
then the default storage is switched to a bucket, as an operator sets STORAGE_BUCKET.
"""

import io

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.management.commands import copy_media as command
from catalog.models import Album, Song
from core.files.object_storage import IMMUTABLE_CACHE_CONTROL
from tests.helpers import run_project_python
from tests.media_samples import media_path, wav_bytes
from tests.object_storage import MediaBackend, use_bucket

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def copy_media(*arguments: str) -> list[str]:
    """The command's output lines; CommandError (a non-zero exit) is raised as it is."""
    out = io.StringIO()
    call_command("copy_media", "--to-bucket", *arguments, stdout=out)
    return out.getvalue().splitlines()


def copy_media_failing(*arguments: str) -> tuple[list[str], str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("copy_media", "--to-bucket", *arguments, stdout=out)
    return out.getvalue().splitlines(), str(failure.value)


@pytest.fixture
def catalog_on_disk(make_song, make_album) -> tuple[Song, Album]:
    """A song with audio and image and an album with a cover, stored on the disk."""
    album = make_album(image=True)
    song = make_song(album=album, image=True, audio=wav_bytes(2.0))
    return song, album


@pytest.fixture
def bucket(settings, moto_endpoint, catalog_on_disk) -> MediaBackend:
    """The switch: from now on the default storage is an empty bucket."""
    return use_bucket(settings, moto_endpoint)


def referenced(song: Song, album: Album) -> list[str]:
    return sorted([song.audio.name, song.image.name, album.image.name])


def test_copies_every_referenced_file_with_its_headers_and_size(settings, catalog_on_disk, bucket):
    song, album = catalog_on_disk
    names = referenced(song, album)
    media_path(settings, "songs/orphan.wav").write_bytes(wav_bytes())

    output = copy_media()

    assert output[:-1] == [f"copied {name} (new)" for name in names]
    assert output[-1] == (
        "3 copied, 0 skipped (already in the bucket), 0 missing on disk, 0 failed."
    )
    assert bucket.names() == names  # the orphan needs --all
    for name in names:
        head = bucket.head(name)
        content = media_path(settings, name).read_bytes()
        assert head["ContentLength"] == len(content)
        assert head["ContentDisposition"] == "inline"
        assert head["CacheControl"] == IMMUTABLE_CACHE_CONTROL
        stored = bucket.client.get_object(Bucket=bucket.bucket, Key=f"media/{name}")
        assert stored["Body"].read() == content
    assert bucket.head(song.audio.name)["ContentType"] == "audio/wav"
    assert bucket.head(song.image.name)["ContentType"] == "image/png"
    assert bucket.head(album.image.name)["ContentType"] == "image/png"
    # Rows are never changed: the same names now resolve in the bucket.
    assert referenced(Song.objects.get(), Album.objects.get()) == names


def test_all_also_copies_unreferenced_files_of_the_upload_folders_only(
    settings, catalog_on_disk, bucket
):
    song, album = catalog_on_disk
    orphan = media_path(settings, "songs/orphan.wav")
    orphan.write_bytes(wav_bytes())
    elsewhere = media_path(settings, "elsewhere/notes.txt")
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"not ours")

    output = copy_media("--all")

    assert "copied songs/orphan.wav (new)" in output
    assert bucket.names() == sorted([*referenced(song, album), "songs/orphan.wav"])
    assert bucket.head("songs/orphan.wav")["ContentType"] == "audio/wav"


def test_a_second_run_copies_nothing(catalog_on_disk, bucket):
    song, album = catalog_on_disk
    copy_media()
    before = {name: bucket.head(name)["LastModified"] for name in bucket.names()}

    output = copy_media()

    assert output[:-1] == [
        f"skipped {name} (same size in the bucket)" for name in referenced(song, album)
    ]
    assert output[-1].startswith("0 copied, 3 skipped")
    assert {name: bucket.head(name)["LastModified"] for name in bucket.names()} == before


def test_a_file_of_another_size_is_copied_again(settings, catalog_on_disk, bucket):
    song, _ = catalog_on_disk
    copy_media()
    changed = wav_bytes(4.0)
    media_path(settings, song.audio.name).write_bytes(changed)
    # A copy cut short (a crashed earlier run) is of another size too.
    bucket.put(song.image.name, b"truncated")

    output = copy_media()

    image_size = media_path(settings, song.image.name).stat().st_size
    assert sorted(line for line in output if line.startswith("copied")) == sorted(
        [
            f"copied {song.audio.name} ({len(wav_bytes(2.0))} bytes in the bucket, "
            f"{len(changed)} on disk)",
            f"copied {song.image.name} (9 bytes in the bucket, {image_size} on disk)",
        ]
    )
    assert output[-1].startswith("2 copied, 1 skipped")
    stored = bucket.client.get_object(Bucket=bucket.bucket, Key=f"media/{song.audio.name}")
    assert stored["Body"].read() == changed
    assert bucket.head(song.image.name)["ContentType"] == "image/png"


def test_a_row_whose_file_is_missing_is_reported_and_the_exit_is_non_zero(
    settings, catalog_on_disk, bucket
):
    song, album = catalog_on_disk
    media_path(settings, song.audio.name).unlink()

    output, error = copy_media_failing()

    assert f"missing {song.audio.name} (catalog.Song {song.pk} audio)" in output
    assert output[-1] == (
        "2 copied, 0 skipped (already in the bucket), 1 missing on disk, 0 failed."
    )
    assert error == "1 files were not copied: see the lines marked missing or failed."
    assert bucket.names() == sorted([song.image.name, album.image.name])  # the rest went


def test_after_the_switch_a_file_uploaded_to_the_bucket_is_not_missing(catalog_on_disk, bucket):
    song, _ = catalog_on_disk
    copy_media()
    # Uploaded once STORAGE_BUCKET was on: its row refers to a file only the bucket has.
    bucket.put("songs/after-the-switch.wav", wav_bytes())
    Song.objects.filter(pk=song.pk).update(audio="songs/after-the-switch.wav")

    output = copy_media()

    assert "skipped songs/after-the-switch.wav (in the bucket only)" in output
    assert output[-1].startswith("0 copied, 3 skipped")


def test_a_copy_of_the_wrong_size_fails_the_run(settings, catalog_on_disk, bucket, monkeypatch):
    song, _ = catalog_on_disk

    def short_upload(storage, name, path):
        bucket.put(name, path.read_bytes()[:-1])

    monkeypatch.setattr(command, "_upload", short_upload)

    output, _ = copy_media_failing()

    size = media_path(settings, song.audio.name).stat().st_size
    assert f"failed {song.audio.name}: {size - 1} bytes in the bucket, {size} on disk" in output
    assert output[-1].endswith("0 missing on disk, 3 failed.")


def test_a_dry_run_lists_what_it_would_copy_and_writes_nothing(settings, catalog_on_disk, bucket):
    song, album = catalog_on_disk
    bucket.put(album.image.name, media_path(settings, album.image.name).read_bytes())

    output = copy_media("--dry-run")

    assert output == [
        f"skipped {album.image.name} (same size in the bucket)",
        *[f"would copy {name} (new)" for name in sorted([song.audio.name, song.image.name])],
        "2 would be copied, 1 skipped (already in the bucket), 0 missing on disk, 0 failed "
        "(dry run: nothing was written).",
    ]
    assert bucket.names() == [album.image.name]


def test_a_large_file_goes_up_in_parts(settings, moto_endpoint, catalog_on_disk):
    song, _ = catalog_on_disk
    parts = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    bucket = use_bucket(settings, moto_endpoint, transfer_config=parts)
    large = bytes(range(256)) * (11 * MiB // 256)
    media_path(settings, song.audio.name).write_bytes(large)

    copy_media()

    head = bucket.head(song.audio.name)
    assert head["ContentLength"] == len(large)
    assert head["ETag"].strip('"').endswith("-3")  # three parts of at most 5 MiB
    assert head["ContentType"] == "audio/wav"
    stored = bucket.client.get_object(Bucket=bucket.bucket, Key=f"media/{song.audio.name}")
    assert stored["Body"].read() == large


def test_without_a_bucket_it_refuses(catalog_on_disk):
    with pytest.raises(CommandError) as refused:
        copy_media()
    with pytest.raises(CommandError) as no_direction:
        call_command("copy_media")

    assert str(refused.value) == command.NOT_CONFIGURED
    assert "--to-bucket" in str(no_direction.value)


def test_manage_py_refuses_with_one_sentence_when_storage_bucket_is_not_set():
    refused = run_project_python(
        "import sys; from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'copy_media', '--to-bucket'])",
        DEBUG="True",
        SECRET_KEY="a-long-enough-development-key-for-this-settings-test-only-0123456789",
        STORAGE_BUCKET="",
    )

    assert refused.returncode == 1
    assert refused.stderr.strip() == f"CommandError: {command.NOT_CONFIGURED}"
