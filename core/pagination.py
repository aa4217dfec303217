"""Pages of every list: `?limit=` with either `?offset=` or `?cursor=`.

The answer is `{"items", "count", "next"}`. `next` is an opaque, signed cursor for the page
after this one in the same ordering (null on the last page); following it is a keyset query,
so it costs the same at item 500,000 as at item 0. Out-of-range values, `offset` together
with `cursor`, and a malformed or tampered cursor are a 422, never a silent clamp.

A cursor names its list (the path) and signs a digest of its filters and its ordering: given
to another list, or with other filters or another ordering, it is a 422 rather than a page
of something else.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import ValidationError
from ninja.pagination import PaginationBase

from core.errors import error_item
from core.schemas import MAX_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

CURSOR_WITH_OFFSET = "Send either offset or cursor, not both."
CURSOR_INVALID = "This cursor is not one the server gave for this list."
CURSOR_OTHER_LIST = (
    "This cursor belongs to another list: use a cursor only on the list that gave it."
)
CURSOR_OTHER_QUERY = (
    "This cursor was given for other filters or another ordering: send the same ones as the "
    "page that gave it, or start again without a cursor."
)

_SALT = "core.pagination.cursor"
# Left out of a cursor's query digest: the page's own parameters, and `ordering`, which the
# cursor holds as resolved (so `?ordering=-created_at` and no ordering are the same list).
_NOT_THE_QUERY = frozenset({"limit", "offset", "cursor", "ordering"})


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1 to 200.")
    # Bounded by bigint: past it the database would overflow rather than answer empty.
    offset: int | None = Field(
        None, ge=0, le=MAX_ID, description="How many items to skip (not with `cursor`)."
    )
    cursor: str | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="The `next` of the page before: the page after it, at the same cost at any "
        "depth (not with `offset`). Only on the list that gave it, with the same filters and "
        "ordering (422 otherwise).",
    )


def _refuse(msg: str) -> ValidationError:
    return ValidationError([error_item(("query", "cursor"), msg)])


def _ordering(queryset: QuerySet) -> list[str]:
    order = list(queryset.query.order_by or queryset.model._meta.ordering)
    names = {key.lstrip("-") for key in order}
    # A keyset needs a unique last key, or rows that tie would be skipped or repeated.
    if not names & {"id", "pk"}:
        raise ValueError(f"{queryset.model.__name__} list is not ordered by a unique key")
    return order


def _query_digest(request: HttpRequest) -> str:
    """A short digest of the list's filters: the query's parameters in any order, trimmed,
    empty values counting as absent."""
    pairs = sorted(
        (key, value.strip())
        for key, values in request.GET.lists()
        if key not in _NOT_THE_QUERY
        for value in values
        if value.strip()
    )
    return hashlib.blake2s(json.dumps(pairs).encode(), digest_size=6).hexdigest()


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(queryset: QuerySet, name: str, value: Any) -> Any:
    if name in queryset.query.annotations:  # a computed key (a smart playlist's position)
        return queryset.query.annotations[name].output_field.to_python(value)
    field = queryset.model._meta.pk if name == "pk" else queryset.model._meta.get_field(name)
    return field.to_python(value)


def _after(order: list[str], values: list[Any]) -> Q:
    """Rows after `values` in `order`: (a, b) > (x, y) spelled as lookups any database takes.

    The leading bound (`a >= x`) lets an index on the ordering start at the cursor instead of
    filtering everything before it.
    """
    first = order[0]
    leading = Q(**{f"{first.lstrip('-')}__{'lte' if first.startswith('-') else 'gte'}": values[0]})
    after = Q()
    for index, key in enumerate(order):
        name = key.lstrip("-")
        strictly = Q(**{f"{name}__{'lt' if key.startswith('-') else 'gt'}": values[index]})
        for prior_key, prior_value in zip(order[:index], values[:index], strict=True):
            strictly &= Q(**{prior_key.lstrip("-"): prior_value})
        after = strictly if index == 0 else after | strictly
    return leading & after


Counter = Callable[[QuerySet], int | None]


class Page(PaginationBase):
    """`@paginate(Page)`; `@paginate(Page, count=f)` where a list has a cheaper exact count
    (`f` answers None to fall back to `count()`)."""

    Input = PageParams

    def __init__(self, *, count: Counter | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counter = count

    def paginate_queryset(
        self, queryset: QuerySet, pagination: PageParams, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        order = _ordering(queryset)
        limit = pagination.limit
        if pagination.cursor is not None:
            if pagination.offset is not None:
                raise _refuse(CURSOR_WITH_OFFSET)
            values = self._values(queryset, order, pagination.cursor, request)
            rows = queryset.filter(_after(order, values))
        else:
            offset = pagination.offset or 0
            rows = queryset[offset : offset + limit + 1]
        items = list(rows[: limit + 1]) if pagination.cursor is not None else list(rows)
        has_more = len(items) > limit
        items = items[:limit]
        return {
            "items": items,
            "count": self._count(queryset, pagination, items, has_more),
            "next": self._cursor(order, items[-1], request) if has_more else None,
        }

    def _count(
        self, queryset: QuerySet, pagination: PageParams, items: list[Any], has_more: bool
    ) -> int:
        if pagination.cursor is None and items and not has_more:
            return (pagination.offset or 0) + len(items)  # the last page: no count needed
        counted = self.counter(queryset) if self.counter is not None else None
        return counted if counted is not None else queryset.count()

    @staticmethod
    def _cursor(order: list[str], last: Any, request: HttpRequest) -> str:
        """The position (`v`, in the ordering `o`), signed with the list it belongs to (`l`,
        its path) and a digest of its query (`q`)."""
        values = [_encode(getattr(last, key.lstrip("-"))) for key in order]
        data = {"l": request.path, "q": _query_digest(request), "o": order, "v": values}
        return signing.dumps(data, salt=_SALT, compress=True)

    @staticmethod
    def _values(
        queryset: QuerySet, order: list[str], cursor: str, request: HttpRequest
    ) -> list[Any]:
        try:
            data = signing.loads(cursor, salt=_SALT)
        except signing.BadSignature as error:
            raise _refuse(CURSOR_INVALID) from error
        if not isinstance(data, dict) or "l" not in data:
            raise _refuse(CURSOR_INVALID)  # not a cursor, or one from before cursors named lists
        if data.get("l") != request.path:
            raise _refuse(CURSOR_OTHER_LIST)
        if data.get("q") != _query_digest(request) or data.get("o") != order:
            raise _refuse(CURSOR_OTHER_QUERY)
        try:
            if len(data["v"]) != len(order):
                raise ValueError("a position of another length")
            return [
                _decode(queryset, key.lstrip("-"), value)
                for key, value in zip(order, data["v"], strict=True)
            ]
        except (
            DjangoValidationError,
            ValueError,
            TypeError,
            KeyError,
        ) as error:
            raise _refuse(CURSOR_INVALID) from error
