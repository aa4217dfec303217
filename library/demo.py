"""Two public demo playlists of the demo catalog's songs (catalog/demo.py), for `make run`."""

from dataclasses import dataclass

from catalog.demo import DEMO_ALBUMS, DEMO_SINGLES
from catalog.models import Song
from library import services
from library.models import Playlist
from users.models import User

DEMO_LISTENER_EMAIL = "demo@example.com"
DEMO_LISTENER_NAME = "Demo Listener"


@dataclass(frozen=True)
class DemoPlaylist:
    name: str
    description: str
    songs: tuple[tuple[str, str], ...]  # (title, artist), in order


_MORNING, _LOW, _NIGHT = DEMO_ALBUMS
DEMO_PLAYLISTS = (
    DemoPlaylist(
        "Slow Start",
        "Gentle tones for the first hour of the day.",
        tuple((song.title, song.artist) for song in (*_MORNING.songs, *DEMO_SINGLES[:2])),
    ),
    DemoPlaylist(
        "Demo Mix",
        "A bit of everything in the demo catalog.",
        tuple(
            (song.title, song.artist)
            for song in (
                _LOW.songs[0],
                DEMO_SINGLES[2],
                _NIGHT.songs[0],
                DEMO_SINGLES[4],
                _MORNING.songs[2],
                DEMO_SINGLES[6],
                _LOW.songs[2],
            )
        ),
    ),
)


def demo_listener() -> User:
    """The demo playlists' owner. No password: nobody signs in as them (an admin may set one
    in the admin panel)."""
    listener = User.objects.filter(email=DEMO_LISTENER_EMAIL).first()
    if listener is None:
        listener = User.objects.create_user(
            email=DEMO_LISTENER_EMAIL, password=None, full_name=DEMO_LISTENER_NAME
        )
    return listener


def seed_demo_playlists() -> list[Playlist]:
    """The demo playlists with the demo songs the catalog has (songs deleted since are left
    out); none when the catalog has none of them."""
    owner = None
    made = []
    for demo in DEMO_PLAYLISTS:
        songs = [
            Song.objects.filter(title=title, artist_name=artist).order_by("pk").first()
            for title, artist in demo.songs
        ]
        songs = [song for song in songs if song is not None]
        if not songs:
            continue
        owner = owner or demo_listener()
        playlist = services.playlist_create(
            owner=owner, name=demo.name, description=demo.description, is_public=True
        )
        for song in songs:
            services.playlist_item_add(playlist_id=playlist.pk, user=owner, song_id=song.pk)
        made.append(playlist)
    return made
