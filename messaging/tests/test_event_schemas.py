"""The Socket.IO events validate with plain twins of the REST schemas (core/schemas
`plain_twin`): the same values come out and the same rules refuse, in the same words."""

import pydantic
import pytest

from messaging.schemas import ActivityEvent, ActivityIn, MessageEvent, MessageIn


def outcome(model: type[pydantic.BaseModel], data: object) -> object:
    try:
        return model.model_validate(data).model_dump()
    except pydantic.ValidationError as error:
        return [(item["type"], item["loc"], item["msg"]) for item in error.errors()]


@pytest.mark.parametrize(
    "data",
    [
        {"receiver_id": 5, "content": "  Hi there  "},
        {"receiver_id": "5", "content": "Hi\nthere"},
        {"receiver_id": "x", "content": "Hi"},
        {"receiver_id": 5, "content": "   "},
        {"receiver_id": 5, "content": "a\x00b"},
        {"receiver_id": 5, "content": "x" * 2001},
        {"receiver_id": 2**70, "content": "Hi"},
        {"receiver_id": 0, "content": "Hi"},
        {"receiver_id": 5, "content": "Hi", "sender_id": 1},
        {},
    ],
)
def test_a_message_event_is_validated_as_the_rest_body_is(data):
    assert outcome(MessageEvent, data) == outcome(MessageIn, data)


@pytest.mark.parametrize(
    "data",
    [{"activity": "  Playing X by Y "}, {"activity": "x" * 201}, {"activity": None}, {}],
)
def test_an_activity_event_is_validated_as_the_schema_says(data):
    assert outcome(ActivityEvent, data) == outcome(ActivityIn, data)


def test_a_payload_that_is_no_object_is_refused():
    with pytest.raises(pydantic.ValidationError):
        MessageEvent.model_validate(["not", "an", "object"])
