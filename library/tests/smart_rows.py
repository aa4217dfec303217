"""Songs, plays, likes and ratings written straight to the tables (no audio files), for the
smart playlist tests: fast enough to make hundreds per Hypothesis run."""

from datetime import datetime, timedelta

from catalog.models import Album, Artist, Like, Play, Song
from library.models import Rating
from users.models import User


def artist(name: str) -> Artist:
    found = Artist.objects.filter(name=name).first()
    return found or Artist.objects.create(name=name)


def song(
    title: str,
    artist_name: str = "Nina Simone",
    *,
    album: Album | None = None,
    genre: str | None = None,
    year: int | None = None,
    duration: int = 200,
    created_at: datetime | None = None,
) -> Song:
    fields = {"created_at": created_at} if created_at is not None else {}
    return Song.objects.create(
        title=title,
        artist=artist(artist_name),
        artist_name=artist_name,
        album=album,
        genre=genre,
        year=year,
        duration=duration,
        audio="songs/none.wav",
        **fields,
    )


def album(title: str, artist_name: str = "Nina Simone") -> Album:
    return Album.objects.create(title=title, artist=artist(artist_name), artist_name=artist_name)


def plays(user: User, song: Song, *at: datetime) -> None:
    Play.objects.bulk_create(Play(user=user, song=song, played_at=moment) for moment in at)


def like(user: User, song: Song) -> None:
    Like.objects.create(user=user, song=song)


def rate(user: User, song: Song, rating: int) -> None:
    Rating.objects.create(user=user, song=song, rating=rating)


def days_ago(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)
