"""`manage.py import_music PATH`: make songs of the audio files under PATH (catalog/folder_import).

Run it again at any time: what was imported is skipped, changed files update their songs,
and an interrupted run continues where it stopped. Each file skipped (or moved) is reported
with the reason as it happens, and so is each song whose tags were missing or ignored (with
what was taken instead); `-v 2` lists every file. A summary ends the run. Files that could not
be read or stored make the exit non-zero.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from catalog.folder_import import REPORTED, FileResult, Outcome, count_files, import_folder

# Without a terminal (a log), a progress line at most this often.
_LOG_PROGRESS_SECONDS = 10.0


class Progress:
    """One line that redraws on a terminal ("\\r"), or a line now and then in a log."""

    def __init__(self, total: int, stream: OutputWrapper) -> None:
        self.total, self.done, self.stream = total, 0, stream
        stream.style_func = None  # plain text, not stderr's error colour
        self.interactive = stream.isatty()
        self.started = self.last_line = time.monotonic()

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.interactive:
            if self.done == self.total or now - self.last_line >= 0.1:
                self.stream.write(f"\r{self._line(now)}", ending="")
                self.stream.flush()
                self.last_line = now
        elif now - self.last_line >= _LOG_PROGRESS_SECONDS:
            self.stream.write(self._line(now))
            self.last_line = now

    def clear(self) -> None:
        """Make room for a report line on a terminal."""
        if self.interactive:
            self.stream.write("\r\033[K", ending="")

    def finish(self) -> None:
        """End the line on a terminal; in a log, write the last count."""
        if self.interactive:
            self.stream.write("")
        else:
            self.stream.write(self._line(time.monotonic()))

    def _line(self, now: float) -> str:
        total = max(self.total, self.done)
        width = 30
        filled = width * self.done // total if total else width
        rate = self.done / max(now - self.started, 1e-6)
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{total} files ({rate:.1f}/s)"


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
        progress = None if no_progress else Progress(count_files(path), self.stderr)

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
