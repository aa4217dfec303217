"""`?limit=` (1..200, default 50) and `?offset=` (>= 0) answering `{"items", "count"}`.

Out-of-range values are a 422, never a silent clamp.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from core.schemas import MAX_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1 to 200.")
    # Bounded by bigint: past it the database would overflow rather than answer empty.
    offset: int = Field(0, ge=0, le=MAX_ID, description="How many items to skip.")


class LimitOffset(LimitOffsetPagination):
    Input = PageParams

    def paginate_queryset(
        self, queryset: QuerySet, pagination: PageParams, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        offset, limit = pagination.offset, pagination.limit
        return {"items": list(queryset[offset : offset + limit]), "count": queryset.count()}
