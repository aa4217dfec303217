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
MAX_RULES = 50  # rules and groups in the top group
# Rules and groups in a group inside the top one, and rules in a group inside that: caps a
# schema can state (a total over every level it cannot), bounding a playlist to
# 50 + 50 * 10 + 500 * 5 conditions.
MAX_NESTED_RULES = (10, 5)
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
TOO_MANY_RULES = (
    f"A group inside the top one holds at most {MAX_NESTED_RULES[0]} rules and groups, and a "
    f"group inside that at most {MAX_NESTED_RULES[1]} rules."
)
TEXT_VALUE = f"The value is a text of 1 to {MAX_TEXT} characters."
NUMBER_VALUE = f"The value is a whole number from -{MAX_NUMBER} to {MAX_NUMBER}."
RANGE_VALUE = "The value is [low, high], two whole numbers (both included, either order)."
DAYS_VALUE = f"The value is a number of days, 1 to {MAX_DAYS}."
DATE_VALUE = "The value is a date, YYYY-MM-DD."
DATE_RANGE_VALUE = "The value is [first, last], two dates YYYY-MM-DD (both included, either order)."
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


def _integer(value: Any) -> int | None:
    """A JSON whole number as an int (`30.0` too, as JSON Schema counts it); None for
    anything else, `true` included."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _whole(value: Any) -> int | None:
    # Negative numbers are taken: `play_count gt -1` (every song) is a common Navidrome idiom.
    number = _integer(value)
    return number if number is not None and -MAX_NUMBER <= number <= MAX_NUMBER else None


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


def _variants(*variants: tuple[tuple[str, ...], dict[str, Any]]) -> Any:
    """A rule's JSON schema as one object a variant of operators, each with the value those
    operators take: what the validators below check, said so that a client (or a fuzzer)
    can tell a valid rule from the schema alone."""

    def rewrite(schema: dict[str, Any], model: Any) -> None:
        properties = schema["properties"]
        field_schema = {
            key: properties["field"][key]
            for key in ("enum", "type", "examples")
            if key in properties["field"]
        }
        one_of = []
        for operators, value in variants:
            one_of.append(
                {
                    "type": "object",
                    "properties": {
                        "field": field_schema,
                        "operator": {"type": "string", "enum": list(operators)},
                        "value": value,
                    },
                    "required": ["field", "operator", "value"],
                    "additionalProperties": False,
                }
            )
        title = schema.get("title")
        schema.clear()
        schema.update({"title": title, "oneOf": one_of})

    return rewrite


_WHOLE = {"type": "integer", "minimum": -(2**31 - 1), "maximum": 2**31 - 1}
_DATE = {"type": "string", "format": "date"}


def _two(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 2, "maxItems": 2}


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
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_variants(
            (("is", "is_not", "gt", "lt"), _WHOLE), (("in_range",), _two(_WHOLE))
        ),
    )

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
            pair = [_whole(number) for number in value] if _pair(value) else []
            if len(pair) != 2 or None in pair:
                raise _refuse(RANGE_VALUE)
            return (min(pair), max(pair))
        number = _whole(value)
        if number is None:
            raise _refuse(NUMBER_VALUE)
        return number


class DateRule(_Rule):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_variants(
            (
                ("in_the_last_days", "not_in_the_last_days"),
                {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
            ),
            (("before", "after"), _DATE),
            (("in_range",), _two(_DATE)),
        ),
    )

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
            days = _integer(value)
            if days is None or not 1 <= days <= MAX_DAYS:
                raise _refuse(DAYS_VALUE)
            return days
        if operator == "in_range":
            if not _pair(value):
                raise _refuse(DATE_RANGE_VALUE)
            try:
                first, last = _as_date(value[0]), _as_date(value[1])
            except PydanticCustomError:
                raise _refuse(DATE_RANGE_VALUE) from None
            return (min(first, last), max(first, last))
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


def _depth_and_overfull(group: RuleGroup, level: int = 1) -> tuple[int, bool]:
    """How deep the groups nest, and whether a nested group holds more than its level's cap."""
    depth, overfull = 1, level > 1 and len(group.rules) > MAX_NESTED_RULES[min(level, 3) - 2]
    for node in group.rules:
        if isinstance(node, RuleGroup):
            inner_depth, inner_overfull = _depth_and_overfull(node, level + 1)
            depth, overfull = max(depth, inner_depth + 1), overfull or inner_overfull
    return depth, overfull


def _levels_in_schema(schema: dict[str, Any], model: Any) -> None:
    """The published schema of the top group: groups nest three levels deep at most, each
    level with its cap, as the validator checks; the recursive `RuleGroup` would say any
    depth."""
    items = schema["properties"]["rules"]["items"]
    options = items.get("oneOf") or items.get("anyOf")
    # (The references are pydantic's own names while it writes the schema: matched by name.)
    rules = [option for option in options if "RuleGroup" not in option.get("$ref", "")]
    match = schema["properties"]["match"]

    def group(inner: list[dict[str, Any]], cap: int) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "match": match,
                "rules": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": cap,
                    "items": {"oneOf": inner},
                },
            },
            "required": ["match", "rules"],
            "additionalProperties": False,
        }

    innermost = group(rules, MAX_NESTED_RULES[1])
    inner = group([*rules, innermost], MAX_NESTED_RULES[0])
    schema["properties"]["rules"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_RULES,
        "items": {"oneOf": [*rules, inner]},
    }


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

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=lambda schema, model: (
            _levels_in_schema(schema, model),
            schema.update(examples=[EXAMPLE_RULES]),
        ),
    )

    sort: SortField = Field(
        "title", examples=["play_count"], description="Ties go to the older song (by id)."
    )
    order: Literal["asc", "desc"] = Field(
        "asc",
        examples=["desc"],
        description="Songs without a value (album, genre, year, last_played) last, in both orders.",
    )
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT, examples=[100])

    @field_validator("limit", mode="before")
    @classmethod
    def _limit_not_a_flag(cls, value: Any) -> Any:
        # Pydantic would take `true` for 1; a flag is refused as any other non-number is.
        if type(value) is bool:
            raise PydanticCustomError("int_type", "Input should be a valid integer")
        return value

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
        depth, overfull = _depth_and_overfull(rules)
        if depth > MAX_DEPTH:
            raise _refuse(TOO_DEEP)
        if overfull:
            raise _refuse(TOO_MANY_RULES)
        return rules


def rules_json(rules: SmartRules) -> dict[str, Any]:
    """The rules as stored (Playlist.rules) and answered: plain JSON."""
    return rules.model_dump(mode="json")
