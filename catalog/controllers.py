from http import HTTPStatus
from typing import Any

from ninja import Query, Status
from ninja_extra import api_controller, route
from ninja_extra.pagination import paginate

from catalog import services, streaming
from catalog.lyrics import MAX_LYRICS_BYTES
from catalog.renditions import StreamFormat, stream_file
from catalog.schemas import (
    AlbumDetail,
    AlbumFilters,
    AlbumIn,
    AlbumOut,
    AlbumPatch,
    ArtistDetail,
    ArtistFilters,
    ArtistOut,
    GenreOut,
    LyricsFileIn,
    LyricsIn,
    LyricsOut,
    PlayOut,
    SongFilters,
    SongIn,
    SongOut,
    SongPatch,
    StreamChoice,
)
from catalog.search import search_count
from catalog.selectors import albums, artists, discovery, genres, lyrics, songs
from catalog.streaming import STREAM_OPENAPI, WAVEFORM_CONTENT_TYPE, WAVEFORM_OPENAPI
from core.auth import TOKEN_OPTIONAL, bearer_jwt
from core.bodies import body_openapi, is_form, parse_body
from core.controller_base import Controller
from core.error_responses import (
    ADMIN_ONLY,
    BY_ID,
    INVALID,
    RANGE_NOT_SATISFIABLE,
    TOO_LARGE,
    UNAUTHORIZED,
)
from core.pagination import Page
from core.permissions import IsAdmin
from core.schemas import PathId, page_of
from core.updates import UNSET

SONG_FILES = ("audio_file", "image_file")
LYRICS_FILES = ("lyrics_file",)
# One byte past the cap: enough for decode_lyrics to refuse a larger file, never more read.
LYRICS_READ_LIMIT = MAX_LYRICS_BYTES + 1
NEW_SONG_BODY = {"files": SONG_FILES, "required_files": ("audio_file",), "form_only": True}


def _lyrics_body_openapi() -> dict[str, Any]:
    """The lyrics' body as the route reads it: JSON `{text}`, or a form with `lyrics_file`."""
    as_json = body_openapi(LyricsIn)["requestBody"]["content"]["application/json"]
    as_form = body_openapi(
        LyricsFileIn, files=LYRICS_FILES, required_files=LYRICS_FILES, form_only=True
    )["requestBody"]["content"]["multipart/form-data"]
    return {
        "requestBody": {
            "content": {"multipart/form-data": as_form, "application/json": as_json},
            "required": True,
        }
    }


LYRICS_BODY_OPENAPI = _lyrics_body_openapi()
ALBUM_FILES = ("image_file",)


@api_controller("/songs", tags=["songs"])
class SongsController(Controller):
    @route.get(
        "/",
        operation_id="songs_list",
        response={HTTPStatus.OK: page_of(SongOut), **INVALID},
        summary="Songs, searched, filtered and ordered",
    )
    @paginate(Page, count=search_count)
    def list_songs(self, filters: Query[SongFilters]):
        return songs.song_list(**filters.dict())

    @route.get(
        "/featured/",
        operation_id="songs_featured",
        response={HTTPStatus.OK: list[SongOut]},
        summary="Six songs picked at random",
    )
    def featured(self):
        return discovery.songs_featured()

    @route.get(
        "/made-for-you/",
        operation_id="songs_made_for_you",
        response={HTTPStatus.OK: list[SongOut]},
        **TOKEN_OPTIONAL,
        summary="Four songs like the ones you play (at random when signed out)",
    )
    def made_for_you(self):
        user = self.context.request.auth
        return discovery.songs_made_for(user=user if user.is_authenticated else None)

    @route.get(
        "/trending/",
        operation_id="songs_trending",
        response={HTTPStatus.OK: list[SongOut]},
        summary="Four songs most played in the last 7 days, topped up at random",
    )
    def trending(self):
        return discovery.songs_trending()

    @route.get(
        "/{int:song_id}/",
        operation_id="songs_get",
        response={HTTPStatus.OK: SongOut, **BY_ID},
        summary="One song",
    )
    def get_song(self, song_id: PathId):
        return songs.song_get(song_id=song_id)

    @route.post(
        "/",
        operation_id="songs_create",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.CREATED: SongOut, **ADMIN_ONLY, **BY_ID, **TOO_LARGE},
        openapi_extra=body_openapi(SongIn, **NEW_SONG_BODY),
        summary="Add a song (multipart; the duration is read from the audio)",
    )
    def create_song(self):
        request = self.context.request
        payload = parse_body(request, SongIn, **NEW_SONG_BODY)
        song = services.song_create(
            **payload.dict(),
            audio_file=request.FILES["audio_file"],
            image_file=request.FILES.get("image_file"),
        )
        return Status(HTTPStatus.CREATED, song)

    @route.put(
        "/{int:song_id}/",
        operation_id="songs_replace",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.OK: SongOut, **ADMIN_ONLY, **BY_ID, **TOO_LARGE},
        openapi_extra=body_openapi(SongIn, files=SONG_FILES),
        summary="Replace a song's fields (JSON or multipart; files replace the old ones)",
    )
    def replace_song(self, song_id: PathId):
        return self._update_song(
            song_id, parse_body(self.context.request, SongIn, files=SONG_FILES).dict()
        )

    @route.patch(
        "/{int:song_id}/",
        operation_id="songs_update",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.OK: SongOut, **ADMIN_ONLY, **BY_ID, **TOO_LARGE},
        openapi_extra=body_openapi(SongPatch, files=SONG_FILES),
        summary="Change some of a song's fields (JSON or multipart)",
    )
    def update_song(self, song_id: PathId):
        payload = parse_body(self.context.request, SongPatch, files=SONG_FILES)
        return self._update_song(song_id, payload.dict(exclude_unset=True))

    def _update_song(self, song_id: int, fields: dict[str, Any]):
        files = self.context.request.FILES
        return services.song_update(
            song_id=song_id,
            **fields,
            audio_file=files.get("audio_file"),
            image_file=files.get("image_file", UNSET),  # not sent: the image stays
        )

    @route.delete(
        "/{int:song_id}/",
        operation_id="songs_delete",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.NO_CONTENT: None, **ADMIN_ONLY, **BY_ID},
        summary="Delete a song and its files",
    )
    def delete_song(self, song_id: PathId):
        services.song_delete(song_id=song_id)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.get(
        "/{int:song_id}/stream/",
        operation_id="songs_stream",
        url_name="song_stream",
        response={**BY_ID, **RANGE_NOT_SATISFIABLE},
        openapi_extra=STREAM_OPENAPI,
        summary="The audio bytes: Range (206, 416), ETag and Last-Modified (304), If-Range",
    )
    async def stream(self, song_id: PathId, choice: Query[StreamChoice]):
        return await self._stream(song_id, choice.format)

    @route.generic(
        "/{int:song_id}/stream/",
        operation_id="songs_stream_head",
        methods=["HEAD"],
        response={**BY_ID},
        openapi_extra={
            "responses": {
                "200": {"description": "The headers of GET, no body."},
                "302": {
                    "description": (
                        "With the files in a bucket, as for GET: the audio is at the URL in "
                        "Location (presigned for HEAD)."
                    )
                },
                "304": {"description": "Not modified since the ETag or date sent."},
            }
        },
        summary="The headers a GET of the stream would answer",
    )
    async def stream_head(self, song_id: PathId, choice: Query[StreamChoice]):
        return await self._stream(song_id, choice.format)

    async def _stream(self, song_id: int, wanted: StreamFormat):
        song = await songs.song_for_stream(song_id=song_id)
        return await streaming.audio_response(self.context.request, stream_file(song, wanted))

    @route.get(
        "/{int:song_id}/waveform/",
        operation_id="songs_waveform",
        url_name="song_waveform",
        response={**BY_ID, **RANGE_NOT_SATISFIABLE},
        openapi_extra=WAVEFORM_OPENAPI,
        summary="Peaks for a seek bar, in the audiowaveform JSON format (version 2)",
    )
    async def waveform(self, song_id: PathId):
        waveform = await songs.song_waveform(song_id=song_id)
        return await streaming.audio_response(
            self.context.request, waveform, content_type=WAVEFORM_CONTENT_TYPE
        )

    @route.get(
        "/{int:song_id}/lyrics/",
        operation_id="songs_lyrics_get",
        response={HTTPStatus.OK: LyricsOut, **BY_ID},
        summary="The song's lyrics: lines with their start times, and words' when known",
    )
    def get_lyrics(self, song_id: PathId):
        return lyrics.lyrics_get(song_id=song_id)

    @route.put(
        "/{int:song_id}/lyrics/",
        operation_id="songs_lyrics_set",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.OK: LyricsOut, **ADMIN_ONLY, **BY_ID, **TOO_LARGE},
        openapi_extra=LYRICS_BODY_OPENAPI,
        summary="Set the song's lyrics (JSON text, or an .lrc or .txt file in a form)",
    )
    def set_lyrics(self, song_id: PathId):
        request = self.context.request
        if is_form(request):  # the file alone: `text` is JSON's
            parse_body(request, LyricsFileIn, files=LYRICS_FILES, required_files=LYRICS_FILES)
            data = request.FILES["lyrics_file"].read(LYRICS_READ_LIMIT)
            return services.lyrics_set(song_id=song_id, data=data)
        return services.lyrics_set(song_id=song_id, text=parse_body(request, LyricsIn).text)

    @route.delete(
        "/{int:song_id}/lyrics/",
        operation_id="songs_lyrics_delete",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.NO_CONTENT: None, **ADMIN_ONLY, **BY_ID},
        summary="Remove the song's lyrics",
    )
    def delete_lyrics(self, song_id: PathId):
        services.lyrics_delete(song_id=song_id)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.post(
        "/{int:song_id}/plays/",
        operation_id="songs_plays_create",
        auth=bearer_jwt,
        response={HTTPStatus.CREATED: PlayOut, **UNAUTHORIZED, **BY_ID},
        summary="Record that you started playing a song",
    )
    def record_play(self, song_id: PathId):
        play = services.play_record(song_id=song_id, user=self.context.request.user)
        return Status(HTTPStatus.CREATED, play)


@api_controller("/albums", tags=["albums"])
class AlbumsController(Controller):
    @route.get(
        "/",
        operation_id="albums_list",
        response={HTTPStatus.OK: page_of(AlbumOut), **INVALID},
        summary="Albums, searched, filtered and ordered",
    )
    @paginate(Page, count=search_count)
    def list_albums(self, filters: Query[AlbumFilters]):
        return albums.album_list(**filters.dict())

    @route.get(
        "/{int:album_id}/",
        operation_id="albums_get",
        response={HTTPStatus.OK: AlbumDetail, **BY_ID},
        summary="One album with its songs in order",
    )
    def get_album(self, album_id: PathId):
        return albums.album_get(album_id=album_id)

    @route.post(
        "/",
        operation_id="albums_create",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.CREATED: AlbumOut, **ADMIN_ONLY, **TOO_LARGE, **INVALID},
        openapi_extra=body_openapi(AlbumIn, files=ALBUM_FILES, form_only=True),
        summary="Add an album (multipart)",
    )
    def create_album(self):
        request = self.context.request
        payload = parse_body(request, AlbumIn, files=ALBUM_FILES, form_only=True)
        album = services.album_create(**payload.dict(), image_file=request.FILES.get("image_file"))
        # Read back as GET reads it: the same fields, and the schema counts nothing.
        return Status(HTTPStatus.CREATED, albums.album_get(album_id=album.pk))

    @route.put(
        "/{int:album_id}/",
        operation_id="albums_replace",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.OK: AlbumOut, **ADMIN_ONLY, **BY_ID, **TOO_LARGE},
        openapi_extra=body_openapi(AlbumIn, files=ALBUM_FILES),
        summary="Replace an album's fields (JSON or multipart)",
    )
    def replace_album(self, album_id: PathId):
        return self._update_album(
            album_id, parse_body(self.context.request, AlbumIn, files=ALBUM_FILES).dict()
        )

    @route.patch(
        "/{int:album_id}/",
        operation_id="albums_update",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.OK: AlbumOut, **ADMIN_ONLY, **BY_ID, **TOO_LARGE},
        openapi_extra=body_openapi(AlbumPatch, files=ALBUM_FILES),
        summary="Change some of an album's fields (JSON or multipart)",
    )
    def update_album(self, album_id: PathId):
        payload = parse_body(self.context.request, AlbumPatch, files=ALBUM_FILES)
        return self._update_album(album_id, payload.dict(exclude_unset=True))

    def _update_album(self, album_id: int, fields: dict[str, Any]):
        services.album_update(
            album_id=album_id,
            **fields,
            image_file=self.context.request.FILES.get("image_file", UNSET),
        )
        return albums.album_get(album_id=album_id)

    @route.delete(
        "/{int:album_id}/",
        operation_id="albums_delete",
        auth=bearer_jwt,
        permissions=[IsAdmin],
        response={HTTPStatus.NO_CONTENT: None, **ADMIN_ONLY, **BY_ID},
        summary="Delete an album, its songs and all their files",
    )
    def delete_album(self, album_id: PathId):
        services.album_delete(album_id=album_id)
        return Status(HTTPStatus.NO_CONTENT, None)


@api_controller("/artists", tags=["artists"])
class ArtistsController(Controller):
    @route.get(
        "/",
        operation_id="artists_list",
        response={HTTPStatus.OK: page_of(ArtistOut), **INVALID},
        summary="Artists, searched by name, by name or most songs first",
    )
    @paginate(Page)
    def list_artists(self, filters: Query[ArtistFilters]):
        return artists.artist_list(**filters.dict())

    @route.get(
        "/{int:artist_id}/",
        operation_id="artists_get",
        response={HTTPStatus.OK: ArtistDetail, **BY_ID},
        summary="One artist with their albums and top songs",
    )
    def get_artist(self, artist_id: PathId):
        return artists.artist_get(artist_id=artist_id)

    @route.get(
        "/{int:artist_id}/songs/",
        operation_id="artists_songs",
        response={HTTPStatus.OK: page_of(SongOut), **BY_ID, **INVALID},
        summary="The artist's songs, newest first",
    )
    @paginate(Page)
    def artist_songs(self, artist_id: PathId):
        return artists.artist_songs(artist_id=artist_id)


@api_controller("/genres", tags=["genres"])
class GenresController(Controller):
    @route.get(
        "/",
        operation_id="genres_list",
        response={HTTPStatus.OK: list[GenreOut]},
        summary="Every genre of the catalog's songs and albums, with their counts",
    )
    def list_genres(self):
        return genres.genre_list()
