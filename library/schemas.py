import json
from datetime import datetime
from typing import Annotated, Any, Literal

import pydantic
from django.db.models.fields.files import FieldFile
from ninja import Field, Schema
from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from catalog.models import Song
from catalog.schemas import AlbumOut, ArtistOut, SongOut
from core.errors import Invalid, validation_items
from core.files.storage import absolute_file_url
from core.schemas import (
    MAX_ID,
    Flag,
    InSchema,
    OutSchema,
    PatchSchema,
    RowId,
    context_request,
    form_null,
    refuse_flag_as_number,
)
from core.text import Text
from library.smart_schemas import SmartRules
from users.schemas import UserPublic

PlaylistName = Text(max_length=100)
Description = Text(max_length=300, required=False)
Position = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(refuse_flag_as_number)]

# Swagger's "Example Value": a real playlist, not "string".
EXAMPLE_PLAYLIST = "Late Night"
EXAMPLE_DESCRIPTION = "Slow songs for after midnight."


class PlaylistOut(OutSchema):
    id: int = Field(..., examples=[11])
    name: str = Field(..., examples=[EXAMPLE_PLAYLIST])
    description: str = Field(..., examples=[EXAMPLE_DESCRIPTION])
    is_public: bool
    kind: Literal["manual", "smart"] = Field(
        ...,
        examples=["manual"],
        description="smart: its songs are those its rules take when read; its songs cannot "
        "be added, moved or removed.",
    )
    rules: SmartRules | None = Field(..., description="A smart playlist's rules; null if manual.")
    owner: UserPublic
    # song_count, duration and (for image_url) first_cover are annotated by
    # library.selectors.with_summary: every answer is a playlist read through it, writes too.
    song_count: int = Field(
        ...,
        examples=[14],
        description="A smart playlist's: as it is now in the answer of one playlist (GET, "
        "create, change); in lists, as of the last time it was answered alone.",
    )
    duration: int = Field(
        ...,
        description="Seconds: the sum of its songs' durations (a smart one's: as song_count).",
        examples=[3125],
    )
    image_url: str | None = Field(
        ...,
        description="The playlist's uploaded image, else its first song's cover.",
        examples=["https://music.example.com/media/playlist_images/late-night.jpg"],
    )
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return "smart" if obj.rules is not None else "manual"

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        if obj.image:
            return absolute_file_url(context_request(context), obj.image)
        cover = obj.first_cover
        if not cover:
            return None
        # The stored name of a song's or album's image: both are in the default storage.
        stored = FieldFile(None, Song._meta.get_field("image"), cover)
        return absolute_file_url(context_request(context), stored)


class PlaylistItemOut(OutSchema):
    position: int = Field(..., description="0-based; a playlist's positions run 0..n-1.")
    added_at: datetime = Field(
        ..., description="A smart playlist's: when the song came into the catalog."
    )
    song: SongOut

    @staticmethod
    def resolve_song(obj: Any) -> Any:
        # A smart playlist's items are its songs themselves (library.smart.smart_items).
        return obj if isinstance(obj, Song) else obj.song


class PlaylistFilters(Schema):
    owner: RowId | None = Field(
        None, description="A user's id: that user's public playlists instead of yours."
    )


IMAGE_FILE_NOT_NULL = "image_file takes null (removes the image) or, in multipart, a file."


def _null_removes_image(value: Any) -> None:
    # Anything but null (the text null in a form) would otherwise get pydantic's bare
    # "Input should be None", which does not say what the field is for.
    if form_null(value) is not None:
        raise PydanticCustomError("image_file", IMAGE_FILE_NOT_NULL)


RULES_NOT_JSON = "rules in a form is JSON text: this one does not parse."


def _json_text_in_form(value: Any, info: ValidationInfo) -> Any:
    # A form's values are text: rules come as their JSON there.
    if isinstance(value, str) and (info.context or {}).get("form"):
        try:
            return json.loads(value)
        except ValueError:
            raise PydanticCustomError("json_invalid", RULES_NOT_JSON) from None
    return value


class PlaylistIn(InSchema):
    name: PlaylistName = Field(..., examples=[EXAMPLE_PLAYLIST])
    description: Description = Field("", examples=[EXAMPLE_DESCRIPTION])
    is_public: Flag = False
    rules: SmartRules | None = Field(
        None, description="Rules make it a smart playlist (JSON bodies only); null: manual."
    )


class SmartPreviewIn(InSchema):
    rules: SmartRules


class NspImportIn(PatchSchema):  # PatchSchema: a name left out is no name, never null
    name: PlaylistName = Field(
        None, examples=[EXAMPLE_PLAYLIST], description="Default: the file's own name."
    )


def parse_fields(schema: type[InSchema], data: dict[str, Any]) -> dict[str, Any]:
    """`data` checked by `schema` as a body is (422 naming each field), as a dict."""
    try:
        return schema.model_validate(data).dict(exclude_unset=True)
    except pydantic.ValidationError as error:
        raise Invalid.of_items(*validation_items(error, location="body")) from None


class PlaylistPatch(PatchSchema):
    name: PlaylistName = Field(None, examples=[EXAMPLE_PLAYLIST])
    description: Description = Field(None, examples=[EXAMPLE_DESCRIPTION])
    is_public: Flag = None
    image_file: Annotated[None, BeforeValidator(_null_removes_image)] = Field(
        None,
        description="null (in a form, the text null) removes the image; in multipart, a "
        "file replaces it.",
    )
    rules: Annotated[SmartRules, BeforeValidator(_json_text_in_form)] = Field(
        None,
        description="A smart playlist's new rules (a manual playlist takes none); in "
        "multipart, as JSON text.",
    )


class PlaylistItemIn(InSchema):
    song_id: RowId
    position: Position | None = Field(
        None, description="Where the song goes, 0 to the number of songs; default: the end."
    )


class PlaylistItemMove(InSchema):
    from_position: Position
    to_position: Position


SEARCH_MAX_LIMIT = 20


class SearchQuery(Schema):
    q: Text(max_length=100) = Field(
        ..., description="1 to 100 characters: words of a title, a name, an artist or an album."
    )
    limit: int = Field(5, ge=1, le=SEARCH_MAX_LIMIT, description="How many of each kind, 1 to 20.")


class SearchOut(OutSchema):
    songs: list[SongOut]
    albums: list[AlbumOut]
    artists: list[ArtistOut]
    playlists: list[PlaylistOut] = Field(..., description="Public playlists and your own.")


# --- The listener's likes and history ----------------------------------------------


class LikedSongOut(OutSchema):
    liked_at: datetime
    song: SongOut


class PlayHistoryOut(OutSchema):
    played_at: datetime
    song: SongOut


MAX_CONTAINS_IDS = 50
IDS_COUNT = f"Send 1 to {MAX_CONTAINS_IDS} song ids, separated by commas."
IDS_INVALID = f"Each id must be a whole number from 1 to {MAX_ID}."


def _song_ids(value: Any) -> list[int]:
    """`?ids=1,2,3` (or `?ids=1&ids=2`, as ninja reads a list: one string per value) as ints.

    Every refusal is about `ids` as a whole, not about one position in it."""
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in values):
        raise ValueError(IDS_INVALID)
    parts = [part for item in values for part in item.split(",")]
    if not 1 <= len(parts) <= MAX_CONTAINS_IDS:
        raise ValueError(IDS_COUNT)
    # ASCII digits only: int() would also take " 7", "+7", "7_0" and other scripts' digits.
    if not all(part.isascii() and part.isdigit() and 1 <= int(part) <= MAX_ID for part in parts):
        raise ValueError(IDS_INVALID)
    return [int(part) for part in parts]


class LikesContainsQuery(Schema):
    ids: Annotated[
        list[RowId],
        BeforeValidator(_song_ids),
        Field(min_length=1, max_length=MAX_CONTAINS_IDS),
    ] = Field(
        ...,
        description=f"1 to {MAX_CONTAINS_IDS} song ids, comma-separated (`?ids=1,2,3`).",
    )
