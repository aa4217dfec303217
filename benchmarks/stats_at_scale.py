"""How the stats API's figures cost at scale: prints timings, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/music_bench \
        .venv/bin/python benchmarks/stats_at_scale.py --songs 1000000 --albums 100000

Fills the catalog tables of that database with generated rows (run it against a scratch
database: it truncates songs, albums and plays first), then times each figure cold, and
`platform_totals()` cold and from the cache.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from catalog.models import Album, Song  # noqa: E402
from stats import selectors  # noqa: E402
from users.models import User  # noqa: E402


def fill(songs: int, albums: int, artists: int) -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("Point DATABASE_URL at a scratch PostgreSQL database.")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_play, catalog_song, catalog_album RESTART IDENTITY")
        cursor.execute(
            """INSERT INTO catalog_album (title, artist, release_year, image,
                    created_at, updated_at)
                SELECT 'Album ' || n, 'Artist ' || (n %% %s), 2000 + n %% 25, '', now(), now()
                FROM generate_series(1, %s) AS n""",
            [artists, albums],
        )
        cursor.execute(
            """INSERT INTO catalog_song (title, artist, album_id, duration, audio, image,
                    created_at, updated_at)
                SELECT 'Song ' || n,
                       CASE WHEN n %% 2 = 0 THEN 'ARTIST ' ELSE 'artist ' END || (n %% %s),
                       NULL, 180, 'songs/x.mp3', '', now(), now()
                FROM generate_series(1, %s) AS n""",
            [artists, songs],
        )
        cursor.execute("ANALYZE")


def timed(label: str, function, repeat: int = 5) -> None:
    runs = []
    for _ in range(repeat):
        cache.clear()
        started = time.perf_counter()
        value = function()
        runs.append((time.perf_counter() - started) * 1000)
    median, best = statistics.median(runs), min(runs)
    print(f"{label:<34} median {median:8.1f} ms   best {best:8.1f} ms   -> {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=1_000_000)
    parser.add_argument("--albums", type=int, default=100_000)
    parser.add_argument("--artists", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="reuse the rows already there")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if not args.keep:
        started = time.perf_counter()
        fill(args.songs, args.albums, args.artists)
        print(
            f"filled {args.songs:,} songs and {args.albums:,} albums "
            f"in {time.perf_counter() - started:.1f} s"
        )

    timed("songs: COUNT(*)", Song.objects.count)
    timed("albums: COUNT(*)", Album.objects.count)
    timed("users: COUNT(*)", User.objects.filter(is_active=True).count)
    timed("artists: grouped UNION of UPPER", selectors.count_distinct_artists)
    timed("platform_totals() cold", lambda: selectors.platform_totals().__dict__, repeat=3)
    selectors.platform_totals()
    runs = []
    for _ in range(1000):
        started = time.perf_counter()
        selectors.platform_totals()
        runs.append((time.perf_counter() - started) * 1_000_000)
    print(f"{'platform_totals() cached':<34} median {statistics.median(runs):8.1f} µs")


if __name__ == "__main__":
    main()
