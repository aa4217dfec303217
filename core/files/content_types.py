"""The Content-Type a stored file is served with, from the extension verification gave it.

Stored names get their extension from the verified content (`catalog/audio.py`,
`core/files/images.py`), so the extension can be trusted when serving or storing a file.
"""

from core.files.images import IMAGE_FORMATS

# Extension of a stored audio file -> the Content-Type it is served with.
AUDIO_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
}
# Extension of any stored file -> its Content-Type.
CONTENT_TYPES = {
    **AUDIO_CONTENT_TYPES,
    **{extension: f"image/{name.lower()}" for name, extension in IMAGE_FORMATS.items()},
}


def content_type_for(name: str) -> str:
    """The Content-Type of any stored file (the bucket stores each object with it)."""
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def audio_content_type(name: str) -> str:
    """The Content-Type of a stored audio file, from the extension given at verification."""
    extension = name.rsplit(".", 1)[-1].lower()
    return AUDIO_CONTENT_TYPES.get(extension, "application/octet-stream")
