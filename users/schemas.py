import re
from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, WithJsonSchema

from core.files.storage import absolute_file_url
from core.schemas import InSchema, PatchSchema
from core.text import Text

INVALID_EMAIL = "Enter a valid email address."

# Swagger's "Example Value": what a person would type, not "string".
EXAMPLE_EMAIL = "ada@example.com"
EXAMPLE_PASSWORD = "Blue-Train-1957"  # noqa: S105 (an example in the docs, no account's)
EXAMPLE_NAME = "Ada Lovelace"
EXAMPLE_IMAGE_URL = "https://music.example.com/media/user_images/ada.jpg"
EXAMPLE_ACCESS = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWN"
    "jZXNzIiwiZXhwIjoxNzk2MjY4MTIwLCJ1c2VyX2lkIjo3fQ.AogUzL6IRz1rGlEbe5zudkh_nZ0twyFKk2lOSdMSHaw"
)
EXAMPLE_REFRESH = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmV"
    "mcmVzaCIsImV4cCI6MTc5Njg3MjAyMCwidXNlcl9pZCI6N30.hYMp8NHK_Y5a9XlJa6KccXzvBB2Zr1QBau_ZHp9E3cI"
)


def _image_url(user: Any, context: dict[str, Any] | None) -> str | None:
    return absolute_file_url((context or {}).get("request"), user.image)


class UserPublic(Schema):
    """Another listener as everyone may see them: never an email."""

    id: int = Field(..., examples=[7])
    full_name: str = Field(..., examples=[EXAMPLE_NAME])
    image_url: str | None = Field(..., examples=[EXAMPLE_IMAGE_URL])

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return _image_url(obj, context)


class UserMe(Schema):
    id: int = Field(..., examples=[7])
    email: str = Field(..., examples=[EXAMPLE_EMAIL])
    full_name: str = Field(..., examples=[EXAMPLE_NAME])
    image_url: str | None = Field(..., examples=[EXAMPLE_IMAGE_URL])
    is_admin: bool
    date_joined: datetime

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return _image_url(obj, context)


class TokenPair(Schema):
    access: str = Field(..., examples=[EXAMPLE_ACCESS])
    refresh: str = Field(..., examples=[EXAMPLE_REFRESH])


class AuthOut(TokenPair):
    user: UserMe


class AdminCheckOut(Schema):
    is_admin: bool


FullName = Text(max_length=150)


# An address as registration takes it, the rule in one pattern that the schema states and the
# server applies as it is (a subset of what Django's EmailValidator takes): a dot-atom of
# ASCII before the @, host labels that neither start nor end with a hyphen, and a top-level
# domain of two letters or more. Not trimmed: an address with spaces around it is refused.
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"
_EMAIL = re.compile(EMAIL_PATTERN.removesuffix("$") + r"\Z")


def _valid_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(INVALID_EMAIL)
    return value


Email = Annotated[
    str,
    Field(max_length=254),
    AfterValidator(_valid_email),
    WithJsonSchema({"type": "string", "minLength": 6, "maxLength": 254, "pattern": EMAIL_PATTERN}),
]


# Django's length and all-digits checks, written into the schema; Django words the 422.
Password = Annotated[
    str,
    Field(max_length=128, json_schema_extra={"minLength": 8, "pattern": r"\D"}),
]


class RegistrationIn(InSchema):
    """A new listener. Beyond this schema: `password2` must equal `password1`, and the
    password must pass the server's strength checks (not common, not like the email or
    name), each failure its own 422 item."""

    email: Email = Field(..., examples=[EXAMPLE_EMAIL])
    password1: Password = Field(..., examples=[EXAMPLE_PASSWORD])
    password2: Password = Field(..., examples=[EXAMPLE_PASSWORD])
    full_name: FullName = Field(..., examples=[EXAMPLE_NAME])


class LoginIn(InSchema):
    email: Text(max_length=254) = Field(..., examples=[EXAMPLE_EMAIL])
    password: str = Field(..., max_length=128, examples=[EXAMPLE_PASSWORD])


class RefreshIn(InSchema):
    refresh: str = Field(..., max_length=2048, examples=[EXAMPLE_REFRESH])


class UserPatch(PatchSchema):
    """What a user may change about themselves; email and admin fields are refused."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=PatchSchema.model_config["json_schema_extra"]
    )

    full_name: FullName = Field(None, examples=[EXAMPLE_NAME])


class UserFilters(Schema):
    search: Text(max_length=150, required=False) | None = Field(
        None, description="Words of the full name, in any order (the last may be a prefix)."
    )


EXAMPLE_APP_PASSWORD_NAME = "Phone (Symfonium)"  # noqa: S105 (a name, not a secret)
EXAMPLE_APP_SECRET = "k7mq3zr9vhx2wfnb8tjc4dp6sya5gue3"  # noqa: S105 (an example, no account's)


class AppPasswordIn(InSchema):
    name: Text(max_length=100) = Field(..., examples=[EXAMPLE_APP_PASSWORD_NAME])


class AppPasswordOut(Schema):
    """An app password as listed: never its secret."""

    id: int = Field(..., examples=[3])
    name: str = Field(..., examples=[EXAMPLE_APP_PASSWORD_NAME])
    created_at: datetime
    last_used_at: datetime | None = Field(
        ..., description="The last sign-in with it, to the minute; null if never used."
    )


class AppPasswordCreatedOut(AppPasswordOut):
    """The app password just made, with its secret: shown this once, never again."""

    secret: str = Field(
        ...,
        description=(
            "What the app takes as its password (`p`, or the token `t`/`s`) or as `apiKey`: "
            "32 lowercase letters and digits."
        ),
        examples=[EXAMPLE_APP_SECRET],
    )
