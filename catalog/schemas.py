from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import BeforeValidator

from catalog.models import GENRE_MAX_LENGTH, POSITION_MAX, YEAR_MAX, YEAR_MIN
from catalog.renditions import StreamFormat, outputs_current, ready_formats, replay_gain
from core.files.storage import absolute_file_url
from core.schemas import (
    InSchema,
    NullableId,
    OutSchema,
    PatchSchema,
    RowId,
    context_request,
    nullable,
    refuse_flag_as_number,
)
from core.text import Text

SongOrdering = Literal["created_at", "-created_at", "title", "artist"]
AlbumOrdering = Literal["created_at", "-created_at", "title", "artist"]


@cache
def _path_template(url_name: str) -> str:
    # One reverse() for the process, not one per song of a list (a tenth of a list's time).
    marker = 987654321
    path = reverse(url_name, kwargs={"song_id": marker})
    return path.replace(str(marker), "{song_id}")


def _song_url(url_name: str, song_id: int, context: dict[str, Any]) -> str:
    path = _path_template(url_name).format(song_id=song_id)
    request = context_request(context)
    return request.build_absolute_uri(path) if request is not None else path


# A title or an artist's name.
Name = Text(max_length=200)
# A filter's term: blank means no filter.
Term = Text(max_length=200, required=False)
# `?search=`: the rules of core/search.py (docs/API.md, section 5).
SONG_SEARCH = "Words of the title, artist or album, in any order (the last may be a prefix)."
ALBUM_SEARCH = "Words of the title or artist, in any order (the last may be a prefix)."
NAME_SEARCH = "Words of the name, in any order (the last may be a prefix)."
ReleaseYear = Annotated[
    int, Field(ge=YEAR_MIN, le=YEAR_MAX), BeforeValidator(refuse_flag_as_number)
]
# A track or disc number.
Position = Annotated[int, Field(ge=1, le=POSITION_MAX), BeforeValidator(refuse_flag_as_number)]
Genre = Text(max_length=GENRE_MAX_LENGTH)
# `?genre=`: blank means no filter.
GenreTerm = Text(max_length=GENRE_MAX_LENGTH, required=False)


ARTIST_NAME = "The artist as this entry credits them (the name sent when it was written)."

# Swagger's "Example Value": a real song, not "string".
EXAMPLE_TITLE = "So What"
EXAMPLE_ALBUM_TITLE = "Kind of Blue"
EXAMPLE_ARTIST = "Miles Davis"
EXAMPLE_IMAGE_URL = "https://music.example.com/media/album_images/kind-of-blue.jpg"
EXAMPLE_AUDIO_URL = "https://music.example.com/api/songs/42/stream/"
EXAMPLE_WAVEFORM_URL = "https://music.example.com/api/songs/42/waveform/"
EXAMPLE_ARTIST_IMAGE_URL = "https://music.example.com/media/artist_images/miles-davis.jpg"
EXAMPLE_GENRE = "Jazz"

GENRE = (
    "Free text. Genres compare ignoring case: a write takes the spelling the catalog already "
    'has for the genre ("jazz" is stored as "Jazz" once "Jazz" exists).'
)
SONG_YEAR = "The song's own year (its album's is the album's `release_year`)."
TRACK_NUMBER = "The song's place on its disc, 1 to 999."
DISC_NUMBER = "The disc of the album the song is on, 1 to 999."


def _credited_name(obj: Any) -> str:
    return obj.artist_name


class ReplayGainOut(OutSchema):
    """ReplayGain 2.0 from the song's EBU R128 loudness: gains to -18 LUFS in dB, true peaks
    as linear amplitudes (1.0 is full scale). A song without a measured album is its own
    album."""

    track_gain: float = Field(..., examples=[-3.42])
    track_peak: float = Field(..., examples=[0.988553])
    album_gain: float = Field(..., examples=[-2.9])
    album_peak: float = Field(..., examples=[1.012011])


class SongOut(OutSchema):
    id: int = Field(..., examples=[42])
    title: str = Field(..., examples=[EXAMPLE_TITLE])
    artist: str = Field(..., description=ARTIST_NAME, examples=[EXAMPLE_ARTIST])
    artist_id: int = Field(..., examples=[3])
    album_id: int | None = Field(..., examples=[5])
    genre: str | None = Field(..., description=GENRE, examples=[EXAMPLE_GENRE])
    year: int | None = Field(..., description=SONG_YEAR, examples=[1959])
    track_number: int | None = Field(..., description=TRACK_NUMBER, examples=[1])
    disc_number: int | None = Field(..., description=DISC_NUMBER, examples=[1])
    duration: int = Field(
        ..., description="Whole seconds, read from the audio file.", examples=[562]
    )
    image_url: str | None = Field(
        ..., description="The song's image, else its album's.", examples=[EXAMPLE_IMAGE_URL]
    )
    audio_url: str = Field(
        ..., description="The stream URL (Range requests welcome).", examples=[EXAMPLE_AUDIO_URL]
    )
    formats: list[StreamFormat] = Field(
        ...,
        description=(
            "What the stream's `?format=` serves right now: `original` (the file as uploaded) "
            "always, then each rendition once the media pipeline has made it (Opus 128k, "
            "AAC 256k, MP3 192k). A format not listed yet streams the original."
        ),
        examples=[["original", "opus", "aac", "mp3"]],
    )
    replay_gain: ReplayGainOut | None = Field(
        ..., description="Null until the pipeline has measured the song's loudness."
    )
    waveform_url: str | None = Field(
        ...,
        description="Peaks for a seek bar (audiowaveform JSON, version 2); null until made.",
        examples=[EXAMPLE_WAVEFORM_URL],
    )
    created_at: datetime
    updated_at: datetime

    resolve_artist = staticmethod(_credited_name)

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        # The album comes from select_related or the album's prefetch: no query here.
        image = obj.image or (obj.album.image if obj.album_id else None)
        return absolute_file_url(context_request(context), image)

    @staticmethod
    def resolve_audio_url(obj: Any, context: dict[str, Any]) -> str:
        return _song_url("api:song_stream", obj.id, context)

    @staticmethod
    def resolve_formats(obj: Any) -> list[StreamFormat]:
        return ready_formats(obj)

    @staticmethod
    def resolve_replay_gain(obj: Any) -> ReplayGainOut | None:
        # The album comes from select_related or the album's prefetch: no query here.
        gain = replay_gain(obj, obj.album if obj.album_id else None)
        return None if gain is None else ReplayGainOut(**vars(gain))

    @staticmethod
    def resolve_waveform_url(obj: Any, context: dict[str, Any]) -> str | None:
        if not (obj.waveform_file and outputs_current(obj)):
            return None
        return _song_url("api:song_waveform", obj.id, context)


class AlbumOut(OutSchema):
    id: int = Field(..., examples=[5])
    title: str = Field(..., examples=[EXAMPLE_ALBUM_TITLE])
    artist: str = Field(..., description=ARTIST_NAME, examples=[EXAMPLE_ARTIST])
    artist_id: int = Field(..., examples=[3])
    release_year: int | None = Field(..., examples=[1959])
    genre: str | None = Field(..., description=GENRE, examples=[EXAMPLE_GENRE])
    image_url: str | None = Field(..., examples=[EXAMPLE_IMAGE_URL])
    # Annotated by every album selector (writes answer a re-read through album_get).
    song_count: int = Field(..., examples=[5])
    created_at: datetime
    updated_at: datetime

    resolve_artist = staticmethod(_credited_name)

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return absolute_file_url(context_request(context), obj.image)


class AlbumDetail(AlbumOut):
    songs: list[SongOut] = Field(
        ...,
        description="The album's songs by disc, then track number (unnumbered ones last), "
        "then in the order added.",
    )

    @staticmethod
    def resolve_songs(obj: Any) -> list[Any]:
        return obj.tracks  # read with the album by catalog.selectors.albums.album_get


class ArtistOut(OutSchema):
    id: int = Field(..., examples=[3])
    name: str = Field(..., examples=[EXAMPLE_ARTIST])
    image_url: str | None = Field(..., examples=[EXAMPLE_ARTIST_IMAGE_URL])
    song_count: int = Field(..., examples=[12])
    album_count: int = Field(..., examples=[2])

    @staticmethod
    def resolve_image_url(obj: Any, context: dict[str, Any]) -> str | None:
        return absolute_file_url(context_request(context), obj.image)


class ArtistDetail(ArtistOut):
    albums: list[AlbumOut] = Field(
        ..., description="The artist's albums, newest first (the first 100)."
    )
    top_songs: list[SongOut] = Field(
        ...,
        description="Up to 10 songs: the most played of the last 28 days, then the newest.",
    )

    @staticmethod
    def resolve_albums(obj: Any) -> list[Any]:
        return obj.albums_newest  # read by selectors.artist_get


ArtistOrdering = Literal["name", "-song_count"]


class ArtistFilters(Schema):
    search: Term | None = Field(None, description=NAME_SEARCH)
    ordering: ArtistOrdering = "name"


ALBUM_ID = "The album; null (in a form, the text null) for a single."


class SongIn(InSchema):
    """Create (multipart) or replace (PUT). The duration is read from the audio file: a
    `duration` field is refused (422) like any other field the schema does not name."""

    title: Name = Field(..., examples=[EXAMPLE_TITLE])
    artist: Name = Field(..., examples=[EXAMPLE_ARTIST])
    album_id: NullableId = Field(None, description=ALBUM_ID, examples=[5])
    genre: nullable(Genre) = Field(None, description=GENRE, examples=[EXAMPLE_GENRE])
    year: nullable(ReleaseYear) = Field(None, description=SONG_YEAR, examples=[1959])
    track_number: nullable(Position) = Field(None, description=TRACK_NUMBER, examples=[1])
    disc_number: nullable(Position) = Field(None, description=DISC_NUMBER, examples=[1])


class SongPatch(PatchSchema):
    title: Name = Field(None, examples=[EXAMPLE_TITLE])
    artist: Name = Field(None, examples=[EXAMPLE_ARTIST])
    album_id: NullableId = Field(None, description=ALBUM_ID, examples=[5])
    genre: nullable(Genre) = Field(None, description=GENRE, examples=[EXAMPLE_GENRE])
    year: nullable(ReleaseYear) = Field(None, description=SONG_YEAR, examples=[1959])
    track_number: nullable(Position) = Field(None, description=TRACK_NUMBER, examples=[1])
    disc_number: nullable(Position) = Field(None, description=DISC_NUMBER, examples=[1])


class AlbumIn(InSchema):
    title: Name = Field(..., examples=[EXAMPLE_ALBUM_TITLE])
    artist: Name = Field(..., examples=[EXAMPLE_ARTIST])
    release_year: nullable(ReleaseYear) = Field(None, examples=[1959])
    genre: nullable(Genre) = Field(None, description=GENRE, examples=[EXAMPLE_GENRE])


class AlbumPatch(PatchSchema):
    title: Name = Field(None, examples=[EXAMPLE_ALBUM_TITLE])
    artist: Name = Field(None, examples=[EXAMPLE_ARTIST])
    release_year: nullable(ReleaseYear) = Field(None, examples=[1959])
    genre: nullable(Genre) = Field(None, description=GENRE, examples=[EXAMPLE_GENRE])


GENRE_FILTER = "The genre, ignoring case (as `GET /api/genres/` names it)."


class SongFilters(Schema):
    search: Term | None = Field(None, description=SONG_SEARCH)
    artist: Term | None = Field(None, description="The artist, ignoring case.")
    album_id: RowId | None = None
    genre: GenreTerm | None = Field(None, description=GENRE_FILTER)
    ordering: SongOrdering = "-created_at"


class AlbumFilters(Schema):
    search: Term | None = Field(None, description=ALBUM_SEARCH)
    artist: Term | None = Field(None, description="The artist, ignoring case.")
    genre: GenreTerm | None = Field(None, description=GENRE_FILTER)
    ordering: AlbumOrdering = "-created_at"


class GenreOut(Schema):
    name: str = Field(
        ...,
        description="The genre as the catalog spells it (`?genre=` on the song and album "
        "lists takes it).",
        examples=[EXAMPLE_GENRE],
    )
    song_count: int = Field(..., description="Songs of this genre.", examples=[120])
    album_count: int = Field(..., description="Albums of this genre.", examples=[9])


class PlayOut(OutSchema):
    id: int
    song_id: int
    played_at: datetime


class StreamChoice(Schema):
    format: StreamFormat = Field(
        StreamFormat.ORIGINAL,
        description=(
            "`original` (the file as uploaded), or a rendition: `opus` (Opus 128k in Ogg), "
            "`aac` (AAC 256k in MP4, index first), `mp3` (MP3 192k). A rendition not made yet "
            "(see the song's `formats`) streams the original; the Content-Type says which."
        ),
    )


# --- lyrics ---------------------------------------------------------------------------------


class LyricWordOut(Schema):
    start_ms: int = Field(..., examples=[12_340])
    text: str = Field(..., examples=["Remember"])


class LyricLineOut(Schema):
    start_ms: int | None = Field(
        ..., description="When to show the line (ms into the song); null in plain lyrics."
    )
    text: str = Field(..., examples=["Remember when you were young"])
    words: list[LyricWordOut] | None = Field(
        ..., description="Each word's start, from enhanced LRC; null when the file has none."
    )


class LyricsOut(Schema):
    synced: bool
    lang: str | None = Field(..., examples=["eng"])
    offset_ms: int = Field(
        ...,
        description=(
            "The file's [offset:] tag, as written. The lines' and words' times already "
            "include it: show them as they are."
        ),
        examples=[0],
    )
    lines: list[LyricLineOut]

    @staticmethod
    def resolve_lang(obj: Any) -> str | None:
        return obj.lang or None


# Lyrics sent as JSON text: far more than a song's (an .lrc is a few KB), and a length the
# schema's pattern can state to a fuzzer (a file, `lyrics_file`, may hold up to 256 KiB).
LYRICS_TEXT_MAX_CHARS = 20_000


class LyricsIn(InSchema):
    """The lyrics as text: an .lrc's, or plain lyrics."""

    text: Text(max_length=LYRICS_TEXT_MAX_CHARS, multiline=True) = Field(
        ..., examples=["[00:12.34]Remember when you were young"]
    )


class LyricsFileIn(InSchema):
    """A form's fields beside `lyrics_file`: none."""
