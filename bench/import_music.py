"""`manage.py import_music PATH` on a large generated music folder: files per second, the
process's memory as the run goes, the second run (nothing changed) and queries per file.
Prints figures only (docs/PERFORMANCE.md, "import_music at 100,000 files").

    .venv/bin/python bench/import_music.py [--files 100000] [--database music_import_bench]
        [--pipeline] [--folder PATH] [--keep]

The folder: one tiny real file per format (MP3, FLAC, Ogg Vorbis, AAC in MP4; 1 s of a tone
encoded by the imageio-ffmpeg wheel's ffmpeg), copied `--files` times and each copy retagged
with mutagen (distinct title, artist, album, track and disc, year, genre), laid out as
Artist/Album/NN Title.ext: 10 tracks to an album, 10 albums to an artist, one format per
album; the first track of every fourth album embeds a PNG front cover, and one file in 10,000
is corrupt (garbage under an .mp3 name). `--folder` keeps the generated folder there and reuses
it on the next run (generated only when missing).

The import: the real command (`call_command("import_music", PATH)`, its progress line to a log
as without a terminal) in this process, against the PostgreSQL database `--database` at
PGHOST/PGUSER (default 127.0.0.1/postgres: dropped, created and migrated first, dropped at the
end unless `--keep`), with production's settings (DEBUG off: no query log) and a temporary
MEDIA_ROOT. `--pipeline` turns MEDIA_PIPELINE on: each song's and album's jobs are only
enqueued (rows of procrastinate's queue in that database; no worker runs) and go with the
database; without it the pipeline is off. At checkpoints (1k, 10k, 25k, 50k, 75k, 100k files)
it prints the files per second since the previous one, the process's RSS (VmRSS) and peak
(VmHWM), and the queries per file so far (counted by a connection execute wrapper). Then the
same command again on the unchanged folder: every file skipped unread.
"""

import argparse
import io
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRACKS_PER_ALBUM = 10
ALBUMS_PER_ARTIST = 10
COVER_EVERY_ALBUMS = 4
CORRUPT_EVERY = 10_000
CHECKPOINTS = (1_000, 10_000, 25_000, 50_000, 75_000, 100_000, 250_000, 500_000, 1_000_000)
FORMATS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0"],
    "m4a": ["-c:a", "aac", "-b:a", "32k"],
}
GENRES = ("Rock", "Jazz", "Ambient", "Folk", "Electronic")


def sh(command: list[str]) -> None:
    subprocess.run(command, cwd=ROOT, check=True, timeout=600, stdout=subprocess.DEVNULL)


def status_kb(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


# --- The folder ----------------------------------------------------------------------------


def encode_templates(folder: Path) -> dict[str, bytes]:
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    templates = {}
    for extension, codec in FORMATS.items():
        path = folder / f"template.{extension}"
        subprocess.run(
            [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
             "sine=frequency=440:sample_rate=22050:duration=1", "-ac", "1",
             "-map_metadata", "-1", *codec, str(path)],
            check=True, timeout=60,
        )  # fmt: skip
        templates[extension] = path.read_bytes()
    return templates


def cover_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def relative_path(number: int) -> tuple[str, str]:
    """(path under the root, extension) of file `number`."""
    album = number // TRACKS_PER_ALBUM
    artist = album // ALBUMS_PER_ARTIST
    extension = list(FORMATS)[album % len(FORMATS)]
    track = number % TRACKS_PER_ALBUM + 1
    return (
        f"Artist {artist:05d}/Album {album:06d}/{track:02d} Song {number:07d}.{extension}",
        extension,
    )


def tag(path: Path, extension: str, number: int, cover: bytes | None) -> None:
    from mutagen.flac import FLAC, Picture
    from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
    from mutagen.mp4 import MP4, MP4Cover
    from mutagen.oggvorbis import OggVorbis

    album = number // TRACKS_PER_ALBUM
    artist = album // ALBUMS_PER_ARTIST
    values = {
        "title": f"Song {number}",
        "artist": f"Artist {artist}",
        "album": f"Album {album}",
        "album_artist": f"Artist {artist}",
        "track": f"{number % TRACKS_PER_ALBUM + 1}/{TRACKS_PER_ALBUM}",
        "disc": "1/1",
        "date": str(1960 + album % 60),
        "genre": GENRES[album % len(GENRES)],
    }
    if extension == "mp3":
        id3 = ID3()
        frames = {"title": TIT2, "artist": TPE1, "album": TALB, "album_artist": TPE2,
                  "track": TRCK, "disc": TPOS, "date": TDRC, "genre": TCON}  # fmt: skip
        for name, value in values.items():
            id3.add(frames[name](encoding=3, text=[value]))
        if cover:
            id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=cover))
        id3.save(path)
    elif extension == "m4a":
        audio = MP4(path)
        keys = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb",
                "album_artist": "aART", "date": "\xa9day", "genre": "\xa9gen"}  # fmt: skip
        for name, key in keys.items():
            audio[key] = [values[name]]
        audio["trkn"] = [(number % TRACKS_PER_ALBUM + 1, TRACKS_PER_ALBUM)]
        audio["disk"] = [(1, 1)]
        if cover:
            audio["covr"] = [MP4Cover(cover, imageformat=MP4Cover.FORMAT_PNG)]
        audio.save()
    else:
        audio = FLAC(path) if extension == "flac" else OggVorbis(path)
        keys = {"title": "title", "artist": "artist", "album": "album",
                "album_artist": "albumartist", "track": "tracknumber", "disc": "discnumber",
                "date": "date", "genre": "genre"}  # fmt: skip
        for name, key in keys.items():
            audio[key] = values[name]
        if cover:
            picture = Picture()
            picture.type, picture.mime, picture.data = 3, "image/png", cover
            if extension == "flac":
                audio.add_picture(picture)
            else:
                import base64

                block = base64.b64encode(picture.write()).decode("ascii")
                audio["metadata_block_picture"] = [block]
        audio.save()


_templates: dict[str, bytes] = {}
_cover = b""


def _init(templates: dict[str, bytes], cover: bytes) -> None:
    global _templates, _cover
    _templates, _cover = templates, cover


def write_range(job: tuple[str, int, int]) -> int:
    root, first, stop = job
    for number in range(first, stop):
        relative, extension = relative_path(number)
        path = Path(root) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if number % CORRUPT_EVERY == CORRUPT_EVERY - 1:
            path.write_bytes(b"\xff\xfb" + os.urandom(3000))  # an MP3 sync word, then noise
            continue
        path.write_bytes(_templates[extension])
        album = number // TRACKS_PER_ALBUM
        with_cover = number % TRACKS_PER_ALBUM == 0 and album % COVER_EVERY_ALBUMS == 0
        tag(path, extension, number, _cover if with_cover else None)
    return stop - first


def generate(root: Path, files: int) -> float:
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    templates = encode_templates(root.parent)
    step = 1000
    jobs = [(str(root), first, min(first + step, files)) for first in range(0, files, step)]
    with multiprocessing.get_context("fork").Pool(2, _init, (templates, cover_png())) as pool:
        for _ in pool.imap_unordered(write_range, jobs):
            pass
    (root / "complete").mkdir(exist_ok=True)  # the generation finished (a reusable folder)
    return time.monotonic() - started


# --- The import ----------------------------------------------------------------------------


class Meter:
    """Wraps the command's `import_folder` and counts each file's queries and memory."""

    def __init__(self, *, live: bool) -> None:
        self.live = live
        self.queries = 0
        self.files = 0
        self.started = self.last_time = time.monotonic()
        self.last_files = 0
        self.rows: list[tuple[int, float, float, int, int, float]] = []

    def count_query(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def checkpoint(self) -> None:
        now = time.monotonic()
        window = (self.files - self.last_files) / max(now - self.last_time, 1e-9)
        self.rows.append(
            (
                self.files,
                now - self.started,
                window,
                status_kb("VmRSS"),
                status_kb("VmHWM"),
                self.queries / max(self.files, 1),
            )
        )
        self.last_time, self.last_files = now, self.files
        if self.live:  # the table's rows as they come: a long run shows where it is
            print(format_row(*self.rows[-1]), flush=True)

    def wrap(self, import_folder):
        def measured(root, *, on_result=None, **kwargs):
            def counted(result):
                self.files += 1
                if self.files in CHECKPOINTS:
                    self.checkpoint()
                if on_result is not None:
                    on_result(result)

            self.started = self.last_time = time.monotonic()
            return import_folder(root, on_result=counted, **kwargs)

        return measured


TABLE_HEADER = (
    "| files | s | files/s since previous | RSS MB | peak RSS MB | queries per file |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: |"
)


def format_row(files: int, seconds: float, rate: float, rss: int, hwm: int, per_file: float) -> str:
    return (
        f"| {files:,} | {seconds:.0f} | {rate:.1f} | {rss / 1024:.1f} | {hwm / 1024:.1f} "
        f"| {per_file:.2f} |"
    )


def run_command(root: Path, log: Path, *, live: bool) -> tuple[Meter, float, str]:
    from django.core.management import call_command
    from django.db import connection

    from catalog.management.commands import import_music

    meter = Meter(live=live)
    original = import_music.import_folder
    import_music.import_folder = meter.wrap(original)
    started = time.monotonic()
    try:
        with log.open("w") as output, connection.execute_wrapper(meter.count_query):
            try:
                call_command("import_music", str(root), stdout=output, stderr=output)
            except Exception as error:  # the corrupt files make the exit non-zero
                summary = str(error)
            else:
                summary = "ok"
    finally:
        import_music.import_folder = original
    elapsed = time.monotonic() - started
    if meter.files not in CHECKPOINTS:
        meter.checkpoint()
    return meter, elapsed, summary


def last_line(log: Path, prefix: str) -> str:
    lines = [line for line in log.read_text().splitlines() if line.startswith(prefix)]
    return lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--database", default="music_import_bench")
    parser.add_argument("--pipeline", action="store_true", help="MEDIA_PIPELINE on (enqueue only)")
    parser.add_argument("--folder", type=Path, help="keep (and reuse) the generated folder here")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    arguments = parser.parse_args()
    host = os.environ.get("PGHOST", "127.0.0.1")
    user = os.environ.get("PGUSER", "postgres")
    scratch = Path(tempfile.mkdtemp(prefix="bench-import-music-"))
    music = arguments.folder or scratch / "music"
    if (music / "complete").is_dir():
        print(f"{arguments.files} files: reusing {music}")
    else:
        seconds = generate(music, arguments.files)
        print(f"{arguments.files} files generated in {seconds:.0f} s ({music})")
    # Production's settings, set explicitly so the project's .env cannot change them.
    os.environ.update(
        {
            "DATABASE_URL": f"postgres://{user}@{host}:5432/{arguments.database}",
            "MEDIA_ROOT": str(scratch / "media"),
            "MEDIA_PIPELINE": "true" if arguments.pipeline else "false",
            "DEBUG": "False",  # DEBUG keeps queries in memory
            "ALLOWED_HOSTS": "127.0.0.1",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    createdb = ["-h", host, "-U", user]
    sh(["dropdb", "--if-exists", "--force", *createdb, arguments.database])
    sh(["createdb", *createdb, arguments.database])
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
        pipeline = "on, jobs only enqueued" if arguments.pipeline else "off"
        print(f"{version}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
              f"MEDIA_PIPELINE {pipeline}, DEBUG off")  # fmt: skip
        print(f"RSS before the run (Django loaded, migrated): {status_kb('VmRSS') / 1024:.0f} MB")

        print(f"\nFirst run, as it goes:\n{TABLE_HEADER}", flush=True)
        first, first_seconds, first_summary = run_command(music, scratch / "first.log", live=True)
        print(f"\nFirst run: {first.files} files in {first_seconds:.0f} s, "
              f"{first.files / first_seconds:.1f} files/s, {first.queries} queries "
              f"({first.queries / max(first.files, 1):.2f} per file), "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"  {last_line(scratch / 'first.log', '') or first_summary}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_song")
            songs = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM catalog_album")
            albums = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM catalog_album WHERE image <> ''")
            covers = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM procrastinate_jobs")
            jobs = cursor.fetchone()[0]
        print(f"  {songs} songs, {albums} albums ({covers} with a cover), {jobs} jobs queued")

        second, second_seconds, _ = run_command(music, scratch / "second.log", live=False)
        print(f"\nSecond run (nothing changed): {second.files} files in {second_seconds:.1f} s, "
              f"{second.files / second_seconds:.0f} files/s, "
              f"{second.queries} queries ({second.queries / max(second.files, 1):.3f} per file), "
              f"RSS {second.rows[-1][3] / 1024:.1f} MB, "
              f"peak {second.rows[-1][4] / 1024:.1f} MB")  # fmt: skip
        print(f"  {last_line(scratch / 'second.log', '') or 'ok'}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_song")
            print(f"  songs after it: {cursor.fetchone()[0]} (before: {songs})")
        connection.close()
    finally:
        if not arguments.keep:
            sh(["dropdb", "--if-exists", "--force", *createdb, arguments.database])
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
