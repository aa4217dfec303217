"""Free text as the API takes it: one cleaned-text type for names, titles, content and filters.

A value is refused (422) when it carries a control character (NUL, which PostgreSQL cannot
store, and the rest of Unicode's Cc block), an invisible or direction-changing character
(bidirectional controls such as the right-to-left override, zero-width spaces, the byte order
mark), a lone surrogate (which no database encoding takes), or when it is blank where a value
is required; otherwise it is trimmed. The same rule is written into the OpenAPI schema as a
`pattern`, so that clients and fuzzers know it; the admin's forms (core/forms.py) and the CSV
import (catalog/resources.py) call `clean_text` too.

The zero-width joiner and non-joiner (U+200D, U+200C) are kept: emoji sequences (👩‍👩‍👧) and
Persian and Indic scripts need them, and they reorder nothing.
"""

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

BLANK = "This field may not be blank."
CONTROL_CHARACTERS = "This field may not contain control characters."
INVISIBLE_CHARACTER = (
    "This field may not contain {code_point} ({name}), an invisible or direction-changing "
    "character."
)
NOT_TEXT = "This field is not valid Unicode text."

# Unicode's Cc block; multi-line text keeps tab, newline and carriage return.
_SINGLE_LINE_FORBIDDEN = r"\x00-\x1f\x7f-\x9f"
_MULTI_LINE_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Characters that change the direction of the text around them or show nothing at all, which
# make a name read differently from what it is (U+202E turns "gpj.exe" into "exe.jpg"):
# Arabic letter mark, Mongolian vowel separator, zero-width space, left-to-right and
# right-to-left marks, the embeddings and overrides U+202A-U+202E, word joiner and invisible
# operators U+2060-U+2064, the isolates U+2066-U+2069, deprecated format controls
# U+206A-U+206F, and the byte order mark (zero-width no-break space).
_INVISIBLE = r"\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_INVISIBLE_CHARACTER = re.compile(f"[{_INVISIBLE}]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What trimming drops: ECMAScript's white space (JSON Schema patterns are ECMAScript), so that
# the schema's pattern and the server agree on what is blank. Controls are refused first.
# (The byte order mark, which ECMAScript counts as white space, is refused above instead.)
_SPACES = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_MULTI_LINE_SPACES = r"\t\n\r" + _SPACES
_STRIPPED = re.compile(f"^[{_MULTI_LINE_SPACES}]+|[{_MULTI_LINE_SPACES}]+$")


def _forbidden(multiline: bool) -> str:
    return (_MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN) + _INVISIBLE


def text_pattern(*, max_length: int, multiline: bool = False, required: bool = True) -> str:
    """The rule as a JSON Schema pattern: what trimming keeps is 1 (or 0) to `max_length`
    characters without a control character.

    The length is written into the pattern rather than as `maxLength`, which would count the
    spaces that trimming drops.
    """
    forbidden = _forbidden(multiline)
    spaces = _MULTI_LINE_SPACES if multiline else _SPACES
    space = f"[{spaces}]"
    visible = f"[^{forbidden}{spaces}]"
    kept = f"{visible}(?:[^{forbidden}]{{0,{max_length - 2}}}{visible})?"
    return f"^{space}*{kept}{space}*$" if required else f"^{space}*(?:{kept})?{space}*$"


def invisible_character_message(character: str) -> str:
    """The refusal of `character`, named by its code point: "U+202E (RIGHT-TO-LEFT OVERRIDE)"."""
    return INVISIBLE_CHARACTER.format(
        code_point=f"U+{ord(character):04X}",
        name=unicodedata.name(character, "an unnamed character"),
    )


def clean_text(value: str, *, multiline: bool = False, required: bool = True) -> str:
    """`value` trimmed; ValueError with the sentence for the client when it breaks the rule."""
    if _SURROGATE.search(value):
        raise ValueError(NOT_TEXT)
    invisible = _INVISIBLE_CHARACTER.search(value)
    if invisible:
        raise ValueError(invisible_character_message(invisible.group()))
    if re.search(f"[{_forbidden(multiline)}]", value):
        raise ValueError(CONTROL_CHARACTERS)
    value = _STRIPPED.sub("", value)
    if required and not value:
        raise ValueError(BLANK)
    return value


def Text(*, max_length: int, multiline: bool = False, required: bool = True) -> Any:
    """A cleaned-text field type: `title: Text(max_length=200)`.

    `max_length` counts the characters kept, after trimming. With `required=False` a blank
    value is taken as "" (filters treat that as no filter).
    """

    def validate(value: str) -> str:
        value = clean_text(value, multiline=multiline, required=required)
        if len(value) > max_length:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": max_length},
            )
        return value

    extra: dict[str, Any] = {
        "pattern": text_pattern(max_length=max_length, multiline=multiline, required=required)
    }
    if required:
        extra["minLength"] = 1
    return Annotated[str, Field(json_schema_extra=extra), AfterValidator(validate)]
