from http import HTTPStatus

from ninja import Status
from ninja_extra import api_controller, route

from core.auth import bearer_jwt
from core.controller_base import Controller
from core.error_responses import BY_ID, CONFLICT, FORBIDDEN, INVALID, MISSING, UNAUTHORIZED
from core.schemas import PathId
from jams import selectors, services
from jams.schemas import JamIn, JamOut, JamPatch, JoinIn, RoleIn


@api_controller("/jams", tags=["jams"], auth=bearer_jwt)
class JamsController(Controller):
    def _room(self, jam_id: int):
        return selectors.jam_get(jam_id=jam_id, user=self.context.request.user)

    @route.post(
        "/",
        operation_id="jams_create",
        response={HTTPStatus.CREATED: JamOut, **UNAUTHORIZED, **MISSING, **CONFLICT, **INVALID},
        summary="Open a Jam hosted by the caller, its queue from songs, an album or a playlist",
    )
    def create_jam(self, payload: JamIn):
        jam = services.jam_create(host=self.context.request.user, **payload.model_dump())
        return Status(HTTPStatus.CREATED, self._room(jam.pk))

    @route.get(
        "/current/",
        operation_id="jams_current",
        response={HTTPStatus.OK: JamOut, **UNAUTHORIZED, **MISSING},
        summary="The open Jam the caller is in",
    )
    def current_jam(self):
        return selectors.current_jam(user=self.context.request.user)

    @route.post(
        "/join/",
        operation_id="jams_join",
        response={
            HTTPStatus.OK: JamOut,
            **UNAUTHORIZED,
            **FORBIDDEN,
            **MISSING,
            **CONFLICT,
            **INVALID,
        },
        summary="Join a Jam by its code, as a guest",
    )
    def join_jam(self, payload: JoinIn):
        jam = services.jam_join(user=self.context.request.user, code=payload.code)
        return self._room(jam.pk)

    @route.get(
        "/{int:jam_id}/",
        operation_id="jams_get",
        response={HTTPStatus.OK: JamOut, **UNAUTHORIZED, **BY_ID},
        summary="A Jam the caller is in: members, queue, playback",
    )
    def get_jam(self, jam_id: PathId):
        return self._room(jam_id)

    @route.patch(
        "/{int:jam_id}/",
        operation_id="jams_update",
        response={HTTPStatus.OK: JamOut, **UNAUTHORIZED, **FORBIDDEN, **BY_ID},
        summary="What guests may do (host or co-host)",
    )
    def update_jam(self, jam_id: PathId, payload: JamPatch):
        services.jam_update(
            jam_id=jam_id, user=self.context.request.user, **payload.model_dump(exclude_unset=True)
        )
        return self._room(jam_id)

    @route.delete(
        "/{int:jam_id}/",
        operation_id="jams_close",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED, **FORBIDDEN, **BY_ID},
        summary="Close the Jam (host)",
    )
    def close_jam(self, jam_id: PathId):
        services.jam_close(jam_id=jam_id, user=self.context.request.user)
        return Status(HTTPStatus.NO_CONTENT, None)

    @route.put(
        "/{int:jam_id}/members/{int:user_id}/",
        operation_id="jams_member_role",
        response={HTTPStatus.OK: JamOut, **UNAUTHORIZED, **FORBIDDEN, **CONFLICT, **BY_ID},
        summary="Make a member a co-host or a guest (host)",
    )
    def set_role(self, jam_id: PathId, user_id: PathId, payload: RoleIn):
        services.member_set_role(
            jam_id=jam_id, user=self.context.request.user, member_user_id=user_id, role=payload.role
        )
        return self._room(jam_id)

    @route.delete(
        "/{int:jam_id}/members/{int:user_id}/",
        operation_id="jams_member_remove",
        response={HTTPStatus.NO_CONTENT: None, **UNAUTHORIZED, **FORBIDDEN, **BY_ID},
        summary="Leave the Jam (your own id), or remove a member (host)",
    )
    def remove_member(self, jam_id: PathId, user_id: PathId):
        services.member_remove(
            jam_id=jam_id, user=self.context.request.user, member_user_id=user_id
        )
        return Status(HTTPStatus.NO_CONTENT, None)
