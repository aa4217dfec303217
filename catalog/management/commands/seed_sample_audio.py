from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from catalog.demo import (
    SAMPLE_IMPORT_AUDIO,
    SAMPLE_IMPORT_FOLDER,
    SAMPLE_NOTE_SECONDS,
    melody_wav,
)


class Command(BaseCommand):
    help = (
        "Write the audio files docs/songs.sample.csv names into storage (songs/), those that "
        "are missing, so the sample CSVs import as they are; safe to run again."
    )

    def handle(self, *args, **options) -> None:
        written = 0
        for name, melody in SAMPLE_IMPORT_AUDIO.items():
            path = f"{SAMPLE_IMPORT_FOLDER}{name}"
            if default_storage.exists(path):
                continue
            # The storage keeps the name: the CSV's audio_file column refers to it.
            saved = default_storage.save(
                path, ContentFile(melody_wav(melody, note_seconds=SAMPLE_NOTE_SECONDS))
            )
            if saved != path:  # another process wrote it meanwhile: keep one copy, theirs
                default_storage.delete(saved)
                continue
            written += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Sample import audio: {written} files written to {SAMPLE_IMPORT_FOLDER}."
            )
        )
