from django.core.management import call_command
from django.core.management.base import BaseCommand

from catalog.models import Album, Song


class Command(BaseCommand):
    help = (
        "Load the demo albums and singles, and the audio files the sample CSVs name, only when "
        "the catalog is empty (used by make run)."
    )

    def handle(self, *args, **options) -> None:
        if Song.objects.exists() or Album.objects.exists():
            self.stdout.write("The catalog already has songs or albums: no demo catalog loaded.")
            return
        call_command("seed_albums", stdout=self.stdout)
        call_command("seed_songs", stdout=self.stdout)
        # docs/songs.sample.csv then imports from the admin as it is (README, CSV section).
        call_command("seed_sample_audio", stdout=self.stdout)
