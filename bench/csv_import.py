"""The admin's CSV import as jobs: how long the upload request, the preview job and the import
job take for a songs CSV, their rows per second, and the peak memory of the process that ran
them. Prints figures only, as a Markdown table (docs/PERFORMANCE.md).

    .venv/bin/python bench/csv_import.py --rows 100000
    .venv/bin/python bench/csv_import.py --rows 100000 \
        --postgres postgres://postgres@127.0.0.1:5432/music_bench_csv --sqlite

Each database is measured in a process of its own. `--sqlite` (the default without
`--postgres`) uses a scratch SQLite file; `--postgres URL` creates the database the URL names
(it must not exist), migrates it, and drops it afterwards. MEDIA_ROOT is a scratch folder
holding the stored audio files the rows name, as an operator copies files into media/songs/:
one file for every row by default, or `--files N` (hard links of one file, each verified and
read on its own). The upload is posted to the admin's import page with Django's test client;
its jobs are not handed to a queue but run here, one after the other (catalog/csv_import.py:
preview, then run_import), so each is timed alone and the process is the worker.

Run it from a clone of another commit (copy this file there) for a before/after comparison.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(rows: int, files: int) -> dict[str, object]:
    """Upload, preview and import `rows` rows on the database of DATABASE_URL (migrated here)."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-csv-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'db.sqlite3'}")
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    os.environ["CSV_IMPORT_ROOT"] = str(scratch / "csv-imports")
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
    (songs / "bench0.wav").write_bytes(wav_bytes(seconds=2))
    for index in range(1, files):
        os.link(songs / "bench0.wav", songs / f"bench{index}.wav")
    header = "title,artist,album,album_artist,audio_file\n"
    csv_bytes = (
        header
        + "".join(
            f"Song {index},Artist {index % 500},,,bench{index % files}.wav\n"
            for index in range(rows)
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
    figures: dict[str, object] = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "rows": rows,
        "files": files,
        "batch_rows": settings.CSV_IMPORT_BATCH_ROWS,
        "megabytes": round(len(csv_bytes) / 1e6, 1),
        "rss_before_mb": round(peak_rss_mb()),
    }

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
    assert response.status_code == 302, response.status_code
    figures["upload_ms"] = round((time.perf_counter() - started) * 1000)
    run = ImportRun.objects.latest("pk")
    del csv_bytes

    started = time.perf_counter()
    csv_import.preview(run.pk)
    figures["preview_s"] = round(time.perf_counter() - started, 1)
    figures["rss_preview_mb"] = round(peak_rss_mb())
    run.refresh_from_db()
    assert (run.new_count, run.error_count) == (rows, 0), (run.new_count, run.error_count)

    assert csv_import.confirm(run)
    started = time.perf_counter()
    csv_import.run_import(run.pk)
    figures["import_s"] = round(time.perf_counter() - started, 1)
    figures["rss_import_mb"] = round(peak_rss_mb())
    run.refresh_from_db()
    assert (run.state, Song.objects.count()) == ("done", rows), run.state
    return figures


def postgres_database(url: str, action: str) -> None:
    """CREATE or DROP the database `url` names, connected to the server's `postgres` one."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        if action == "create":
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def measure_in_child(rows: int, files: int, database_url: str | None) -> dict[str, object]:
    environment = {**os.environ, "REDIS_URL": ""}
    environment.pop("DATABASE_URL", None)
    if database_url:
        environment["DATABASE_URL"] = database_url
    command = [sys.executable, __file__, "--child", "--rows", str(rows), "--files", str(files)]
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        sys.exit(f"the measure failed:\n{finished.stderr[-4000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def table(results: list[dict[str, object]]) -> str:
    lines = [
        "| database | rows | files | batch | upload | preview | import | rows/s preview / import "
        "| peak RSS (start → preview → import) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for figures in results:
        rows = int(figures["rows"])  # type: ignore[call-overload]
        preview, imported = float(figures["preview_s"]), float(figures["import_s"])  # type: ignore[arg-type]
        lines.append(
            f"| {figures['database']} | {rows:,} | {figures['files']:,} | "
            f"{figures['batch_rows']} | {figures['upload_ms']} ms | {preview:.1f} s | "
            f"{imported:.1f} s | {rows / preview:,.0f} / {rows / imported:,.0f} | "
            f"{figures['rss_before_mb']} → {figures['rss_preview_mb']} → "
            f"{figures['rss_import_mb']} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1, help="distinct audio files the rows name")
    parser.add_argument("--postgres", metavar="URL", help="a database to create, use and drop")
    parser.add_argument("--sqlite", action="store_true", help="also (or only) a SQLite file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(measure(arguments.rows, max(arguments.files, 1))))
        shutil.rmtree(Path(os.environ["MEDIA_ROOT"]).parent, ignore_errors=True)
        return
    results = []
    if arguments.postgres:
        postgres_database(arguments.postgres, "create")
        try:
            results.append(measure_in_child(arguments.rows, arguments.files, arguments.postgres))
        finally:
            postgres_database(arguments.postgres, "drop")
        print(table(results), flush=True)
    if arguments.sqlite or not arguments.postgres:
        results.append(measure_in_child(arguments.rows, arguments.files, None))
    print(table(results))


if __name__ == "__main__":
    main()
