from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from core.files import absolute_file_url

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


class RegistrationIn(Schema):
    email: str = Field(..., max_length=254)
    password1: str = Field(..., max_length=128)
    password2: str = Field(..., max_length=128)
    full_name: str = Field(..., min_length=1, max_length=150)

    @field_validator("email")
    @classmethod
    def email_is_valid(cls, value: str) -> str:
        value = value.strip()
        try:
            validate_email(value)
        except DjangoValidationError as error:
            raise ValueError(INVALID_EMAIL) from error
        return value

    @field_validator("full_name")
    @classmethod
    def full_name_is_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("The full name may not be blank.")
        return value


class LoginIn(Schema):
    email: str = Field(..., max_length=254)
    password: str = Field(..., max_length=128)


class RefreshIn(Schema):
    refresh: str = Field(..., max_length=2048)


class UserPatch(Schema):
    """What a user may change about themselves; email and admin fields are refused."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(None, min_length=1, max_length=150)

    @field_validator("full_name")
    @classmethod
    def full_name_is_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("The full name may not be blank.")
        return value.strip() if value is not None else None


class UserFilters(Schema):
    search: str | None = Field(None, max_length=150, description="Part of the full name.")
