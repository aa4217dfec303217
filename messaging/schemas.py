from datetime import datetime

from ninja import Field, Schema
from pydantic import field_validator

from core.schemas import MAX_ID
from messaging.models import CONTENT_MAX_LENGTH

ACTIVITY_MAX_LENGTH = 200

ACTIVITY_INVALID = f"The activity must be 1 to {ACTIVITY_MAX_LENGTH} characters of text."


class MessageOut(Schema):
    id: int
    sender_id: int
    receiver_id: int
    content: str
    created_at: datetime


class MessageIn(Schema):
    """What a sender gives, over REST or Socket.IO. The sender is always the caller."""

    receiver_id: int = Field(..., ge=1, le=MAX_ID)
    # The content rules (trimmed, 1..2000 characters, no NUL) live in the service, so REST
    # and Socket.IO refuse the same messages with the same sentences.
    content: str = Field(
        ...,
        description=f"1 to {CONTENT_MAX_LENGTH} characters after trimming; no NUL characters.",
    )


class ActivityIn(Schema):
    """`update_activity` over Socket.IO, e.g. "Playing X by Y" or "Idle"."""

    activity: str

    @field_validator("activity")
    @classmethod
    def activity_is_short_text(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > ACTIVITY_MAX_LENGTH or "\x00" in value:
            raise ValueError(ACTIVITY_INVALID)
        return value
