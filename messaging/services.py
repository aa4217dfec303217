"""Every write about messages: one path for REST and Socket.IO."""

from functools import cache
from typing import NoReturn

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import throttle
from core.errors import Invalid, NotAuthenticated, NotFound
from core.text import clean_text
from messaging.models import CONTENT_MAX_LENGTH, Message
from messaging.signals import message_committed
from users.models import User
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


def message_send(*, sender_id: int, receiver_id: int, content: str) -> Message:
    """Store a message from the user `sender_id` and, after commit, announce it
    (`message_committed`: the realtime transport pushes it to both people's open sockets).

    Every send counts against the sender's per-minute limit, over REST and Socket.IO alike
    (both come here), refused ones included. A sender deactivated since signing in (a socket
    stays open) is refused.
    """
    _count_send(sender_id)
    content = _clean_content(content)
    if receiver_id == sender_id:
        raise Invalid("receiver_id", MESSAGE_TO_SELF)
    message = Message(
        sender_id=sender_id, receiver_id=receiver_id, content=content, created_at=timezone.now()
    )
    message.id = _insert_between_active_users(message)
    if message.id is None:
        _refuse_inactive(sender_id=sender_id, receiver_id=receiver_id)
    message._state.adding, message._state.db = False, connection.alias  # as the ORM leaves it
    # Never before commit: a rolled-back message must not reach anyone's screen (in
    # autocommit, the statement above has committed and this runs at once).
    transaction.on_commit(
        lambda: message_committed.send(sender=Message, message=message), robust=True
    )
    return message


@cache
def _insert_sql() -> str:
    """The statement of `_insert_between_active_users`: names from the models, every value
    a parameter."""
    messages, users = Message._meta, User._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(messages.get_field(name).column) for name in _INSERTED)
    return (
        f"INSERT INTO {quote(messages.db_table)} ({columns})"  # noqa: S608
        f" SELECT %s, %s, %s, %s WHERE (SELECT COUNT(*) FROM {quote(users.db_table)}"
        f" WHERE {quote(users.pk.column)} IN (%s, %s)"
        f" AND {quote(users.get_field('is_active').column)}) = 2"
        f" RETURNING {quote(messages.pk.column)}"
    )


# The fields `_insert_sql` fills, in its parameters' order.
_INSERTED = ("sender", "receiver", "content", "created_at")


def _insert_between_active_users(message: Message) -> int | None:
    """Insert `message` if both its people are active accounts, in one statement (atomic on
    its own); its id, or None when either is not. The socket path sends hundreds a second:
    one round trip and no transaction to open, instead of a check, an insert and a commit."""
    created_at = connection.ops.adapt_datetimefield_value(message.created_at)
    sender_id, receiver_id = message.sender_id, message.receiver_id
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(),
            [sender_id, receiver_id, message.content, created_at, sender_id, receiver_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _refuse_inactive(*, sender_id: int, receiver_id: int) -> NoReturn:
    """Say which of the two people is not an active account (the insert wrote nothing)."""
    active = set(
        active_users().filter(pk__in=(sender_id, receiver_id)).values_list("pk", flat=True)
    )
    if sender_id not in active:
        raise NotAuthenticated(SENDER_INACTIVE)
    raise NotFound(RECEIVER_NOT_FOUND)
