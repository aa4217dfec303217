from http import HTTPStatus

from ninja import P, Path, Query, Status
from ninja_extra import api_controller, route
from ninja_extra.pagination import paginate

from catalog.schemas import SongOut
from core.auth import TOKEN_OPTIONAL, bearer_jwt
from core.bodies import body_openapi, parse_body
from core.controller_base import Controller
from core.error_responses import BY_ID, FORBIDDEN, INVALID, TOO_LARGE, UNAUTHORIZED
from core.pagination import Page
from core.schemas import MAX_ID, PathId, page_of
from core.updates import UNSET
from library import nsp, selectors, services, smart
from library.schemas import (
    LikedSongOut,
    LikesContainsQuery,
    NspImportIn,
    PlayHistoryOut,
    PlaylistFilters,
    PlaylistIn,
    PlaylistItemIn,
    PlaylistItemMove,
    PlaylistItemOut,
    PlaylistOut,
    PlaylistPatch,
    SearchOut,
    SearchQuery,
    SmartPreviewIn,
    SmartRules,
    parse_fields,
)

PLAYLIST_FILES = ("image_file",)
# Not `{int:...}` in the route: a negative position is a 422 that says so, not a 404.
PathPosition = Path[int, P(ge=0, le=MAX_ID)]
# The owner's writes: someone else's playlist is a 404 when private, a 403 when public.
OWNER_WRITE = {**UNAUTHORIZED, **FORBIDDEN, **BY_ID}


@api_controller("/playlists", tags=["library"], auth=bearer_jwt)
class PlaylistsController(Controller):
    @route.get(
        "/",
        operation_id="playlists_list",
        response={HTTPStatus.OK: page_of(PlaylistOut), **UNAUTHORIZED, **INVALID},
        summary="Your playlists, newest first; with ?owner=, that user's public ones",
    )
    @paginate(Page)
    def list_playlists(self, filters: Query[PlaylistFilters]):
        return selectors.playlists_of(user=self.context.request.user, owner_id=filters.owner)

    @route.post(
        "/",
        operation_id="playlists_create",
        response={HTTPStatus.CREATED: PlaylistOut, **UNAUTHORIZED, **INVALID},
        summary="Make a playlist (private unless is_public)",
    )
    def create_playlist(self, payload: PlaylistIn):
        user = self.context.request.user
        # The validated rules, not their dict: the service stores them as they were checked.
        playlist = services.playlist_create(
            owner=user, **payload.dict(exclude={"rules"}), rules=payload.rules
        )
        # Read back as GET reads it: the same body, and the schema computes nothing.
        created = selectors.playlist_get(playlist_id=playlist.pk, user=user)
        return Status(HTTPStatus.CREATED, created)

    @route.post(
        "/preview/",
        operation_id="playlists_preview",
        response={HTTPStatus.OK: list[SongOut], **UNAUTHORIZED, **INVALID},
        summary=f"The first {smart.PREVIEW_SIZE} songs a smart playlist's rules take "
        "(nothing is saved)",
    )
    def preview(self, payload: SmartPreviewIn):
        return smart.preview(rules=payload.rules, owner_id=self.context.request.user.pk)

    @route.post(
        "/import-nsp/",
        operation_id="playlists_import_nsp",
        response={HTTPStatus.CREATED: PlaylistOut, **UNAUTHORIZED, **INVALID, **TOO_LARGE},
        openapi_extra=body_openapi(
            NspImportIn, files=(nsp.FILE_FIELD,), required_files=(nsp.FILE_FIELD,), form_only=True
        ),
        summary="Make a smart playlist from a Navidrome .nsp file (multipart)",
    )
    def import_nsp(self):
        request = self.context.request
        form = parse_body(
            request,
            NspImportIn,
            files=(nsp.FILE_FIELD,),
            required_files=(nsp.FILE_FIELD,),
            form_only=True,
        )
        upload = request.FILES[nsp.FILE_FIELD]
        # Read one byte past the cap: a larger file is refused without reading it all.
        named, rules = nsp.translate(upload.read(nsp.MAX_NSP_BYTES + 1))
        given = {"name": nsp.name_of_file(upload.name), **named, **form.dict(exclude_unset=True)}
        fields = parse_fields(PlaylistIn, given)
        playlist = services.playlist_create(owner=request.user, **fields, rules=rules)
        created = selectors.playlist_get(playlist_id=playlist.pk, user=request.user)
        return Status(HTTPStatus.CREATED, created)

    @route.get(
        "/{int:playlist_id}/",
        operation_id="playlists_get",
        response={HTTPStatus.OK: PlaylistOut, **BY_ID},
        **TOKEN_OPTIONAL,
        summary="One playlist: yours, or anyone's public one",
    )
    def get_playlist(self, playlist_id: PathId):
        return selectors.playlist_get(playlist_id=playlist_id, user=self.context.request.auth)

    @route.patch(
        "/{int:playlist_id}/",
        operation_id="playlists_update",
        response={HTTPStatus.OK: PlaylistOut, **OWNER_WRITE, **TOO_LARGE},
        openapi_extra=body_openapi(PlaylistPatch, files=PLAYLIST_FILES),
        summary="Change your playlist's name, description, visibility, image or (a smart "
        "one's) rules",
    )
    def update_playlist(self, playlist_id: PathId):
        request = self.context.request
        fields = parse_body(request, PlaylistPatch, files=PLAYLIST_FILES).dict(exclude_unset=True)
        # `image_file: null` removes the image, a file replaces it, neither keeps it.
        removed = "image_file" in fields and fields.pop("image_file") is None
        if "rules" in fields:  # the validated rules, not their dict
            fields["rules"] = SmartRules.model_validate(fields["rules"])
        services.playlist_update(
            playlist_id=playlist_id,
            user=request.user,
            **fields,
            image_file=request.FILES.get("image_file", None if removed else UNSET),
        )
        return selectors.playlist_get(playlist_id=playlist_id, user=request.user)

    @route.delete(
        "/{int:playlist_id}/",
        operation_id="playlists_delete",
        response={HTTPStatus.NO_CONTENT: None, **OWNER_WRITE},
        summary="Delete your playlist",
    )
    def delete_playlist(self, playlist_id: PathId):
        services.playlist_delete(playlist_id=playlist_id, user=self.context.request.user)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.get(
        "/{int:playlist_id}/songs/",
        operation_id="playlists_songs_list",
        response={HTTPStatus.OK: page_of(PlaylistItemOut), **BY_ID},
        **TOKEN_OPTIONAL,
        summary="A playlist's songs by position",
    )
    @paginate(Page)
    def list_items(self, playlist_id: PathId):
        return selectors.playlist_items(playlist_id=playlist_id, user=self.context.request.auth)

    @route.post(
        "/{int:playlist_id}/songs/",
        operation_id="playlists_songs_add",
        response={HTTPStatus.CREATED: PlaylistItemOut, **OWNER_WRITE},
        summary="Put a song in your playlist, at a position or at the end",
    )
    def add_item(self, playlist_id: PathId, payload: PlaylistItemIn):
        item = services.playlist_item_add(
            playlist_id=playlist_id, user=self.context.request.user, **payload.dict()
        )
        return Status(HTTPStatus.CREATED, item)

    @route.post(
        "/{int:playlist_id}/songs/move/",
        operation_id="playlists_songs_move",
        response={HTTPStatus.NO_CONTENT: None, **OWNER_WRITE},
        summary="Move a song of your playlist to another position",
    )
    def move_item(self, playlist_id: PathId, payload: PlaylistItemMove):
        services.playlist_item_move(
            playlist_id=playlist_id, user=self.context.request.user, **payload.dict()
        )
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.delete(
        "/{int:playlist_id}/songs/{position}/",
        operation_id="playlists_songs_remove",
        response={HTTPStatus.NO_CONTENT: None, **OWNER_WRITE},
        summary="Take the song at a position out of your playlist",
    )
    def remove_item(self, playlist_id: PathId, position: PathPosition):
        services.playlist_item_remove(
            playlist_id=playlist_id, user=self.context.request.user, position=position
        )
        return Status(HTTPStatus.NO_CONTENT, None)


@api_controller("/search", tags=["search"])
class SearchController(Controller):
    @route.get(
        "/",
        operation_id="search_all",
        response={HTTPStatus.OK: SearchOut, **INVALID},
        **TOKEN_OPTIONAL,
        summary="Songs, albums, artists and playlists at once, best match first in each",
    )
    def search(self, query: Query[SearchQuery]):
        user = self.context.request.auth
        return selectors.search(
            term=query.q, limit=query.limit, user=user if user.is_authenticated else None
        )


# Likes and history: every route is for the signed-in listener.
@api_controller("", tags=["library"], auth=bearer_jwt)
class LibraryController(Controller):
    @route.put(
        "/songs/{int:song_id}/like/",
        operation_id="songs_like",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED, **BY_ID},
        summary="Like a song (liking it again changes nothing)",
    )
    def like(self, song_id: PathId):
        services.song_like(user=self.context.request.user, song_id=song_id)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.delete(
        "/songs/{int:song_id}/like/",
        operation_id="songs_unlike",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED, **BY_ID},
        summary="Take back a like (a song not liked stays so)",
    )
    def unlike(self, song_id: PathId):
        services.song_unlike(user=self.context.request.user, song_id=song_id)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.get(
        "/me/likes/",
        operation_id="me_likes_list",
        response={HTTPStatus.OK: page_of(LikedSongOut), **UNAUTHORIZED, **INVALID},
        summary="The songs you liked, newest like first",
    )
    @paginate(Page)
    def likes(self):
        return selectors.likes_of(user=self.context.request.user)

    @route.get(
        "/me/likes/contains/",
        operation_id="me_likes_contains",
        response={HTTPStatus.OK: list[bool], **UNAUTHORIZED, **INVALID},
        summary="Whether you like each of up to 50 songs, in the order asked",
    )
    def likes_contain(self, query: Query[LikesContainsQuery]):
        return selectors.songs_liked(user=self.context.request.user, song_ids=query.ids)

    @route.get(
        "/me/history/",
        operation_id="me_history_list",
        response={HTTPStatus.OK: page_of(PlayHistoryOut), **UNAUTHORIZED, **INVALID},
        summary="The songs you played, newest play first",
    )
    @paginate(Page)
    def history(self):
        return selectors.plays_of(user=self.context.request.user)
