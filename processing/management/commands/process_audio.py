"""`manage.py process_audio --missing`: the media pipeline for songs it has not done yet (a
catalog from before the pipeline, jobs lost with a SQLite server that stopped, failures to
try again with `--failed`).

Songs are read a page at a time in id order from the index of unprocessed songs, so memory
stays flat at a million songs and an interrupted run continues where it stopped (a processed
song is no longer missing). Each song is processed here, one after the other, or with
`--enqueue` handed to the job queue for the workers (docs/JOBS.md), several hosts sharing
the work.
"""

from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from catalog.models import ProcessingState, Song
from core.progress import Progress
from processing import pipeline, tasks

PAGE_SIZE = 500


def missing_song_ids(*, include_failed: bool) -> Iterator[int]:
    """Ids of the songs left to process, a page at a time (keyset on the id)."""
    states = [ProcessingState.PENDING] + ([ProcessingState.FAILED] if include_failed else [])
    after = 0
    while True:
        page = list(
            Song.objects.filter(pk__gt=after, processing_state__in=states)
            .order_by("pk")
            .values_list("pk", flat=True)[:PAGE_SIZE]
        )
        if not page:
            return
        yield from page
        after = page[-1]


class Command(BaseCommand):
    help = "Run the media pipeline for the songs it has not processed yet (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--missing",
            action="store_true",
            help="The songs still pending (required: the one selection there is).",
        )
        parser.add_argument(
            "--failed", action="store_true", help="Also try again the songs that failed."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue a job per song for the workers instead of processing here.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress line.")

    def handle(
        self, *args, missing: bool, failed: bool, enqueue: bool, no_progress: bool, **options
    ) -> None:
        if not missing:
            raise CommandError("Say which songs: --missing (with --failed to retry failures).")
        states = [ProcessingState.PENDING] + ([ProcessingState.FAILED] if failed else [])
        total = Song.objects.filter(processing_state__in=states).count()
        progress = None if no_progress else Progress(total, self.stderr, noun="songs")
        outcomes: dict[str, int] = {}
        try:
            for song_id in missing_song_ids(include_failed=failed):
                if enqueue:
                    with transaction.atomic():
                        tasks.process_song.enqueue(song_id=song_id)
                    outcome = "queued"
                else:
                    outcome = pipeline.process_song(song_id)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if progress is not None:
                    progress.advance()
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted: the songs done so far are kept; run it again to continue."
            ) from None
        finally:
            if progress is not None:
                progress.finish()
        done = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(self.style.SUCCESS(f"{sum(outcomes.values())} songs: {done or 'none'}"))
