"""Lookups every app makes the same way."""

from typing import Any, TypeVar

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
