from django.core.management import call_command
from django.core.management.base import BaseCommand

from catalog.models import Album, Song


class Command(BaseCommand):
    help = "Load the demo albums and singles, only when the catalog is empty (used by make run)."

    def handle(self, *args, **options) -> None:
        if Song.objects.exists() or Album.objects.exists():
            self.stdout.write("The catalog already has songs or albums: no demo catalog loaded.")
            return
        call_command("seed_albums", stdout=self.stdout)
        call_command("seed_songs", stdout=self.stdout)
