"""Reads about messages: a message is visible only to its sender and its receiver."""

from django.db.models import Q, QuerySet

from core.queries import get_or_not_found
from messaging.models import Message
from users.models import User
from users.selectors import user_get_public

MESSAGE_NOT_FOUND = "No message with this id."


def _involving(user: User) -> Q:
    return Q(sender=user) | Q(receiver=user)


def messages_of(*, user: User) -> QuerySet[Message]:
    """Everything `user` sent or received, newest first."""
    return Message.objects.filter(_involving(user)).order_by("-created_at", "-id")


def message_get(*, user: User, message_id: int) -> Message:
    """One message, for its sender or receiver; anyone else is told it does not exist."""
    return get_or_not_found(
        Message.objects.filter(_involving(user)), MESSAGE_NOT_FOUND, pk=message_id
    )


def conversation(*, user: User, other_id: int) -> QuerySet[Message]:
    """The messages between `user` and user `other_id`, oldest first; 404 for an unknown user."""
    other = user_get_public(user_id=other_id)
    return Message.objects.filter(
        Q(sender=user, receiver=other) | Q(sender=other, receiver=user)
    ).order_by("created_at", "id")
