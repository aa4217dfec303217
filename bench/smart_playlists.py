"""Smart playlists' evaluation at a catalog size: prints the milliseconds each rule set takes.

    .venv/bin/python bench/smart_playlists.py [--songs 100000] [--plays 200000] [--repeat 7]

Makes its own PostgreSQL database (`bench_smart_<songs>` at 127.0.0.1 as postgres, dropped
and made again), migrates it and fills it with `manage.py seed_scale` (plays over ten days by
100 listeners), gives the busiest listener likes on every 50th song, then times, in process,
what a read of a smart playlist costs for that listener: the first 50 songs
(`library.smart.preview`, the preview and the first page) and the song count and duration
(`library.smart.summary`) for each rule set below, the median of `--repeat` runs after one
warm-up, with the queries each took. Then it drops the index the per-listener figures use
(`catalog_play_user_song_idx`) and times the rules that read plays again: the index's gain.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

RULE_SETS = {
    "genre is Rock (indexed)": {"rules": [("genre", "is", "Rock")]},
    "artist contains 'ist 12'": {"rules": [("artist", "contains", "ist 12")]},
    "added in the last 30 days, newest first": {
        "rules": [("date_added", "in_the_last_days", 30)],
        "sort": "date_added",
        "order": "desc",
    },
    "liked": {"rules": [("liked", "is", True)]},
    "played, most played first": {
        "rules": [("play_count", "gt", 0)],
        "sort": "play_count",
        "order": "desc",
    },
    "played in the last 3 days": {"rules": [("last_played", "in_the_last_days", 3)]},
    "liked or played 2+ times, 1990s": {
        "rules": [
            ("year", "in_range", [1990, 1999]),
            {"match": "any", "rules": [("liked", "is", True), ("play_count", "gt", 1)]},
        ]
    },
}
PLAY_RULES = (
    "played, most played first",
    "played in the last 3 days",
    "liked or played 2+ times, 1990s",
)


def as_rules(spec: dict) -> dict:
    def node(item):
        if isinstance(item, dict):
            return {"match": item["match"], "rules": [node(inner) for inner in item["rules"]]}
        field, operator, value = item
        return {"field": field, "operator": operator, "value": value}

    return {
        "match": "all",
        "rules": [node(item) for item in spec["rules"]],
        "sort": spec.get("sort", "title"),
        "order": spec.get("order", "asc"),
    }


def prepare(database: str, songs: int, plays: int) -> str:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{database}"')
    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": ""}
    python = str(PROJECT / ".venv" / "bin" / "python")
    for command in (
        ["migrate", "--verbosity", "0"],
        ["seed_scale", "--songs", str(songs), "--plays", str(plays)],
    ):
        subprocess.run([python, "manage.py", *command], cwd=PROJECT, env=env, check=True)
    return url


def timed(function, repeat: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()  # warm-up
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), len(queries.captured_queries)


def measure(names, owner_id: int, repeat: int) -> list[tuple[str, float, int, float, int]]:
    from library import smart
    from library.smart_schemas import SmartRules

    rows = []
    for name in names:
        rules = SmartRules.model_validate(as_rules(RULE_SETS[name]))
        first, first_queries = timed(partial(smart.preview, rules=rules, owner_id=owner_id), repeat)
        total, total_queries = timed(partial(smart.summary, rules=rules, owner_id=owner_id), repeat)
        count = smart.summary(rules=rules, owner_id=owner_id)[0]
        rows.append((name, first, first_queries, total, total_queries, count))
    return rows


def table(rows) -> None:
    print("| rules | first 50 | queries | count and duration | queries | songs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, first, first_queries, total, total_queries, count in rows:
        print(
            f"| {name} | {first:.1f} ms | {first_queries} | {total:.1f} ms | {total_queries} "
            f"| {count:,} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--plays", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    database = f"bench_smart_{options.songs}"
    url = prepare(database, options.songs, options.plays)

    os.environ.update(DATABASE_URL=url, REDIS_URL="", DJANGO_SETTINGS_MODULE="config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from catalog.models import Like, Play, Song

    busiest = Play.objects.values("user_id").annotate(n=Count("pk")).order_by("-n").first()
    owner_id = busiest["user_id"]
    song_ids = Song.objects.order_by("pk").values_list("pk", flat=True)[::50]
    Like.objects.bulk_create(
        [Like(user_id=owner_id, song_id=song_id) for song_id in song_ids], ignore_conflicts=True
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"{Song.objects.count():,} songs, {Play.objects.count():,} plays; the listener: "
        f"{busiest['n']:,} plays, {Like.objects.filter(user_id=owner_id).count():,} likes; "
        f"median of {options.repeat}\n"
    )
    table(measure(RULE_SETS, owner_id, options.repeat))
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX catalog_play_user_song_idx")
        cursor.execute("ANALYZE catalog_play")
    print("\nWithout catalog_play_user_song_idx (user, song, played_at):\n")
    table(measure(PLAY_RULES, owner_id, options.repeat))


if __name__ == "__main__":
    main()
