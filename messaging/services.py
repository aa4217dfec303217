"""Every write about messages: one path for REST and Socket.IO."""

from django.conf import settings
from django.db import transaction

from core import throttle
from core.errors import Invalid, NotAuthenticated, NotFound
from core.text import clean_text
from messaging.models import CONTENT_MAX_LENGTH, Message
from messaging.signals import message_committed
from users.selectors import USER_NOT_FOUND, active_users

CONTENT_TOO_LONG = f"The message may be at most {CONTENT_MAX_LENGTH} characters long."
MESSAGE_TO_SELF = "You cannot send a message to yourself."
RECEIVER_NOT_FOUND = USER_NOT_FOUND
SENDER_INACTIVE = "Your account is no longer active."
TOO_MANY_MESSAGES = "You are sending messages too fast. Wait a moment and try again."


def _clean_content(content: str) -> str:
    # MessageIn has checked it already for REST and Socket.IO; this guards other callers.
    try:
        content = clean_text(content, multiline=True)
    except ValueError as error:
        raise Invalid("content", str(error)) from error
    if len(content) > CONTENT_MAX_LENGTH:
        raise Invalid("content", CONTENT_TOO_LONG)
    return content


def _count_send(sender_id: int) -> None:
    """Count one send by the user `sender_id`; past MESSAGES_PER_MINUTE, a 429 with
    Retry-After."""
    rate = throttle.Rate("messages:user", settings.MESSAGES_PER_MINUTE, 60)
    throttle.hit_or_refuse(rate, str(sender_id), detail=TOO_MANY_MESSAGES)


@transaction.atomic
def message_send(*, sender_id: int, receiver_id: int, content: str) -> Message:
    """Store a message from the user `sender_id` and, after commit, announce it
    (`message_committed`: the realtime transport pushes it to both people's open sockets).

    Every send counts against the sender's per-minute limit, over REST and Socket.IO alike
    (both come here), refused ones included. A sender deactivated since signing in (a socket
    stays open) is refused; sender and receiver are checked in one query.
    """
    _count_send(sender_id)
    content = _clean_content(content)
    if receiver_id == sender_id:
        raise Invalid("receiver_id", MESSAGE_TO_SELF)
    active = set(
        active_users().filter(pk__in=(sender_id, receiver_id)).values_list("pk", flat=True)
    )
    if sender_id not in active:
        raise NotAuthenticated(SENDER_INACTIVE)
    if receiver_id not in active:
        raise NotFound(RECEIVER_NOT_FOUND)
    message = Message.objects.create(sender_id=sender_id, receiver_id=receiver_id, content=content)
    # Never before commit: a rolled-back message must not reach anyone's screen.
    transaction.on_commit(
        lambda: message_committed.send(sender=Message, message=message), robust=True
    )
    return message
