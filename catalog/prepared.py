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
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

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
        # One per connection object: a compiler holds its connection, and threads have
        # their own.
        self._compiled: WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = WeakKeyDictionary()

    def rows(self, value: Any) -> list[ModelT]:
        connection = connections[self._using]
        compiled = self._compiled.get(connection) or self._compile(connection)
        params = list(compiled.params)
        params[compiled.slot] = value
        with connection.cursor() as cursor, _prepared(connection):
            cursor.execute(compiled.sql, params)
            results = [cursor.fetchall()]
        found = []
        for row in compiled.compiler.results_iter(results):
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
        )
        self._compiled[connection] = compiled
        return compiled
