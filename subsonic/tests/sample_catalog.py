"""A small catalog for the browsing tests (not a test module): artists under several
indexes (an article, an accent, a digit), albums with and without a year and a cover, songs
on an album and on none, one with a picture of its own."""

from collections.abc import Callable
from dataclasses import dataclass

from catalog import services
from catalog.models import Album, Artist, Song
from tests.media_samples import png_bytes, upload


@dataclass(frozen=True)
class SampleCatalog:
    coltrane: Artist
    blue_train: Album  # 1957, a cover, two songs
    blue_train_song: Song
    moments_notice: Song
    lazy_bird: Song  # on no album, a picture of its own
    beatles: Artist  # "The Beatles": under B
    abbey_road: Album  # 1969, no cover
    come_together: Song
    piaf: Artist  # "Édith Piaf": under E
    la_vie_en_rose: Song
    mello: Artist  # "2 Mello": under #
    kinda_blue: Song


def build(make_song: Callable[..., Song], make_album: Callable[..., Album]) -> SampleCatalog:
    blue_train = make_album("Blue Train", "John Coltrane", image=True, release_year=1957)
    blue_train_song = make_song("Blue Train", "John Coltrane", album=blue_train)
    moments_notice = make_song("Moment's Notice", "John Coltrane", album=blue_train)
    lazy_bird = make_song("Lazy Bird", "John Coltrane", image=True)
    abbey_road = make_album("Abbey Road", "The Beatles", release_year=1969)
    come_together = make_song("Come Together", "The Beatles", album=abbey_road)
    la_vie_en_rose = make_song("La Vie en rose", "Édith Piaf")
    kinda_blue = make_song("Kinda Blue", "2 Mello")
    services.artist_update(
        artist_id=blue_train.artist_id, image_file=upload("coltrane.png", png_bytes((40, 30)))
    )
    # Synced, with word timings on its second line (getLyricsBySongId).
    services.lyrics_set(
        song_id=la_vie_en_rose.pk,
        text="[la:fra]\n[00:01.00]Des yeux qui font baisser les miens\n"
        "[00:05.20]<00:05.20>Un <00:05.60>rire <00:06.10>qui <00:06.40>se <00:06.70>perd\n",
    )
    return SampleCatalog(
        coltrane=Artist.objects.get(pk=blue_train.artist_id),
        blue_train=blue_train,
        blue_train_song=blue_train_song,
        moments_notice=moments_notice,
        lazy_bird=lazy_bird,
        beatles=Artist.objects.get(pk=abbey_road.artist_id),
        abbey_road=abbey_road,
        come_together=come_together,
        piaf=Artist.objects.get(pk=la_vie_en_rose.artist_id),
        la_vie_en_rose=la_vie_en_rose,
        mello=Artist.objects.get(pk=kinda_blue.artist_id),
        kinda_blue=kinda_blue,
    )
