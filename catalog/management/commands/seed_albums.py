from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand

from catalog import services
from catalog.demo import DEMO_ALBUMS, cover_jpeg, melody_wav
from catalog.models import Album, Song


class Command(BaseCommand):
    help = "Add the demo albums with their songs (playable audio, covers); safe to run again."

    def handle(self, *args, **options) -> None:
        albums_added = songs_added = 0
        for demo in DEMO_ALBUMS:
            album = Album.objects.filter(title=demo.title, artist_name=demo.artist).first()
            if album is None:
                album = services.album_create(
                    title=demo.title,
                    artist=demo.artist,
                    release_year=demo.release_year,
                    genre=demo.genre,
                    image_file=SimpleUploadedFile("cover.jpg", cover_jpeg(demo.title, demo.colors)),
                )
                albums_added += 1
            for track_number, song in enumerate(demo.songs, start=1):
                if Song.objects.filter(
                    title=song.title, artist_name=song.artist, album=album
                ).exists():
                    continue
                services.song_create(
                    title=song.title,
                    artist=song.artist,
                    album_id=album.pk,
                    genre=demo.genre,
                    track_number=track_number,
                    audio_file=SimpleUploadedFile("song.wav", melody_wav(song.melody)),
                )
                songs_added += 1
        self.stdout.write(
            self.style.SUCCESS(f"Demo albums: {albums_added} albums and {songs_added} songs added.")
        )
