"""Lookups every app makes the same way."""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from core.errors import NotFoundError

ModelT = TypeVar("ModelT", bound=Model)


def get_or_not_found(rows: QuerySet[ModelT], detail: str, **filters: Any) -> ModelT:
    """The one row of `rows` that matches `filters`, else a 404 that says `detail`."""
    try:
        return rows.get(**filters)
    except rows.model.DoesNotExist:
        raise NotFoundError(detail) from None
