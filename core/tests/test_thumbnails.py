"""Pictures at a smaller size, made once and kept beside the originals, on the disk and in a
bucket."""

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from core.errors import NotFound
from core.files import thumbnails
from core.files.thumbnails import (
    IMAGE_MISSING,
    IMAGE_UNREADABLE,
    THUMBNAILS_FOLDER,
    image_at_size,
    served_name,
    thumbnail_size,
)
from tests.object_storage import use_bucket


def picture(size: tuple[int, int], image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    mode = "P" if image_format == "GIF" else "RGB"
    Image.new(mode, size, "red" if mode == "RGB" else 1).save(buffer, image_format, **options)
    return buffer.getvalue()


def stored(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def opened(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))


@pytest.mark.parametrize(
    ("asked", "answered"),
    [(None, None), (0, 64), (1, 64), (64, 64), (65, 128), (300, 512), (1024, 1024), (1025, None)],
)
def test_a_size_rounds_up_to_a_kept_size_or_the_picture_itself(asked, answered):
    assert thumbnail_size(asked) == answered


def test_a_copy_is_named_by_its_size_and_the_pictures_name():
    assert served_name("album_images/a.jpg", 100) == f"{THUMBNAILS_FOLDER}/128/album_images/a.jpg"
    assert (
        served_name("album_images/a.gif", 100) == f"{THUMBNAILS_FOLDER}/128/album_images/a.gif.png"
    )
    assert served_name("album_images/a.jpg", None) == "album_images/a.jpg"
    assert served_name("album_images/a.jpg", 4000) == "album_images/a.jpg"


def test_a_jpeg_is_made_smaller_once_and_its_copy_kept(settings):
    name = stored("album_images/wide.jpg", picture((1000, 500), "JPEG"))

    made = image_at_size(name, 200)
    default_storage.delete(name)  # the copy alone answers from now on
    kept = image_at_size(name, 256)

    assert made.name == f"{THUMBNAILS_FOLDER}/256/{name}"
    assert made.content_type == "image/jpeg"
    assert opened(made.content).size == (256, 128)
    assert opened(made.content).format == "JPEG"
    assert kept == made


def test_a_gif_becomes_a_png_of_its_first_frame(db):
    name = stored("song_images/anim.gif", picture((300, 300), "GIF"))

    made = image_at_size(name, 64)

    assert made.content_type == "image/png"
    assert opened(made.content).size == (64, 64)
    assert default_storage.exists(f"{THUMBNAILS_FOLDER}/64/{name}.png")


def test_the_cameras_orientation_is_applied_to_the_copy(db):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the picture stands upright when turned
    name = stored("album_images/photo.jpg", picture((400, 200), "JPEG", exif=exif))

    made = image_at_size(name, 128)

    assert opened(made.content).size == (64, 128)


def test_a_picture_small_enough_is_kept_as_it_is(db):
    content = picture((50, 40), "PNG")
    name = stored("artist_images/small.png", content)

    made = image_at_size(name, 1024)

    assert made.content == content
    assert made.name == f"{THUMBNAILS_FOLDER}/1024/{name}"


def test_the_picture_itself_without_a_size(db):
    content = picture((50, 40), "WEBP")
    name = stored("artist_images/small.webp", content)

    made = image_at_size(name, None)

    assert (made.name, made.content, made.content_type) == (name, content, "image/webp")


def test_a_missing_or_unreadable_picture_is_not_found(db):
    broken = stored("album_images/broken.png", b"\x89PNG not really")

    with pytest.raises(NotFound, match=IMAGE_MISSING):
        image_at_size("album_images/gone.png", 64)
    with pytest.raises(NotFound, match=IMAGE_MISSING):
        image_at_size("album_images/gone.png", None)
    with pytest.raises(NotFound, match=IMAGE_UNREADABLE):
        image_at_size(broken, 64)
    assert not default_storage.exists(f"{THUMBNAILS_FOLDER}/64/{broken}")


def test_a_copy_stored_meanwhile_by_another_request_leaves_no_duplicate(db, settings, monkeypatch):
    name = stored("album_images/race.png", picture((300, 300), "PNG"))
    copy = f"{THUMBNAILS_FOLDER}/64/{name}"
    resize = thumbnails._resized

    def resized_while_another_request_stores_it(content: bytes, size: int) -> bytes:
        stored(copy, b"the other request's copy")
        return resize(content, size)

    monkeypatch.setattr(thumbnails, "_resized", resized_while_another_request_stores_it)
    made = image_at_size(name, 64)

    assert opened(made.content).size == (64, 64)
    folder = Path(settings.MEDIA_ROOT) / THUMBNAILS_FOLDER / "64" / "album_images"
    assert [path.name for path in folder.iterdir()] == ["race.png"]


def test_in_a_bucket_the_copy_is_stored_beside_the_pictures(settings, moto_endpoint):
    bucket = use_bucket(settings, moto_endpoint)
    name = stored("album_images/wide.png", picture((512, 256), "PNG"))

    made = image_at_size(name, 64)
    again = image_at_size(name, 64)

    copy = f"{THUMBNAILS_FOLDER}/64/{name}"
    assert bucket.names() == sorted([name, copy])
    assert bucket.head(copy)["ContentType"] == "image/png"
    assert opened(made.content).size == (64, 32)
    assert again == made
