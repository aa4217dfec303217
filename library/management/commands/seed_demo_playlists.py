from django.core.management.base import BaseCommand

from library.demo import DEMO_LISTENER_EMAIL, seed_demo_playlists
from library.models import Playlist


class Command(BaseCommand):
    help = (
        "Make two public playlists of demo songs, owned by a demo listener "
        f"({DEMO_LISTENER_EMAIL}, who has no password), only when there are no playlists "
        "yet (used by make run, after seed_demo_catalog)."
    )

    def handle(self, *args, **options) -> None:
        if Playlist.objects.exists():
            self.stdout.write("There are playlists already: no demo playlists made.")
            return
        made = seed_demo_playlists()
        if not made:
            self.stdout.write("None of the demo songs is in the catalog: no demo playlists made.")
            return
        self.stdout.write(
            f"{len(made)} demo playlists made for {DEMO_LISTENER_EMAIL}: "
            + ", ".join(f"{playlist.name} ({playlist.items.count()} songs)" for playlist in made)
        )
