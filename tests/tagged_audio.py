"""Real audio files for import tests: a tone encoded by ffmpeg in each format, tagged by
mutagen as a tagger would leave it, and a folder's import with every file's outcome."""

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis

from catalog.folder_import import FileResult, Outcome, import_folder

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="ffmpeg is not installed: it encodes the test files"
)

# The encoder options of each format (ffmpeg picks the container from the extension).
CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0"],
    "m4a": ["-c:a", "aac", "-b:a", "64k"],
}


def encode(path: Path, *, frequency: int = 440, seconds: float = 1.0) -> Path:
    """A real tone of `seconds` in the format of `path`'s extension, without tags."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={frequency}:duration={seconds}",
         "-map_metadata", "-1", *CODECS[path.suffix[1:]], str(path)],
        check=True,
    )  # fmt: skip
    return path


def tag_mp3(path: Path, *, cover: bytes | None = None, **tags: str) -> None:
    id3 = ID3()
    frames = {"title": TIT2, "artist": TPE1, "album": TALB, "album_artist": TPE2,
              "track": TRCK, "disc": TPOS, "date": TDRC, "genre": TCON}  # fmt: skip
    for name, value in tags.items():
        id3.add(frames[name](encoding=3, text=[value]))
    if cover is not None:
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=cover))
    id3.save(path)


VORBIS_KEYS = {"title": "title", "artist": "artist", "album": "album",
               "album_artist": "albumartist", "track": "tracknumber", "disc": "discnumber",
               "date": "date", "genre": "genre"}  # fmt: skip


def front_cover(data: bytes) -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", data
    return picture


def tag_flac(path: Path, *, cover: bytes | None = None, **tags: str) -> None:
    audio = FLAC(path)
    for name, value in tags.items():
        audio[VORBIS_KEYS[name]] = value
    if cover is not None:
        audio.add_picture(front_cover(cover))
    audio.save()


def tag_ogg(path: Path, *, cover: bytes | None = None, **tags: str) -> None:
    audio = OggVorbis(path)
    for name, value in tags.items():
        audio[VORBIS_KEYS[name]] = value
    if cover is not None:
        block = base64.b64encode(front_cover(cover).write()).decode("ascii")
        audio["metadata_block_picture"] = [block]
    audio.save()


def tag_m4a(path: Path, *, cover: bytes | None = None, **tags: str) -> None:
    audio = MP4(path)
    keys = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb",
            "album_artist": "aART", "date": "\xa9day", "genre": "\xa9gen"}  # fmt: skip
    for name, value in tags.items():
        if name in ("track", "disc"):
            number, _, total = value.partition("/")
            audio["trkn" if name == "track" else "disk"] = [(int(number), int(total or 0))]
        else:
            audio[keys[name]] = [value]
    if cover is not None:
        audio["covr"] = [MP4Cover(cover, imageformat=MP4Cover.FORMAT_PNG)]
    audio.save()


TAGGERS = {"mp3": tag_mp3, "flac": tag_flac, "ogg": tag_ogg, "m4a": tag_m4a}


def make_track(path: Path, *, frequency: int = 440, cover: bytes | None = None, **tags) -> Path:
    encode(path, frequency=frequency)
    TAGGERS[path.suffix[1:]](path, cover=cover, **tags)
    return path


def import_all(root: Path, **options) -> tuple[dict[Outcome, int], list[FileResult]]:
    results: list[FileResult] = []
    summary = import_folder(root, on_result=results.append, **options)
    return dict(summary.counts), results
