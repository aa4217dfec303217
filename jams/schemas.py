from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, conint, conlist, model_validator

from catalog.schemas import SongOut
from core.schemas import Flag, InSchema, PatchSchema, RowId, no_null_defaults, plain_twin
from jams.models import CODE_LENGTH, MAX_MEMBERS
from jams.services import ACTIONS, MAX_ADD, ONE_SOURCE
from users.schemas import UserPublic

EXAMPLE_CODE = "K7QM2XWA"
# The demo page (config/urls.py), which joins the Jam of its `?code=`.
JAM_PAGE = "/jam/"
PositionMs = conint(ge=0, le=24 * 3600 * 1000)


class JamMemberOut(UserPublic):
    role: Literal["host", "cohost", "guest"] = Field(..., examples=["guest"])
    joined_at: datetime

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return obj.user_id

    @staticmethod
    def resolve_full_name(obj: Any) -> str:
        return obj.user.full_name

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return UserPublic.resolve_image_url(obj.user, context)


class JamItemOut(Schema):
    id: int = Field(..., examples=[91])
    position: int = Field(..., examples=[0])
    song: SongOut
    added_by: UserPublic | None = Field(..., description="Null once their account is gone.")


class JamNowOut(Schema):
    item_id: int | None = Field(..., examples=[91])
    position_ms: int = Field(..., examples=[0])
    playing: bool
    at_server_ms: int = Field(
        ..., description="The server's clock (Unix ms) at which `position_ms` holds."
    )
    seq: int = Field(..., description="Grows with each command.", examples=[0])


class JamOut(Schema):
    id: int = Field(..., examples=[4])
    code: str = Field(..., examples=[EXAMPLE_CODE])
    join_url: str = Field(
        ...,
        description="The demo page, joining this Jam.",
        examples=[f"https://music.example.com{JAM_PAGE}?code={EXAMPLE_CODE}"],
    )
    host: UserPublic
    members: list[JamMemberOut] = Field(..., description="In the order they joined.")
    max_members: int = Field(..., examples=[MAX_MEMBERS])
    guests_can_control: bool
    guests_can_add: bool
    queue: list[JamItemOut]
    now: JamNowOut
    created_at: datetime

    @staticmethod
    def resolve_join_url(obj: Any, context: dict[str, Any]) -> str:
        path = f"{JAM_PAGE}?code={obj.code}"
        request = (context or {}).get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return obj.present

    @staticmethod
    def resolve_max_members(obj: Any) -> int:
        return MAX_MEMBERS

    @staticmethod
    def resolve_queue(obj: Any) -> list[Any]:
        return obj.queue

    @staticmethod
    def resolve_now(obj: Any) -> dict[str, Any]:
        return {
            "item_id": obj.now_item_id,
            "position_ms": obj.position_ms,
            "playing": obj.playing,
            "at_server_ms": obj.at_server_ms,
            "seq": obj.seq,
        }


SOURCES = ("song_ids", "album_id", "playlist_id")


def _one_source_schema(schema: dict[str, Any]) -> None:
    """Say in the schema what the validator below checks: no null defaults (null is
    refused), and never two sources at once."""
    no_null_defaults(schema)
    schema["not"] = {
        "anyOf": [
            {"required": [first, second]}
            for index, first in enumerate(SOURCES)
            for second in SOURCES[index + 1 :]
        ]
    }


class _OneSource(InSchema):
    """At most one source of songs; each may be left out, none may be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_source_schema)

    song_ids: conlist(RowId, min_length=1, max_length=MAX_ADD) = Field(None, examples=[[12, 13]])
    album_id: RowId = None
    playlist_id: RowId = None

    @model_validator(mode="after")
    def _at_most_one(self) -> "_OneSource":
        given = [self.song_ids, self.album_id, self.playlist_id]
        if sum(value is not None for value in given) > 1:
            raise ValueError(ONE_SOURCE)
        return self


class JamIn(_OneSource):
    """Everything optional: an empty Jam, paused, guests adding but not controlling."""

    guests_can_control: Flag = False
    guests_can_add: Flag = True


class JoinIn(InSchema):
    code: str = Field(..., min_length=1, max_length=4 * CODE_LENGTH, examples=[EXAMPLE_CODE])


class JamPatch(PatchSchema):
    guests_can_control: Flag = None
    guests_can_add: Flag = None


class RoleIn(InSchema):
    role: Literal["cohost", "guest"]


# --- Socket.IO payloads (docs/API.md section 8, "Jam") -----------------------------------


class JamRef(InSchema):
    jam_id: RowId


class CommandIn(JamRef):
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    position_ms: PositionMs | None = None
    item_id: RowId | None = None


class EndedIn(JamRef):
    item_id: RowId


class QueueAddIn(JamRef, _OneSource):
    pass


class QueueRemoveIn(JamRef):
    item_id: RowId


class QueueMoveIn(JamRef):
    item_id: RowId
    position: conint(ge=0, le=100_000)


class TimeSyncIn(Schema):
    t0: float = Field(..., allow_inf_nan=False)
    jam_id: RowId | None = None
    rtt_ms: conint(ge=0, le=60_000) | None = None


JamRefEvent = plain_twin(JamRef)
CommandEvent = plain_twin(CommandIn)
EndedEvent = plain_twin(EndedIn)
QueueAddEvent = plain_twin(QueueAddIn)
QueueRemoveEvent = plain_twin(QueueRemoveIn)
QueueMoveEvent = plain_twin(QueueMoveIn)
TimeSyncEvent = plain_twin(TimeSyncIn)
