"""Hot reads by id with their SQL built once, and prepared once on PostgreSQL.

Django compiles a queryset to SQL each time it is evaluated: for a song read by id that is
about a quarter of the request. The reads by id always send the same SQL with another id, so
`PreparedQuery` compiles its queryset once per connection, keeps what turning rows into
models needs (columns, converters, the `select_related` populators) and from then on only
sends the SQL with the new value. The queryset still comes from the ORM, so the SQL follows
the models. On PostgreSQL it also asks for its statement to be prepared, so the server does
not parse and plan it again either: the only statements prepared (settings:
DATABASE_PREPARED_STATEMENTS), since a prepared statement may be run with one plan for any
value, which a read by id wants and a search must not get.

What it buys: the ORM's compilation and PostgreSQL's planning of the two hottest reads (song
and album detail). What pins it: it reads what Django's own `ModelIterable` reads from the
compiler (`django>=5.2,<5.3` in pyproject.toml) and psycopg 3's `prepare_threshold`
(`psycopg>=3.2,<4`); catalog/tests/test_prepared_query.py and the query-count and response
tests of song and album detail fail when either changes under it.

`PreparedValues` does the same for a `values_list()` read of a page's ids (an IN list), once
per connection and number of ids, prepared when asked: the Subsonic API's stars and ratings
of a page (library.selectors.marks_of). The Subsonic `apiKey` sign-in is a PreparedQuery.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

ModelT = TypeVar("ModelT", bound=Model)

# Stands for the value in the SQL compiled once; no id or value a caller sends is this. A
# text column gets it as text (a CharField's filter turns it into a str).
_PLACEHOLDER = -7_777_777_777_777
_PLACEHOLDERS = (_PLACEHOLDER, str(_PLACEHOLDER))


@contextmanager
def _prepared(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """The statement run inside is prepared on PostgreSQL the first time and reused after.

    psycopg 3 prepares a statement when a connection has run it `prepare_threshold` times,
    and never while that is None (settings.py: nothing is prepared on its own), not even one
    executed with `prepare=True`, which Django's cursor would not pass on anyway. So the
    threshold is 0 for this one statement, through Django's cursor (its query log and error
    translation kept). With client-side binding (DATABASE_PREPARED_STATEMENTS off) psycopg
    prepares nothing whatever the threshold; SQLite has no such thing."""
    if connection.vendor != "postgresql":
        yield
        return
    driver = connection.connection  # psycopg's Connection, open once the cursor is
    threshold = driver.prepare_threshold
    driver.prepare_threshold = 0
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def _compiled_on(connection: BaseDatabaseWrapper) -> dict[object, Any]:
    """What the prepared reads compiled for one connection object, kept on that object, so it
    goes when the connection does. Each thread has its own connection object, and under
    Django's ASGI handler a request may get a new thread. A WeakKeyDictionary keyed by the
    connection could not let go of it: each entry's compiler holds its connection, so every
    connection object, and one entry per read, stayed for good (bench/rss_soak.py: uvicorn's
    workers grew by about 16 KB a request; docs/PERFORMANCE.md, issue 22)."""
    compiled = connection.__dict__.get("_prepared_reads")
    if compiled is None:
        compiled = connection._prepared_reads = {}  # type: ignore[attr-defined]
    return compiled


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slot: int  # where the value goes in params
    compiler: SQLCompiler
    model: type[Model]
    init_list: list[str]
    fields: slice  # the model's own columns in a row
    populators: list[Any]
    converters: dict[int, Any]  # the compiler's, worked out once (Django does it per read)


class PreparedQuery(Generic[ModelT]):
    """`PreparedQuery(lambda value: Song.objects.filter(pk=value))`, then `.rows(42)`.

    `build` must make the same SQL for any value (a filter on it, nothing that branches on
    it) and use the value once.
    """

    def __init__(
        self, build: Callable[[Any], QuerySet[ModelT]], *, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        self._build = build
        self._using = using

    def rows(self, value: Any) -> list[ModelT]:
        connection = connections[self._using]
        # One per connection object (_compiled_on): a compiler holds its connection.
        compiled = _compiled_on(connection).get(self) or self._compile(connection)
        params = list(compiled.params)
        params[compiled.slot] = value
        with connection.cursor() as cursor, _prepared(connection):
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        found = []
        for row in _converted(compiled.compiler, rows, compiled.converters):
            instance = compiled.model.from_db(self._using, compiled.init_list, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        queryset = self._build(_PLACEHOLDER)
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()  # also sets compiler.select and klass_info
        slots = [at for at, param in enumerate(params) if param in _PLACEHOLDERS]
        if len(slots) != 1 or compiler.annotation_col_map:
            raise ValueError("a PreparedQuery uses its value once and selects no annotations")
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slot=slots[0],
            compiler=compiler,
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            fields=slice(start, end),
            populators=get_related_populators(klass_info, select, self._using),
            converters=_converters(compiler),
        )
        _compiled_on(connection)[self] = compiled
        return compiled


def _converters(compiler: SQLCompiler) -> dict[int, Any]:
    """What `SQLCompiler.results_iter` works out on every read: the converters of the
    selected columns (after `as_sql`, which fills `compiler.select`)."""
    return compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])


def _converted(compiler: SQLCompiler, rows: list[Any], converters: dict[int, Any]) -> Any:
    """The rows as `results_iter` gives them, with the converters worked out once."""
    return compiler.apply_converters(rows, converters) if converters else rows


# PreparedValues' placeholder for the value at `index` of its list `which`.
def _placeholder_of(which: int, index: int) -> int:
    return _PLACEHOLDER - which * 1_000_000 - index


@dataclass(frozen=True)
class _CompiledValues:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int, int], ...]  # (where in params, which list, which value)
    compiler: SQLCompiler
    converters: dict[int, Any]


class PreparedValues:
    """`PreparedValues(lambda users, songs: Like.objects.filter(user_id__in=users,
    song_id__in=songs).values_list(...))`, then `.rows([7], [1, 2, 3])`: a values_list read
    whose SQL depends only on how many values each list has (a page's ids), compiled once per
    connection and shape, then only sent with the values; rows as the ORM converts them.

    What it buys: the ORM's building and compiling of a page's marks (library.selectors.
    marks_of), several times the query's own time. With `prepare`, PostgreSQL prepares each
    shape's statement as well (for reads that want one plan for any values, as lookups on a
    unique index do); psycopg keeps at most `prepared_max` (100) per connection, dropping the
    oldest. `build` gets each list as placeholders, must use each somewhere (any number of
    times) and make the same SQL for any values.
    """

    # Shapes kept per connection (page sizes, with or without an album): the oldest goes.
    MAX_SHAPES = 64

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        prepare: bool = False,
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        self._build = build
        self._prepare = prepare
        self._using = using

    def rows(self, *values: list[Any]) -> list[tuple[Any, ...]]:
        connection = connections[self._using]
        shape = tuple(len(each) for each in values)
        shapes: dict[tuple[int, ...], _CompiledValues] = _compiled_on(connection).setdefault(
            self, {}
        )
        compiled = shapes.get(shape) or self._compile(shapes, shape)
        params = list(compiled.params)
        for position, which, index in compiled.slots:
            params[position] = values[which][index]
        with (
            connection.cursor() as cursor,
            _prepared(connection) if self._prepare else nullcontext(),
        ):
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [tuple(row) for row in _converted(compiled.compiler, rows, compiled.converters)]

    def _compile(
        self, shapes: dict[tuple[int, ...], _CompiledValues], shape: tuple[int, ...]
    ) -> _CompiledValues:
        placeholders = {
            marker: (which, index)
            for which, count in enumerate(shape)
            for index in range(count)
            for marker in (_placeholder_of(which, index), str(_placeholder_of(which, index)))
        }
        queryset = self._build(
            *(
                [_placeholder_of(which, index) for index in range(count)]
                for which, count in enumerate(shape)
            )
        )
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        slots = tuple(
            (position, *placeholders[param])
            for position, param in enumerate(params)
            if isinstance(param, int | str) and param in placeholders
        )
        if {(which, index) for _, which, index in slots} != set(placeholders.values()):
            raise ValueError("a PreparedValues read uses each of its values")
        if len(shapes) >= self.MAX_SHAPES:
            del shapes[next(iter(shapes))]
        shapes[shape] = compiled = _CompiledValues(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            converters=_converters(compiler),
        )
        return compiled
