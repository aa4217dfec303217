"""SQLite: does the CSV import starve the media pipeline's writes? Prints figures only.

    .venv/bin/python bench/csv_import_sqlite_writers.py --rows 4000 --batch-rows 100 \
        --busy-timeout 2 --pause 0
    .venv/bin/python bench/csv_import_sqlite_writers.py --rows 4000 --batch-rows 100 \
        --busy-timeout 2 --pause 0.12

On SQLite the jobs run on threads of the server (core/jobs.py, "in_process"): here the CSV
import's preview and import jobs, and the media pipeline's jobs that each imported song
queues, which store their outputs in a transaction of their own while the import writes its
batches. A scratch database and MEDIA_ROOT; one stored audio file every row names; the
upload goes through catalog/csv_import.start and the jobs through the real in-process runner.
`--pause` replaces csv_import.SQLITE_WRITER_TURN_SECONDS (0: batches back to back, as
before it existed), `--busy-timeout` the SQLite busy timeout (settings: 20 s; a shorter one
shows in a short run what a long import does with 20 s). Failed pipeline runs are not
retried here: each "database is locked" is counted once.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--batch-rows", type=int, default=100)
    parser.add_argument("--busy-timeout", type=float, default=2.0)
    parser.add_argument("--pause", type=float, default=None)
    arguments = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-csv-writers-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'db.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    os.environ["CSV_IMPORT_ROOT"] = str(scratch / "csv-imports")
    os.environ["CSV_IMPORT_BATCH_ROWS"] = str(arguments.batch_rows)
    os.environ["DEBUG"] = "false"
    os.environ["MEDIA_PIPELINE"] = "true"
    os.environ["REDIS_URL"] = ""
    os.environ["JOBS_RETRY_BASE_SECONDS"] = "3600"  # a failure is counted, not run again here
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.DATABASES["default"]["OPTIONS"]["timeout"] = arguments.busy_timeout
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from catalog import csv_import
    from catalog.models import ImportRun, ImportRunState, ProcessingState, Song
    from core.models import JobFailure
    from tests.media_samples import wav_bytes
    from users.models import User

    if arguments.pause is not None:
        csv_import.SQLITE_WRITER_TURN_SECONDS = arguments.pause
    call_command("migrate", verbosity=0)
    songs = Path(settings.MEDIA_ROOT) / "songs"
    songs.mkdir(parents=True)
    (songs / "bench.wav").write_bytes(wav_bytes(seconds=1))
    csv_text = "title,artist,album,album_artist,audio_file\n" + "".join(
        f"Song {index},Artist {index % 500},,,bench.wav\n" for index in range(arguments.rows)
    )
    user = User.objects.create_superuser(
        email="bench@example.com", password=None, full_name="Bench Admin"
    )
    started = time.perf_counter()
    run = csv_import.start(
        user=user, model="song", upload=SimpleUploadedFile("songs.csv", csv_text.encode())
    )
    while run.state not in (ImportRunState.DONE, ImportRunState.FAILED):
        time.sleep(0.5)
        run = ImportRun.objects.get(pk=run.pk)
        if run.state == ImportRunState.PREVIEWED:
            csv_import.confirm(run)
    elapsed = time.perf_counter() - started
    errors = list(JobFailure.objects.values_list("task_name", "error"))
    locked = [task for task, error in errors if "database is locked" in error]
    stored = Song.objects.filter(processing_state=ProcessingState.READY).count()
    print(
        f"{arguments.rows} rows in batches of {arguments.batch_rows}, pause "
        f"{csv_import.SQLITE_WRITER_TURN_SECONDS} s, busy timeout {arguments.busy_timeout} s: "
        f"import {run.state} after {elapsed:.0f} s; meanwhile the pipeline stored "
        f"{stored} songs; {len(locked)} runs failed with 'database is locked' "
        f"({len(errors)} failures in all)",
        flush=True,
    )
    shutil.rmtree(scratch, ignore_errors=True)
    os._exit(0)  # the pipeline's jobs still queued are not waited for


if __name__ == "__main__":
    main()
