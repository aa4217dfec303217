"""Navidrome's smart playlist files (`.nsp`): their criteria translated into our rules.

A `.nsp` file is JSON: `{"name", "comment", "all" | "any": [criterion, ...], "sort",
"order", "limit"}`, each criterion `{operator: {field: value}}` or a nested `{"all" | "any":
[...]}`. What maps onto our fields and operators is taken; anything else (another field, an
operator such as inPlaylist, a random sort) is refused, naming it, and nothing is written.
"""

import json
import os
from typing import Any

import pydantic

from core.errors import Invalid, error_item, validation_items
from library.smart_schemas import SmartRules

MAX_NSP_BYTES = 64 * 1024
FILE_FIELD = "nsp_file"
# A playlist's name when neither the form nor the file gives one, and the file's own name
# is no name either (as Navidrome names an imported playlist after its file).
UNNAMED = "Imported smart playlist"
NAME_MAX_LENGTH = 100  # library.models.Playlist.name


def name_of_file(filename: str | None) -> str:
    """The name an uploaded `.nsp` file gives its playlist: its own name without the
    extension, cut to a name's length; UNNAMED when that leaves nothing printable."""
    stem = os.path.splitext(os.path.basename(filename or ""))[0].strip()[:NAME_MAX_LENGTH].strip()
    return stem if stem.isprintable() and stem else UNNAMED


NSP_TOO_LARGE = f"A .nsp file is at most {MAX_NSP_BYTES // 1024} KiB."
NSP_NOT_UTF8 = "A .nsp file is UTF-8 text."
NSP_NOT_JSON = "A .nsp file is JSON: this one does not parse."
NSP_NOT_OBJECT = 'A .nsp file is a JSON object with "all" or "any".'
NSP_NO_GROUP = 'Give the criteria under "all" or "any" (one of them).'
NSP_CRITERION = "Each criterion is {operator: {field: value}} or a group {all|any: [...]}."
NSP_ONE_FIELD = "Give one field per operator: {operator: {field: value}}."
NSP_BAD_SORT = "The sort is one field, optionally after + or -."
NSP_LIMIT_PERCENT = "limitPercent is not supported: give limit, a number of songs."


def unsupported_field_message(field: str) -> str:
    return f"The field {field!r} is not supported: use one of " + ", ".join(FIELDS) + "."


def unsupported_operator_message(operator: str) -> str:
    return f"The operator {operator!r} is not supported: use one of " + ", ".join(OPERATORS) + "."


# Navidrome's names: ours.
FIELDS = {
    "title": "title",
    "album": "album",
    "artist": "artist",
    "genre": "genre",
    "year": "year",
    "duration": "duration",
    "dateadded": "date_added",
    "playcount": "play_count",
    "lastplayed": "last_played",
    "loved": "liked",
    "rating": "rating",
}
OPERATORS = {
    "is": "is",
    "isNot": "is_not",
    "gt": "gt",
    "lt": "lt",
    "contains": "contains",
    "notContains": "not_contains",
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "inTheRange": "in_range",
    "before": "before",
    "after": "after",
    "inTheLast": "in_the_last_days",
    "notInTheLast": "not_in_the_last_days",
}
_OPERATORS_BY_LOWER = {name.lower(): ours for name, ours in OPERATORS.items()}
_GROUPS = ("all", "any")


class _Refused(Exception):
    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _number(value: Any) -> Any:
    # Navidrome's JSON numbers may be floats (a duration of 300.0): whole ones are taken.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_number(each) for each in value]
    return value


def _group(criteria: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    keys = [key for key in _GROUPS if key in criteria]
    if len(keys) != 1 or not isinstance(criteria[keys[0]], list):
        raise _Refused(path, NSP_NO_GROUP)
    match = keys[0]
    return {
        "match": match,
        "rules": [_node(each, (*path, match, index)) for index, each in enumerate(criteria[match])],
    }


def _node(criterion: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
    if not isinstance(criterion, dict) or len(criterion) != 1:
        raise _Refused(path, NSP_CRITERION)
    ((operator, operand),) = criterion.items()
    if operator in _GROUPS:
        return _group(criterion, path)
    # Navidrome reads operator and field names ignoring case (`lastPlayed`, `playCount`).
    op = _OPERATORS_BY_LOWER.get(operator.lower())
    if op is None:
        raise _Refused((*path, operator), unsupported_operator_message(operator))
    if not isinstance(operand, dict) or len(operand) != 1:
        raise _Refused((*path, operator), NSP_ONE_FIELD)
    ((field, value),) = operand.items()
    ours = FIELDS.get(field.lower())
    if ours is None:
        raise _Refused((*path, operator, field), unsupported_field_message(field))
    if ours == "liked" and op == "is_not" and isinstance(value, bool):
        op, value = "is", not value  # we have `is` alone for a flag
    return {"field": ours, "operator": op, "value": _number(value)}


def _sort(sort: Any) -> tuple[str, str | None]:
    if not isinstance(sort, str) or "," in sort:
        raise _Refused(("sort",), NSP_BAD_SORT)
    sign, name = ("-", sort[1:]) if sort[:1] in "+-" and sort else ("", sort)
    if name.lower() not in FIELDS:
        raise _Refused(("sort",), unsupported_field_message(name))
    return FIELDS[name.lower()], "desc" if sign == "-" else None


def translate(raw: bytes) -> tuple[dict[str, Any], SmartRules]:
    """The file's name and comment (`{"name": ..., "description": ...}`, those it has) and
    its rules; Invalid naming the file field (and the criterion) otherwise."""
    if len(raw) > MAX_NSP_BYTES:
        raise Invalid(FILE_FIELD, NSP_TOO_LARGE)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Invalid(FILE_FIELD, NSP_NOT_UTF8) from None
    except ValueError:
        raise Invalid(FILE_FIELD, NSP_NOT_JSON) from None
    if not isinstance(data, dict):
        raise Invalid(FILE_FIELD, NSP_NOT_OBJECT)
    try:
        if "limitPercent" in data:
            raise _Refused(("limitPercent",), NSP_LIMIT_PERCENT)
        rules = _group(data, ())
        if "sort" in data:
            rules["sort"], order = _sort(data["sort"])
            if order is not None:
                rules["order"] = order
        if isinstance(data.get("order"), str):
            rules["order"] = data["order"].lower()
        if "limit" in data:
            rules["limit"] = data["limit"]
    except _Refused as refused:
        item = error_item(("body", FILE_FIELD, *refused.path), refused.message)
        raise Invalid.of_items(item) from None
    try:
        checked = SmartRules.model_validate(rules)
    except pydantic.ValidationError as error:
        items = validation_items(error, location="body")
        for item in items:
            item["loc"] = ["body", FILE_FIELD, *item["loc"][1:]]
        raise Invalid.of_items(*items) from None
    named = {"name": data.get("name"), "description": data.get("comment")}
    return {key: value for key, value in named.items() if isinstance(value, str)}, checked
