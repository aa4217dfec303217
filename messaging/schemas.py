from datetime import datetime

from ninja import Field, Schema

from core.schemas import InSchema, RowId, plain_twin
from core.text import Text
from messaging.models import CONTENT_MAX_LENGTH

ACTIVITY_MAX_LENGTH = 200


EXAMPLE_CONTENT = "See you at the gig tonight?"


class MessageOut(Schema):
    id: int = Field(..., examples=[128])
    sender_id: int = Field(..., examples=[3])
    receiver_id: int = Field(..., examples=[7])
    content: str = Field(..., examples=[EXAMPLE_CONTENT])
    created_at: datetime


class MessageIn(InSchema):
    """What a sender gives, over REST or Socket.IO. The sender is always the caller."""

    receiver_id: RowId = Field(..., examples=[7])
    # REST and Socket.IO both validate with this schema, so they refuse alike.
    content: Text(max_length=CONTENT_MAX_LENGTH, multiline=True) = Field(
        ...,
        description=(
            f"At most {CONTENT_MAX_LENGTH} characters, stored trimmed; not blank; no control "
            "characters but tab and newlines."
        ),
        examples=[EXAMPLE_CONTENT],
    )


class ActivityIn(Schema):
    """`update_activity` over Socket.IO, e.g. "Playing X by Y" or "Idle"."""

    activity: Text(max_length=ACTIVITY_MAX_LENGTH)


# The events' payloads, validated by the same rules without ninja's wrapper (core/schemas).
MessageEvent = plain_twin(MessageIn)
ActivityEvent = plain_twin(ActivityIn)
