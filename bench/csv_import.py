"""The admin's CSV import as jobs: how long the upload request, the preview job and the import
job take for a songs CSV, and the process's peak memory. Prints figures only.

    .venv/bin/python bench/csv_import.py [--rows 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/music_csv21_bench \
        .venv/bin/python bench/csv_import.py

Uses a scratch SQLite database (or the database in DATABASE_URL, migrated; use an empty one)
and a scratch MEDIA_ROOT holding one stored audio file that every row names, as an operator
names files copied into media/songs/. The upload is posted to the admin's import page with
Django's test client; its jobs are not handed to a queue but run here, one after the other
(catalog/csv_import.py: preview, then run_import), so each is timed alone.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    arguments = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-csv-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'db.sqlite3'}")
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory
    os.environ["MEDIA_PIPELINE"] = "false"  # the import alone, not the renditions it queues
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from catalog import csv_import, tasks
    from catalog.models import ImportRun, Song
    from tests.media_samples import wav_bytes
    from users.models import User

    # No collectstatic here: the pages name static files as in development.
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["*"]
    songs = Path(settings.MEDIA_ROOT) / "songs"
    songs.mkdir(parents=True, exist_ok=True)
    (songs / "bench.wav").write_bytes(wav_bytes(seconds=2))
    header = "title,artist,album,album_artist,audio_file\n"
    csv_bytes = (
        header
        + "".join(
            f"Song {index},Artist {index % 500},,,bench.wav\n" for index in range(arguments.rows)
        )
    ).encode()
    admin = User.objects.create_superuser(
        email="bench@example.com", password=None, full_name="Bench Admin"
    )
    client = Client()
    client.force_login(admin)
    client.get(
        reverse("admin:catalog_song_import"), secure=True
    )  # templates loaded, as in a running server
    # The jobs are run below, one at a time: nothing is handed to a queue here.
    tasks.csv_import_preview.enqueue = lambda **kwargs: None
    tasks.csv_import.enqueue = lambda **kwargs: None
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"{arguments.rows} rows ({len(csv_bytes) / 1e6:.1f} MB) on {database}")

    started = time.perf_counter()
    response = client.post(
        reverse("admin:catalog_song_import"),
        {
            "import_file": SimpleUploadedFile("songs.csv", csv_bytes, "text/csv"),
            "format": "0",
            "resource": "0",
        },
        secure=True,  # DEBUG off: plain HTTP is redirected
    )
    print(
        f"upload request: {(time.perf_counter() - started) * 1000:.0f} ms ({response.status_code})"
    )
    run = ImportRun.objects.latest("pk")

    started = time.perf_counter()
    csv_import.preview(run.pk)
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    print(
        f"preview job: {elapsed:.1f} s ({arguments.rows / elapsed:.0f} rows/s), "
        f"{run.new_count} new, {run.error_count} errors"
    )

    assert csv_import.confirm(run)
    started = time.perf_counter()
    csv_import.run_import(run.pk)
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    print(
        f"import job: {elapsed:.1f} s ({arguments.rows / elapsed:.0f} rows/s), state {run.state}, "
        f"{Song.objects.count()} songs"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
