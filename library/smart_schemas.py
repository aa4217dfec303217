"""The rules of a smart playlist as the API takes and answers them (library.schemas
re-exports them): a group `{match, rules}` of rules `{field, operator, value}` and nested
groups, with a sort, an order and a limit. Each field takes the operators of its type, and
each operator the value it needs; a refusal names the rule (`body.rules.rules.2.value`)."""

from datetime import date
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import (
    ConfigDict,
    Discriminator,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.text import Text

MAX_DEPTH = 3  # the top group and two levels of groups inside it
MAX_RULES = 50  # rules and groups, all levels together
MAX_LIMIT = 1000
MAX_DAYS = 36_500
MAX_NUMBER = 2**31 - 1
MAX_TEXT = 200

TEXT_FIELDS = ("title", "artist", "album", "genre")
NUMBER_FIELDS = ("year", "duration", "play_count", "rating")
DATE_FIELDS = ("date_added", "last_played")
FIELDS = (*TEXT_FIELDS, *NUMBER_FIELDS, *DATE_FIELDS, "liked")

TEXT_OPERATORS = ("is", "is_not", "contains", "not_contains", "starts_with", "ends_with")
NUMBER_OPERATORS = ("is", "is_not", "gt", "lt", "in_range")
DATE_OPERATORS = ("in_the_last_days", "not_in_the_last_days", "before", "after", "in_range")

TextField = Literal["title", "artist", "album", "genre"]
NumberField = Literal["year", "duration", "play_count", "rating"]
DateField = Literal["date_added", "last_played"]
SortField = Literal[
    "title",
    "artist",
    "album",
    "genre",
    "year",
    "duration",
    "play_count",
    "rating",
    "date_added",
    "last_played",
    "liked",
]

UNKNOWN_FIELD = "Unknown field: one of " + ", ".join(FIELDS) + "."
NOT_A_RULE = "Each rule is an object: {field, operator, value} or a group {match, rules}."
TOO_DEEP = f"Groups nest at most {MAX_DEPTH} levels deep (the top group counts)."
TOO_MANY_RULES = f"A smart playlist has at most {MAX_RULES} rules and groups in all."
TEXT_VALUE = f"The value is a text of 1 to {MAX_TEXT} characters."
NUMBER_VALUE = f"The value is a whole number from -{MAX_NUMBER} to {MAX_NUMBER}."
RANGE_VALUE = "The value is [low, high], two whole numbers with low <= high."
DAYS_VALUE = f"The value is a number of days, 1 to {MAX_DAYS}."
DATE_VALUE = "The value is a date, YYYY-MM-DD."
DATE_RANGE_VALUE = "The value is [first, last], two dates (YYYY-MM-DD) with first <= last."
LIKED_VALUE = "The value is true or false."

EXAMPLE_RULES = {
    "match": "all",
    "rules": [
        {"field": "liked", "operator": "is", "value": True},
        {"field": "year", "operator": "in_range", "value": [1990, 1999]},
        {
            "match": "any",
            "rules": [
                {"field": "genre", "operator": "is", "value": "Rock"},
                {"field": "artist", "operator": "contains", "value": "Radiohead"},
            ],
        },
    ],
    "sort": "play_count",
    "order": "desc",
    "limit": 100,
}


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("smart_rule", message)


def _whole(value: Any) -> bool:
    # Negative numbers are taken: `play_count gt -1` (every song) is a common Navidrome idiom.
    return type(value) is int and -MAX_NUMBER <= value <= MAX_NUMBER


def _pair(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _refuse(DATE_VALUE)


class _Rule(Schema):
    model_config = ConfigDict(extra="forbid")

    @staticmethod
    def _operator(info: Any) -> str | None:
        # None when the operator was refused: its error alone says what to fix.
        return info.data.get("operator")


class TextRule(_Rule):
    field: TextField = Field(..., examples=["artist"])
    operator: Literal[TEXT_OPERATORS] = Field(
        ...,
        examples=["contains"],
        description="Ignoring case (ASCII letters on SQLite, every letter on PostgreSQL); "
        "accents count.",
    )
    # The API's text rule (trimmed, no control or invisible characters: PostgreSQL's JSON
    # cannot even store a NUL).
    value: Text(max_length=MAX_TEXT) = Field(..., examples=["Radiohead"], description=TEXT_VALUE)

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise _refuse(TEXT_VALUE)
        return value


class NumberRule(_Rule):
    field: NumberField = Field(
        ...,
        examples=["year"],
        description="duration in seconds; play_count and rating (0 = not rated, 1 to 5) are "
        "the playlist owner's.",
    )
    operator: Literal[NUMBER_OPERATORS] = Field(..., examples=["in_range"])
    value: int | tuple[int, int] = Field(
        ...,
        examples=[[1990, 1999]],
        description="A whole number; [low, high] (both included) for in_range.",
    )

    @field_validator("value", mode="wrap")
    @classmethod
    def _number(cls, value: Any, handler: Any, info: Any) -> Any:
        operator = cls._operator(info)
        if operator is None:
            return value
        if operator == "in_range":
            if not (_pair(value) and all(map(_whole, value)) and value[0] <= value[1]):
                raise _refuse(RANGE_VALUE)
            return (value[0], value[1])
        if not _whole(value):
            raise _refuse(NUMBER_VALUE)
        return value


class DateRule(_Rule):
    field: DateField = Field(
        ...,
        examples=["last_played"],
        description="date_added: when the song came into the catalog; last_played: the "
        "playlist owner's last play (never played: no date).",
    )
    operator: Literal[DATE_OPERATORS] = Field(..., examples=["in_the_last_days"])
    value: int | date | tuple[date, date] = Field(
        ...,
        examples=[30],
        description="Days (in_the_last_days, not_in_the_last_days); a date YYYY-MM-DD "
        "(before, after: that day excluded); [first, last] (in_range, both days included). "
        "Days are UTC.",
    )

    @field_validator("value", mode="wrap")
    @classmethod
    def _date(cls, value: Any, handler: Any, info: Any) -> Any:
        operator = cls._operator(info)
        if operator is None:
            return value
        if operator in ("in_the_last_days", "not_in_the_last_days"):
            if type(value) is not int or not 1 <= value <= MAX_DAYS:
                raise _refuse(DAYS_VALUE)
            return value
        if operator == "in_range":
            if not _pair(value):
                raise _refuse(DATE_RANGE_VALUE)
            try:
                first, last = _as_date(value[0]), _as_date(value[1])
            except PydanticCustomError:
                raise _refuse(DATE_RANGE_VALUE) from None
            if first > last:
                raise _refuse(DATE_RANGE_VALUE)
            return (first, last)
        return _as_date(value)


class LikedRule(_Rule):
    field: Literal["liked"] = Field(
        ..., examples=["liked"], description="Whether the playlist owner likes it."
    )
    operator: Literal["is"] = Field(..., examples=["is"])
    value: bool = Field(..., description=LIKED_VALUE)

    @field_validator("value", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        if type(value) is not bool:
            raise _refuse(LIKED_VALUE)
        return value


_KIND_OF_FIELD = {
    **dict.fromkeys(TEXT_FIELDS, "text"),
    **dict.fromkeys(NUMBER_FIELDS, "number"),
    **dict.fromkeys(DATE_FIELDS, "date"),
    "liked": "liked",
}
_TAGS = frozenset({"text", "number", "date", "liked", "group"})


def _kind(value: Any) -> str | None:
    """Which model reads a rule: a group by its keys, a rule by its field's type."""
    if isinstance(value, Schema):
        return "group" if isinstance(value, RuleGroup) else _KIND_OF_FIELD[value.field]
    if not isinstance(value, dict):
        return None
    if "match" in value or "rules" in value:
        return "group"
    field = value.get("field")
    return _KIND_OF_FIELD.get(field) if isinstance(field, str) else None


def _unknown(value: Any) -> None:
    raise _refuse(UNKNOWN_FIELD if isinstance(value, dict) else NOT_A_RULE)


Node = Annotated[
    (
        Annotated[TextRule, Tag("text")]
        | Annotated[NumberRule, Tag("number")]
        | Annotated[DateRule, Tag("date")]
        | Annotated[LikedRule, Tag("liked")]
        | Annotated["RuleGroup", Tag("group")]
    ),
    Discriminator(
        _kind,
        custom_error_type="smart_rule",
        custom_error_message=f"{UNKNOWN_FIELD} {NOT_A_RULE}",
    ),
]
Rule = TextRule | NumberRule | DateRule | LikedRule


class RuleGroup(Schema):
    model_config = ConfigDict(extra="forbid")

    match: Literal["all", "any"] = Field(
        ..., examples=["any"], description="all: every rule holds; any: at least one."
    )
    rules: list[Node] = Field(..., min_length=1, max_length=MAX_RULES)


def _depth_and_count(group: RuleGroup) -> tuple[int, int]:
    depth, count = 1, 0
    for node in group.rules:
        count += 1
        if isinstance(node, RuleGroup):
            inner_depth, inner_count = _depth_and_count(node)
            depth, count = max(depth, inner_depth + 1), count + inner_count
    return depth, count


def _without_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic puts the union member's tag after a list index (`rules.2.number.value`);
    clients sent `rules.2.value`."""
    kept: list[Any] = []
    for part in loc:
        if part in _TAGS and kept and isinstance(kept[-1], int):
            continue
        kept.append(part)
    return tuple(kept)


class SmartRules(RuleGroup):
    """The whole definition of a smart playlist: its top group, sort, order and limit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_RULES]})

    sort: SortField = Field(
        "title", examples=["play_count"], description="Ties go to the older song (by id)."
    )
    order: Literal["asc", "desc"] = Field(
        "asc",
        examples=["desc"],
        description="Songs without a value (album, genre, year, last_played) last, in both orders.",
    )
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT, examples=[100])

    @model_validator(mode="wrap")
    @classmethod
    def _clean_locations(cls, data: Any, handler: Any) -> Any:
        try:
            rules = handler(data)
        except ValidationError as error:
            details = [
                InitErrorDetails(
                    type=PydanticCustomError(item["type"], item["msg"]),
                    loc=_without_tags(tuple(item["loc"])),
                    input=item.get("input"),
                )
                for item in error.errors(include_url=False)
            ]
            raise ValidationError.from_exception_data(error.title, details) from None
        depth, count = _depth_and_count(rules)
        if depth > MAX_DEPTH:
            raise _refuse(TOO_DEEP)
        if count > MAX_RULES:
            raise _refuse(TOO_MANY_RULES)
        return rules


def rules_json(rules: SmartRules) -> dict[str, Any]:
    """The rules as stored (Playlist.rules) and answered: plain JSON."""
    return rules.model_dump(mode="json")
