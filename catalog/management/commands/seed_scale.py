"""Fill the catalog at the benchmark's shape, fast: `manage.py seed_scale --songs N --plays M`.

The shape (issue 10; bench/README.md runs on it): song `i` (ids 1..N) is a single
when `i` is a multiple of ten; the others fill albums of exactly 20 in id order (the last album
may be shorter); album `j` belongs to artist `(j - 1) % artists + 1` (id `n`, named
`Artist <n>`) and so do its songs; titles are `Song <i>` and `Album <j>`; songs are created
one second apart, in id order, before the last ten days; plays fall at random over the last
ten days, by active non-staff users (`--listeners` of them are created when there are none).
Album `j` is of genre `GENRES[j % 20]` and from the year `1970 + j % 55`, and so are its songs,
numbered 1 to 20 on disc 1; single `i` is of genre `GENRES[(i / 10) % 20]`, from `1970 + i % 55`,
without track or disc number.

Rows are written by the database itself, never by the ORM row by row: on PostgreSQL with
`generate_series` inside one transaction, with the tables' secondary indexes and foreign keys
dropped during the load and rebuilt after it (much faster than maintaining them row by row),
then `VACUUM ANALYZE`; on SQLite with the same statements over a recursive CTE (meant for small
catalogs, e.g. tests).

Every song points at ONE short real WAV stored once under `songs/`, so any id streams, and every
album at one generated cover. Columns come from the models' `_meta`: a column this command does
not know is filled with its field's default (or left to its database default / NULL), so a new
column with a default keeps it working; a new NOT NULL column without any default stops it with
a message naming the column.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED, F, QuerySet, Window
from django.db.models.functions import RowNumber

from catalog.audio import verify_audio
from catalog.demo import cover_jpeg, melody_wav
from catalog.models import Album, Artist, Play, Song

AUDIO_NAME = "songs/seed-scale.wav"
COVER_NAME = "album_images/seed-scale.jpg"
ALBUM_SIZE = 20
SINGLE_EVERY = 10  # song ids that are multiples of this are singles
PLAY_DAYS = 10
LISTENER_DOMAIN = "seed-scale.example.com"
# The benchmark browses by genre: each of these holds a twentieth of the catalog.
GENRES = (
    "Ambient",
    "Blues",
    "Classical",
    "Country",
    "Disco",
    "Drum & Bass",
    "Electronic",
    "Folk",
    "Funk",
    "Hip-Hop",
    "House",
    "Jazz",
    "Latin",
    "Metal",
    "Pop",
    "Punk",
    "R&B",
    "Reggae",
    "Rock",
    "Soul",
)


class Command(BaseCommand):
    help = (
        "Fill the catalog at the benchmark's shape with SQL (generate_series on PostgreSQL): "
        "albums of 20, one song in ten a single, 5,000 artists, plays over the last ten days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--songs", type=int, default=1_000_000, help="default 1,000,000")
        parser.add_argument("--plays", type=int, default=200_000, help="default 200,000")
        parser.add_argument("--artists", type=int, default=5_000, help="default 5,000")
        parser.add_argument(
            "--listeners",
            type=int,
            default=100,
            help="users to create when there is no active non-staff user (default 100)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="empty the catalog (plays, songs, albums) first; without it a catalog that "
            "has songs or albums is refused",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        songs, plays = options["songs"], options["plays"]
        artists, listeners = options["artists"], options["listeners"]
        if songs < 1 or plays < 0 or artists < 1 or listeners < 1:
            raise CommandError("--songs, --artists and --listeners must be positive, --plays >= 0.")
        started = time.perf_counter()
        shape = Shape(songs, artists)
        audio_name, duration = _stored_audio()
        cover_name = _stored_cover()
        now = datetime.now(UTC).replace(microsecond=0)

        with transaction.atomic():
            if options["reset"]:
                _empty_catalog()
            else:
                songs_there, albums_there = Song.objects.count(), Album.objects.count()
                if songs_there or albums_there:
                    raise CommandError(
                        f"The catalog is not empty ({songs_there:,} songs, {albums_there:,} "
                        "albums): nothing loaded. Pass --reset to empty it first."
                    )
            user_ids = _listener_ids(listeners) if plays else []
            loader = PostgresLoader() if connection.vendor == "postgresql" else SqliteLoader()
            phases = {"prepare": time.perf_counter()}
            with loader.fast_load():
                loader.artists(shape, now)
                loader.albums(shape, cover_name, now)
                loader.songs(shape, audio_name, duration, now)
                loader.plays(shape, plays, len(user_ids), now)
                phases["rows"] = time.perf_counter()
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(
                    no_style(), [Artist, Album, Song, Play]
                ):
                    cursor.execute(sql)
        phases["indexes and commit"] = time.perf_counter()
        loader.analyze()
        phases["vacuum analyze"] = time.perf_counter()

        elapsed = time.perf_counter() - started
        marks = [started, *phases.values()]
        breakdown = ", ".join(
            f"{name} {end - begin:.1f} s"
            for name, begin, end in zip(phases, marks[:-1], marks[1:], strict=True)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_scale: {Song.objects.count():,} songs "
                f"({Song.objects.filter(album=None).count():,} singles), "
                f"{Album.objects.count():,} albums, {shape.artists:,} artists, "
                f"{Play.objects.count():,} plays by {len(user_ids):,} listeners "
                f"in {elapsed:.1f} s ({connection.vendor}: {breakdown})."
            )
        )


class Shape:
    """Where song `i` goes; the same arithmetic is written in SQL in `Loader`."""

    def __init__(self, songs: int, artists: int) -> None:
        self.songs = songs
        self.singles = songs // SINGLE_EVERY
        self.albums = -(-(songs - self.singles) // ALBUM_SIZE)  # ceiling
        # Every album and single names an artist; fewer of them than `artists` on a small run.
        self.artists = min(artists, max(self.albums, self.singles))
        self.artist_cycle = artists


def _stored_audio() -> tuple[str, int]:
    """The one WAV every song plays (written once), and its duration in whole seconds."""
    if not default_storage.exists(AUDIO_NAME):
        default_storage.save(AUDIO_NAME, ContentFile(melody_wav((0, 4, 7, 9))))
    with default_storage.open(AUDIO_NAME) as stored:
        verified = verify_audio(SimpleUploadedFile("seed.wav", stored.read()))
    return AUDIO_NAME, verified.duration


def _stored_cover() -> str:
    if not default_storage.exists(COVER_NAME):
        default_storage.save(COVER_NAME, ContentFile(cover_jpeg("Seed", ("#4facfe", "#00f2fe"))))
    return COVER_NAME


def _empty_catalog() -> None:
    tables = [model._meta.db_table for model in (Play, Song, Album, Artist)]
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(table) for table in tables)
        with connection.cursor() as cursor:
            # TRUNCATE refuses while this transaction has deferred foreign key checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # CASCADE: rows of other tables that point at songs or albums go with them.
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for model in (Play, Song, Album, Artist):  # the ORM follows on_delete into other tables
            model.objects.all().delete()


def _listeners() -> QuerySet:
    return get_user_model().objects.filter(is_active=True, is_staff=False, is_superuser=False)


def _listener_ids(count: int) -> list[int]:
    """Active non-staff users who will have played; `count` are created when there are none."""
    user_model = get_user_model()
    listeners = _listeners()
    ids = list(listeners.order_by("pk").values_list("pk", flat=True))
    if ids:
        return ids
    unusable = make_password(None)  # they cannot sign in; they only own plays
    user_model.objects.bulk_create(
        [
            user_model(
                email=f"listener{n}@{LISTENER_DOMAIN}",
                full_name=f"Listener {n}",
                password=unusable,
            )
            for n in range(1, count + 1)
        ],
        ignore_conflicts=True,
    )
    return list(listeners.order_by("pk").values_list("pk", flat=True))


Expression = str | tuple[str, Any]  # SQL over the series variable `i`, with its one `%s` value


class Loader:
    """One INSERT ... SELECT over a series `i` = 1..n per table, columns read from `_meta`.

    The `%%` in the SQL below is SQL's modulo, escaped for the DB-API parameter style.
    """

    def series(self, n: int) -> tuple[str, str]:
        """(the WITH prefix, the FROM source) of a series `i` = 1..n."""
        raise NotImplementedError

    def timestamp(self, seconds: str) -> str:
        """SQL for the instant `seconds` (SQL over `i`) after the instant given as `%s`."""
        raise NotImplementedError

    def instant(self, moment: datetime) -> Any:
        return moment

    def random_below(self, n: int) -> str:
        """SQL for a random integer in [0, n), drawn once per row."""
        raise NotImplementedError

    @contextmanager
    def fast_load(self) -> Iterator[None]:
        yield

    def analyze(self) -> None:
        raise NotImplementedError

    def insert(
        self,
        model: type[models.Model],
        n: int,
        given: dict[str, Expression],
        *,
        join: tuple[str, list[Any]] = ("", []),
        order_by: str | None = None,
    ) -> None:
        """Insert n rows; `given` maps field names to expressions; other concrete columns take
        their field's default, their database default or NULL (a NOT NULL column with none of
        these stops the command and names it)."""
        quote = connection.ops.quote_name
        columns, select, params = [], [], []
        given = dict(given)
        for field in model._meta.concrete_fields:
            if field.name in given:
                value = given.pop(field.name)
                sql, *values = (value,) if isinstance(value, str) else value
            elif (
                field.primary_key or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
            ):
                continue  # the database fills it
            else:
                default = field.get_default()
                if default is None:
                    if field.null:
                        continue
                    raise CommandError(
                        f"seed_scale cannot fill {model._meta.label}.{field.name} (NOT NULL, "
                        "no default): add it to catalog/management/commands/seed_scale.py."
                    )
                sql, values = "%s", [field.get_db_prep_save(default, connection)]
            columns.append(quote(field.column))
            select.append(f"{sql} AS {quote(field.column)}")
            params.extend(values)
        if given:
            raise CommandError(f"seed_scale: {model._meta.label} has no field {', '.join(given)}")
        prefix, source = self.series(n)
        join_sql, join_params = join
        query = f"SELECT {', '.join(select)} FROM {source}{join_sql}"  # noqa: S608
        if order_by:
            column = quote(model._meta.get_field(order_by).column)
            query = f"SELECT * FROM ({query}) AS q ORDER BY q.{column}"  # noqa: S608
        table = quote(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) {prefix}{query}",
                [*params, *join_params],
            )

    def artists(self, shape: Shape, now: datetime) -> None:
        created = ("%s", self.instant(_base(shape, now)))
        self.insert(
            Artist,
            shape.artists,
            {
                "id": "i",
                "name": "'Artist ' || i",
                "name_key": "'artist ' || i",  # artist_key() of the name
                "created_at": created,
                "updated_at": created,
            },
        )

    def albums(self, shape: Shape, cover: str, now: datetime) -> None:
        # Album j comes a second before its first song, whose id is k + k / 9 + 1 for the
        # k = (j - 1) * 20 songs on earlier albums (every tenth id being a single).
        first_song = f"((i - 1) * {ALBUM_SIZE} + (i - 1) * {ALBUM_SIZE} / 9 + 1)"
        created = (self.timestamp(f"{first_song} - 1"), self.instant(_base(shape, now)))
        self.insert(
            Album,
            shape.albums,
            {
                "id": "i",
                "title": "'Album ' || i",
                "artist": f"(i - 1) %% {shape.artist_cycle} + 1",
                "artist_name": f"'Artist ' || ((i - 1) %% {shape.artist_cycle} + 1)",
                "release_year": year_of("i"),
                "genre": genre_of("i"),
                "image": ("%s", cover),
                "created_at": created,
                "updated_at": created,
            },
        )

    def songs(self, shape: Shape, audio: str, duration: int, now: datetime) -> None:
        single = f"i %% {SINGLE_EVERY} = 0"
        on_albums = f"((i - 1) - (i - 1) / {SINGLE_EVERY})"  # 0-based, among album songs
        album = f"({on_albums} / {ALBUM_SIZE} + 1)"
        cycle = shape.artist_cycle
        artist = (
            f"CASE WHEN {single} THEN (i / {SINGLE_EVERY} - 1) %% {cycle} + 1 "
            f"ELSE ({album} - 1) %% {cycle} + 1 END"
        )
        created = (self.timestamp("i"), self.instant(_base(shape, now)))
        self.insert(
            Song,
            shape.songs,
            {
                "id": "i",
                "title": "'Song ' || i",
                "artist": artist,
                "artist_name": f"'Artist ' || {artist}",
                "album": f"CASE WHEN {single} THEN NULL ELSE {album} END",
                "genre": (
                    f"CASE WHEN {single} THEN {genre_of(f'i / {SINGLE_EVERY}')} "
                    f"ELSE {genre_of(album)} END"
                ),
                "year": f"CASE WHEN {single} THEN {year_of('i')} ELSE {year_of(album)} END",
                "track_number": (
                    f"CASE WHEN {single} THEN NULL ELSE {on_albums} %% {ALBUM_SIZE} + 1 END"
                ),
                "disc_number": f"CASE WHEN {single} THEN NULL ELSE 1 END",
                "duration": ("%s", duration),
                "audio": ("%s", audio),
                "image": "''",
                "created_at": created,
                "updated_at": created,
            },
        )

    def plays(self, shape: Shape, plays: int, listeners: int, now: datetime) -> None:
        """Random songs at random instants of the last ten days; listener `(i - 1) % k + 1`
        (in id order) played the i-th."""
        if not plays:
            return
        ranked = (
            _listeners()
            .order_by()
            .annotate(seed_user=F("pk"), seed_rank=Window(RowNumber(), order_by=F("pk").asc()))
            .values("seed_user", "seed_rank")
        )
        ranked_sql, ranked_params = ranked.query.sql_with_params()
        join = (
            f" JOIN ({ranked_sql}) AS u ON u.seed_rank = (i - 1) %% {listeners} + 1",
            list(ranked_params),
        )
        window = PLAY_DAYS * 24 * 3600
        self.insert(
            Play,
            plays,
            {
                "song": f"1 + {self.random_below(shape.songs)}",
                "user": "u.seed_user",
                "played_at": (self.timestamp(f"-({self.random_below(window)})"), self.instant(now)),
            },
            join=join,
            order_by="played_at" if self.orders_plays else None,
        )

    orders_plays = False


class PostgresLoader(Loader):
    orders_plays = True  # the heap in time order, as plays arrive

    def series(self, n: int) -> tuple[str, str]:
        return "", f"generate_series(1, {int(n)}) AS s(i)"

    def timestamp(self, seconds: str) -> str:
        return f"CAST(%s AS timestamptz) + ({seconds}) * interval '1 second'"

    def random_below(self, n: int) -> str:
        return f"floor(random() * {int(n)})::bigint"

    @contextmanager
    def fast_load(self) -> Iterator[None]:
        """Drop the secondary indexes and foreign keys for the load and rebuild them after it:
        one sort per index and one join per key instead of a million of each."""
        tables = [model._meta.db_table for model in (Album, Song, Play)]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SELECT setseed(0.42)")  # the same plays on every run
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i WHERE i.indrelid = ANY(%s::text[]::regclass[])"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [tables],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f'"
                " AND conrelid = ANY(%s::text[]::regclass[])",
                [tables],
            )
            keys = cursor.fetchall()
            for table, name, _ in keys:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        yield
        with connection.cursor() as cursor:
            for _, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in keys:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")

    def analyze(self) -> None:
        quote = connection.ops.quote_name
        # Visibility map and statistics: index-only scans and good plans at once. VACUUM
        # cannot run inside a transaction (a test's): then statistics only.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in (Artist, Album, Song, Play):
                cursor.execute(f"{command} {quote(model._meta.db_table)}")


class SqliteLoader(Loader):
    def series(self, n: int) -> tuple[str, str]:
        return (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) ",  # noqa: S608
            "s",
        )

    def timestamp(self, seconds: str) -> str:
        # Django keeps datetimes in SQLite as UTC text, 'YYYY-MM-DD HH:MM:SS'.
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, ({seconds}) || ' seconds')"

    def instant(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def random_below(self, n: int) -> str:
        return f"((random() %% {int(n)}) + {int(n)}) %% {int(n)}"

    def analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def genre_of(number: str) -> str:
    """SQL for `GENRES[number % 20]`, `number` being SQL over `i` (no arrays in SQLite)."""
    cases = " ".join(
        f"WHEN {index} THEN '{name}'"  # the constants above: no quote in them
        for index, name in enumerate(GENRES)
    )
    return f"CASE ({number}) %% {len(GENRES)} {cases} END"


def year_of(number: str) -> str:
    return f"1970 + ({number}) %% 55"


def _base(shape: Shape, now: datetime) -> datetime:
    """When song 1 was added: the whole catalog is older than the ten days of plays."""
    return now - timedelta(days=PLAY_DAYS, seconds=shape.songs + 1)
