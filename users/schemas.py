from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, WithJsonSchema

from core.files import absolute_file_url
from core.schemas import PatchSchema
from core.text import Text, clean_text

INVALID_EMAIL = "Enter a valid email address."


def _image_url(user: Any, context: dict[str, Any] | None) -> str | None:
    return absolute_file_url((context or {}).get("request"), user.image)


class UserPublic(Schema):
    """Another listener as everyone may see them: never an email."""

    id: int
    full_name: str
    image_url: str | None

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return _image_url(obj, context)


class UserMe(Schema):
    id: int
    email: str
    full_name: str
    image_url: str | None
    is_admin: bool
    date_joined: datetime

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return _image_url(obj, context)


class TokenPair(Schema):
    access: str
    refresh: str


class AuthOut(TokenPair):
    user: UserMe


class AdminCheckOut(Schema):
    is_admin: bool


FullName = Text(max_length=150)


def _valid_email(value: str) -> str:
    value = clean_text(value)  # trimmed; blank or control characters refused first
    try:
        validate_email(value)
    except DjangoValidationError as error:
        raise ValueError(INVALID_EMAIL) from error
    return value


# Django's address rule in ASCII: a dot-atom before the @, host labels that neither start
# nor end with a hyphen, and a top-level domain of two letters or more.
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"


# An address as registration takes it: Django's check, written as `format: email`.
Email = Annotated[
    str,
    Field(max_length=254),
    AfterValidator(_valid_email),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "minLength": 6,
            "maxLength": 254,
            "pattern": EMAIL_PATTERN,
        }
    ),
]


# Django's length and all-digits checks, written into the schema; Django words the 422.
Password = Annotated[
    str,
    Field(max_length=128, json_schema_extra={"minLength": 8, "pattern": r"\D"}),
]


class RegistrationIn(Schema):
    """A new listener. Beyond this schema: `password2` must equal `password1`, and the
    password must pass the server's strength checks (not common, not like the email or
    name), each failure its own 422 item."""

    email: Email
    password1: Password
    password2: Password
    full_name: FullName


class LoginIn(Schema):
    email: Text(max_length=254)
    password: str = Field(..., max_length=128)


class RefreshIn(Schema):
    refresh: str = Field(..., max_length=2048)


class UserPatch(PatchSchema):
    """What a user may change about themselves; email and admin fields are refused."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=PatchSchema.model_config["json_schema_extra"]
    )

    full_name: FullName = None


class UserFilters(Schema):
    search: Text(max_length=150, required=False) | None = Field(
        None, description="Part of the full name."
    )
