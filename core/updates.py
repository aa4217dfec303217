"""Partial updates: which fields a caller set, and setting them on a row.

A service that changes a row takes each field as a keyword argument defaulting to `UNSET`,
so that "not sent" (leave it) and `None` (clear it) stay apart and every field is typed:

    def album_update(*, album_id: int, title: str | Unset = UNSET, ...) -> Album:
        album = ...
        model_update(instance=album, data={"title": title, ...})
"""

from enum import Enum
from typing import Any, Final, TypeAlias


class _Unset(Enum):
    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset: TypeAlias = _Unset


def model_update(*, instance: Any, data: dict[str, Any]) -> list[str]:
    """Set on `instance` each value of `data` that is not UNSET; the caller saves.

    Answers the names of the fields whose value changed.
    """
    changed = []
    for field, value in data.items():
        if value is UNSET:
            continue
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return changed
