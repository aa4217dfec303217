from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand

from catalog import services
from catalog.demo import DEMO_SINGLES, SINGLE_COLORS, cover_jpeg, melody_wav
from catalog.models import Song


class Command(BaseCommand):
    help = "Add the demo singles (playable audio, covers); safe to run again."

    def handle(self, *args, **options) -> None:
        added = 0
        for index, song in enumerate(DEMO_SINGLES):
            if Song.objects.filter(title=song.title, artist_name=song.artist, album=None).exists():
                continue
            colors = SINGLE_COLORS[index % len(SINGLE_COLORS)]
            services.song_create(
                title=song.title,
                artist=song.artist,
                genre=song.genre,
                year=song.year,
                audio_file=SimpleUploadedFile("song.wav", melody_wav(song.melody)),
                image_file=SimpleUploadedFile("cover.jpg", cover_jpeg(song.title, colors)),
            )
            added += 1
        self.stdout.write(self.style.SUCCESS(f"Demo singles: {added} songs added."))
