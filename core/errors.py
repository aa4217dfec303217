"""The one exception type for business rules, and the one shape of a 422 item.

The API maps `ApiError` to `{"detail": "<sentence>"}`; a 422 is
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` whether the input came as JSON,
form data, multipart or the query string.
"""

from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

import pydantic


class ApiError(Exception):
    """A refusal with the HTTP status that API.md gives for it and a human sentence."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class NotFoundError(ApiError):
    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__(HTTPStatus.NOT_FOUND, detail)


class NotAuthenticatedError(ApiError):
    """The caller is not, or no longer, a signed-in active user."""

    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.UNAUTHORIZED, detail)


class ConflictError(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.CONFLICT, detail)


class UnprocessableError(ApiError):
    """A 422 about one field, with one item per reason (a weak password may have three)."""

    def __init__(self, field: str, *reasons: str, location: str = "body") -> None:
        super().__init__(HTTPStatus.UNPROCESSABLE_ENTITY, " ".join(reasons))
        self.field = field
        self.reasons = reasons
        self.location = location

    def as_errors(self) -> list[dict[str, Any]]:
        return [error_item((self.location, self.field), reason) for reason in self.reasons]


class PayloadTooLargeError(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)


class StorageUnavailable(Exception):
    """The file storage (the bucket) is down, stuck or overloaded: nothing was stored or
    read, and the same request may work in a few seconds. Raised by the storage layer
    (core/files/object_storage.py); the API answers 503 with Retry-After, the admin a page
    that says so."""


def error_item(loc: Sequence[str | int], msg: str, type_: str = "value_error") -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type_}


# Pydantic prefixes the sentences our validators raise; clients get the sentence alone.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def pydantic_error_items(
    errors: Iterable[dict[str, Any]], *, location: str, drop: str | None = None
) -> list[dict[str, Any]]:
    """Pydantic's errors as 422 items under `location` ("body", "query", "path").

    `drop` is a leading name to leave out of each `loc`: ninja nests a whole-body schema
    under its parameter's name (`["body", "payload", "email"]`), which clients never sent.
    """
    items = []
    for error in errors:
        loc = tuple(error["loc"])
        if drop is not None and loc[:1] == (drop,):
            loc = loc[1:]
        msg = str(error["msg"])
        for prefix in _PYDANTIC_PREFIXES:
            msg = msg.removeprefix(prefix)
        items.append(error_item((location, *loc), msg, str(error["type"])))
    return items


def validation_items(error: pydantic.ValidationError, *, location: str) -> list[dict[str, Any]]:
    return pydantic_error_items(
        error.errors(include_url=False, include_context=False, include_input=False),
        location=location,
    )
