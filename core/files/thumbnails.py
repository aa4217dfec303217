"""Stored pictures at a smaller size, made once and kept: `image_at_size(name, size)`.

The first request of a picture at a size resizes it (Pillow) and stores the copy in the same
storage as the picture, under THUMBNAILS_FOLDER/<size>/<the picture's stored name>; every
later request reads that copy, one read of the disk or one GET of the bucket. Sizes are
rounded up to one of THUMBNAIL_SIZES, so a picture has at most five copies; a larger size,
or none, is the picture itself. A copy is never larger than its picture (a small picture's
copy is the same bytes).

A stored name is never reused for other bytes (core/files/uploads.generated_name): a replaced
picture has a new name, so a copy never goes stale and needs no invalidation. The copies of
a deleted picture stay (a few kilobytes each); cleanup_media does not look at them.
"""

import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import NotFound
from core.files.content_types import content_type_for
from core.files.object_storage import read_range

# The sizes (in pixels, of the longer side) a copy is made at.
THUMBNAIL_SIZES = (64, 128, 256, 512, 1024)
THUMBNAILS_FOLDER = "thumbnails"
JPEG_QUALITY = 85
# A picture is read whole, up to this many bytes (uploads are at most IMAGE_MAX_BYTES).
_READ_LIMIT = 64 * 1024 * 1024
_CHUNK_SIZE = 256 * 1024

IMAGE_MISSING = "The image file is missing."
IMAGE_UNREADABLE = "The image file cannot be read as an image."


@dataclass(frozen=True)
class StoredImage:
    name: str  # the stored name of what is answered: the picture or its copy
    content: bytes

    @property
    def content_type(self) -> str:
        return content_type_for(self.name)


def thumbnail_size(size: int | None) -> int | None:
    """The size of the copy answered for a request of `size` pixels: the smallest of
    THUMBNAIL_SIZES at least as large; None (the picture itself) for no size or a larger
    one."""
    if size is None:
        return None
    return next((candidate for candidate in THUMBNAIL_SIZES if candidate >= size), None)


def served_name(name: str, size: int | None) -> str:
    """The stored name of what `image_at_size(name, size)` answers, known without reading
    anything (an ETag). A GIF's copy is a PNG (its first frame)."""
    target = thumbnail_size(size)
    if target is None:
        return name
    copy = f"{THUMBNAILS_FOLDER}/{target}/{name}"
    return f"{copy}.png" if name.lower().endswith(".gif") else copy


def image_at_size(name: str, size: int | None, *, storage: Storage | None = None) -> StoredImage:
    """The stored picture `name`, or its copy for `size` (made and kept on first use).
    NotFound when the picture is missing or is not an image Pillow reads."""
    storage = storage or default_storage
    target = thumbnail_size(size)
    if target is None:
        return StoredImage(name, _read_picture(storage, name))
    copy = served_name(name, size)
    try:
        return StoredImage(copy, _read(storage, copy))
    except FileNotFoundError:
        pass  # the first request at this size
    content = _resized(_read_picture(storage, name), target)
    _keep(storage, copy, content)
    return StoredImage(copy, content)


def _read_picture(storage: Storage, name: str) -> bytes:
    try:
        return _read(storage, name)
    except FileNotFoundError:
        raise NotFound(IMAGE_MISSING) from None


def _read(storage: Storage, name: str) -> bytes:
    """The whole stored file (one GET of a bucket); FileNotFoundError when it is not there."""
    return b"".join(read_range(storage, name, start=0, length=_READ_LIMIT, chunk_size=_CHUNK_SIZE))


def _resized(content: bytes, size: int) -> bytes:
    """`content` with its longer side at most `size` pixels, in its own format (a GIF as a
    PNG); the same bytes when it is small enough already."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image_format = image.format
            if max(image.size) <= size and image_format != "GIF":
                return content
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((size, size), Image.Resampling.LANCZOS)
            if image_format == "GIF":
                image_format, upright = "PNG", upright.convert("RGBA")
            options: dict[str, object] = {}
            if image_format == "JPEG":
                upright = upright.convert("RGB")
                options = {"quality": JPEG_QUALITY, "optimize": True}
            buffer = io.BytesIO()
            upright.save(buffer, format=image_format, **options)
            return buffer.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise NotFound(IMAGE_UNREADABLE) from None


def _keep(storage: Storage, name: str, content: bytes) -> None:
    """Store the copy under `name`. Should another request have stored it meanwhile, the
    disk gives this one another name: that duplicate is removed (a bucket overwrites)."""
    stored = storage.save(name, ContentFile(content))
    if stored != name:
        storage.delete(stored)
