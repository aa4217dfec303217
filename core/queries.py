"""Lookups every app makes the same way."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from django.db import connections, transaction
from django.db.models import Count, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.errors import NotFound

ModelT = TypeVar("ModelT", bound=Model)


def get_or_not_found(rows: QuerySet[ModelT], detail: str, **filters: Any) -> ModelT:
    """The one row of `rows` that matches `filters`, else a 404 that says `detail`."""
    try:
        return rows.get(**filters)
    except rows.model.DoesNotExist:
        raise NotFound(detail) from None


def count_of(model: type[Model], field: str) -> Coalesce:
    """How many `model` rows point at the outer row through `field`, as an annotation: one
    scalar subquery per row of a page, on `field`'s index, instead of a join that multiplies
    with the row's other counts; 0 for none."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(rows=Count("pk"))
        .values("rows")
    )
    return Coalesce(Subquery(rows), 0)


@contextmanager
def _custom_plans(alias: str) -> Iterator[None]:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


class _PlannedPerValue(QuerySet):
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            with _custom_plans(self.db):
                super()._fetch_all()

    def count(self) -> int:
        with _custom_plans(self.db):
            return super().count()


@cache
def _planned_class(base: type[QuerySet]) -> type[QuerySet]:
    return type(f"PlannedPerValue{base.__name__}", (_PlannedPerValue, base), {})


def planned_per_value(rows: QuerySet[ModelT]) -> QuerySet[ModelT]:
    """`rows`, which PostgreSQL plans for the values of each execution.

    Prepared statements (settings: DATABASE_PREPARED_STATEMENTS) let PostgreSQL keep one
    plan for any value once it has run a query a few times. That is what the reads by id
    want; a search does not: planned without its term, `?search=` is taken to match many
    rows and the page is sought by walking the whole date index (seconds at a million songs)
    where the term's own plan reads the trigram index (milliseconds). So the rows are read
    in a transaction that asks for a plan made with the values, at the cost of two more
    statements."""
    planned = rows.all()
    planned.__class__ = _planned_class(type(rows))
    return planned
