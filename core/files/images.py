"""Images, accepted only when Pillow reads them as one of the allowed formats."""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from core.errors import Invalid
from core.files.uploads import check_size, rename_upload

# Pillow format name -> extension of the stored file. SVG, EPS, HTML and others are refused.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}

IMAGE_NOT_READABLE = "The file is not an image in an accepted format (JPEG, PNG, WebP or GIF)."
IMAGE_TOO_MANY_PIXELS = "The image has too many pixels."


def verify_image(upload: UploadedFile, *, field: str = "image_file") -> UploadedFile:
    """Accept an upload only if Pillow reads it as an allowed image; rename it safely."""
    check_size(upload, limit_bytes=settings.IMAGE_MAX_BYTES, field=field)
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            if image.width * image.height > settings.IMAGE_MAX_PIXELS:
                raise Invalid(field, IMAGE_TOO_MANY_PIXELS)
            image.verify()  # walks the data: catches truncated and corrupt files
    except Invalid:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise Invalid(field, IMAGE_NOT_READABLE) from error
    if image_format not in IMAGE_FORMATS:
        raise Invalid(field, IMAGE_NOT_READABLE)
    upload.seek(0)
    rename_upload(upload, IMAGE_FORMATS[image_format])
    return upload
