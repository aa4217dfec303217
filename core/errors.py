"""Domain errors: what a service or selector refuses, in a sentence, with no HTTP in it.

A service raises one of the kinds below with a sentence (a module constant its tests reuse);
the API's exception handlers (`core/api.py`, `DOMAIN_ERROR_STATUSES`) alone give each kind its
status and the body `{"detail": "<sentence>"}`. `Invalid` is the 422: its items answer
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`, the shape of every 422 whether
the input came as JSON, form data, multipart or the query string. The admin, the CSV import
and the socket events catch these same errors and show the sentence.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import pydantic

NOT_FOUND = "Not found."


class DomainError(Exception):
    """A refusal by a business rule, with the sentence the caller reads."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    def __init__(self, detail: str = NOT_FOUND) -> None:
        super().__init__(detail)


class NotAuthenticated(DomainError):
    """The caller is not, or no longer, a signed-in active user (or its token is not valid)."""


class PermissionDenied(DomainError):
    """The caller is known, and may not do this."""


class Conflict(DomainError):
    """The write contradicts what is stored (a name taken, a row changed meanwhile)."""


class Invalid(DomainError):
    """Input a rule refuses: one item per reason (a weak password may have three).

    `Invalid("field", reason, ...)` is about one field; `Invalid.of_items(...)` takes items
    as `error_item` builds them, about the body as a whole or about several fields.
    """

    def __init__(self, field: str, *reasons: str, location: str = "body") -> None:
        super().__init__(" ".join(reasons))
        self.items = [error_item((location, field), reason) for reason in reasons]

    @classmethod
    def of_items(cls, *items: dict[str, Any]) -> "Invalid":
        error = cls("", *(item["msg"] for item in items))
        error.items = list(items)
        return error


class TooLarge(DomainError):
    """A part of the input (an uploaded file) is larger than its cap."""


class Throttled(DomainError):
    """An abuse limit is reached; the same call works again after `retry_after` seconds."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# How long a client waits before trying again after a dependency (database, bucket) was away.
RETRY_AFTER_SECONDS = 5


class Unavailable(DomainError):
    """An outside service the call needs (a scrobbling service) did not answer, or answered
    that it is overloaded: nothing was written, and the same call may work after
    `retry_after` seconds (the API's 503 with Retry-After)."""

    def __init__(self, detail: str, *, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


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
