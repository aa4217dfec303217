from http import HTTPStatus

from ninja import Status
from ninja_extra import api_controller, route
from ninja_extra.pagination import paginate

from core.auth import bearer_jwt
from core.controller_base import Controller
from core.error_responses import BY_ID, INVALID, THROTTLED, UNAUTHORIZED
from core.pagination import Page
from core.schemas import PathId, page_of
from messaging import selectors, services
from messaging.schemas import MessageIn, MessageOut


@api_controller("/messages", tags=["messages"], auth=bearer_jwt)
class MessagesController(Controller):
    @route.get(
        "/",
        operation_id="messages_list",
        response={
            HTTPStatus.OK: page_of(MessageOut),
            **UNAUTHORIZED,
            **INVALID,
        },
        summary="Messages the caller sent or received, newest first",
    )
    @paginate(Page)
    def list_messages(self):
        return selectors.messages_of(user=self.context.request.user)

    @route.post(
        "/",
        operation_id="messages_send",
        response={HTTPStatus.CREATED: MessageOut, **UNAUTHORIZED, **BY_ID, **THROTTLED},
        summary="Send a direct message (also pushed to the receiver's open sockets)",
    )
    def send_message(self, payload: MessageIn):
        message = services.message_send(
            sender_id=self.context.request.user.pk,
            receiver_id=payload.receiver_id,
            content=payload.content,
        )
        return Status(HTTPStatus.CREATED, message)

    @route.get(
        "/{int:message_id}/",
        operation_id="messages_get",
        response={HTTPStatus.OK: MessageOut, **UNAUTHORIZED, **BY_ID},
        summary="One message, for its sender or receiver",
    )
    def get_message(self, message_id: PathId):
        return selectors.message_get(user=self.context.request.user, message_id=message_id)


# Its own controller under /users, so the users app stays unaware of messaging.
@api_controller("/users", tags=["messages"], auth=bearer_jwt)
class ConversationController(Controller):
    @route.get(
        "/{int:user_id}/messages/",
        operation_id="users_messages_list",
        response={
            HTTPStatus.OK: page_of(MessageOut),
            **UNAUTHORIZED,
            **BY_ID,
        },
        summary="The conversation between the caller and one user, oldest first",
    )
    @paginate(Page)
    def conversation(self, user_id: PathId):
        return selectors.conversation(user=self.context.request.user, other_id=user_id)
