from http import HTTPStatus

from ninja import P, Path, Status
from ninja_extra import ControllerBase, api_controller, route
from ninja_extra.pagination import NinjaPaginationResponseSchema, paginate

from core.auth import bearer_jwt
from core.pagination import LimitOffset
from core.schemas import MAX_ID, ErrorOut, ValidationErrorOut
from messaging import selectors, services
from messaging.schemas import MessageIn, MessageOut

UNAUTHORIZED = {HTTPStatus.UNAUTHORIZED: ErrorOut}
NOT_FOUND = {HTTPStatus.NOT_FOUND: ErrorOut}
INVALID = {HTTPStatus.UNPROCESSABLE_ENTITY: ValidationErrorOut}

# Ids beyond bigint are a 422, not a database overflow.
RowId = Path[int, P(ge=1, le=MAX_ID)]


@api_controller("/messages", tags=["messages"], auth=bearer_jwt)
class MessagesController(ControllerBase):
    @route.get(
        "/",
        response={
            HTTPStatus.OK: NinjaPaginationResponseSchema[MessageOut],
            **UNAUTHORIZED,
            **INVALID,
        },
        summary="Messages the caller sent or received, newest first",
    )
    @paginate(LimitOffset)
    def list_messages(self):
        return selectors.messages_of(user=self.context.request.user)

    @route.post(
        "/",
        response={HTTPStatus.CREATED: MessageOut, **UNAUTHORIZED, **NOT_FOUND, **INVALID},
        summary="Send a direct message (also pushed to the receiver's open sockets)",
    )
    def send_message(self, payload: MessageIn):
        message = services.message_send(
            sender=self.context.request.user,
            receiver_id=payload.receiver_id,
            content=payload.content,
        )
        return Status(HTTPStatus.CREATED, message)

    @route.get(
        "/{int:message_id}/",
        response={HTTPStatus.OK: MessageOut, **UNAUTHORIZED, **NOT_FOUND, **INVALID},
        summary="One message, for its sender or receiver",
    )
    def get_message(self, message_id: RowId):
        return selectors.message_get(user=self.context.request.user, message_id=message_id)


# Its own controller under /users, so the users app stays unaware of messaging.
@api_controller("/users", tags=["messages"], auth=bearer_jwt)
class ConversationController(ControllerBase):
    @route.get(
        "/{int:user_id}/messages/",
        response={
            HTTPStatus.OK: NinjaPaginationResponseSchema[MessageOut],
            **UNAUTHORIZED,
            **NOT_FOUND,
            **INVALID,
        },
        summary="The conversation between the caller and one user, oldest first",
    )
    @paginate(LimitOffset)
    def conversation(self, user_id: RowId):
        return selectors.conversation(user=self.context.request.user, other_id=user_id)
