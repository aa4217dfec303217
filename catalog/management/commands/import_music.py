"""`manage.py import_music PATH`: make songs of the audio files under PATH (catalog/folder_import).

Run it again at any time: what was imported is skipped, changed files update their songs,
and an interrupted run continues where it stopped. Each file skipped (or moved) is reported
with the reason as it happens, and so is each song whose tags were missing or ignored (with
what was taken instead); `-v 2` lists every file. A summary ends the run. Files that could not
be read or stored make the exit non-zero.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.folder_import import REPORTED, FileResult, Outcome, count_files, import_folder
from core.progress import Progress


class Command(BaseCommand):
    help = (
        "Import the audio files under PATH as songs (tags give title, artist, album, track, "
        "disc, year, genre and cover); idempotent and resumable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The folder to import, walked recursively.")
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="No progress line (and no counting of the files first).",
        )

    def handle(self, *args, path: Path, no_progress: bool, verbosity: int, **options) -> None:
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder.")
        progress = None if no_progress else Progress(count_files(path), self.stderr, noun="files")

        def report(result: FileResult) -> None:
            line = None
            if result.outcome in REPORTED:
                line = f"{result.outcome.value}: {result.path}: {result.reason}"
                if result.outcome is Outcome.FAILED:
                    line = self.style.ERROR(line)
            elif verbosity >= 2 or (verbosity and result.notes):
                notes = f" ({'; '.join(result.notes)})" if result.notes else ""
                line = f"{result.outcome.value}: {result.path}{notes}"
            if line is not None:
                if progress is not None:
                    progress.clear()
                self.stdout.write(line)
            if progress is not None:
                progress.advance()

        try:
            summary = import_folder(path, on_result=report)
        except KeyboardInterrupt:
            if progress is not None:
                progress.finish()
            raise CommandError(
                "Interrupted: the files done so far are imported; run it again to continue."
            ) from None
        if progress is not None:
            progress.finish()
        failed = summary.counts[Outcome.FAILED]
        if failed:
            self.stdout.write(self.style.ERROR(str(summary)))
            raise CommandError(f"{failed} files could not be imported: see the lines above.")
        self.stdout.write(self.style.SUCCESS(str(summary)))
