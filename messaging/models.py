from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

CONTENT_MAX_LENGTH = 2000


class Message(models.Model):
    """A direct message from one listener to another."""

    # No single-column indexes: the composite indexes below lead with these columns.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sent_messages",
        db_index=False,
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="received_messages",
        db_index=False,
    )
    content = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # One conversation (each direction), and the sent half of an inbox.
            models.Index(
                fields=["sender", "receiver", "created_at"], name="messaging_msg_pair_idx"
            ),
            # The received half of an inbox.
            models.Index(fields=["receiver", "created_at"], name="messaging_msg_inbox_idx"),
        ]
        constraints = [
            # The service refuses these first; the database is the last line.
            models.CheckConstraint(
                condition=~Q(sender=F("receiver")), name="messaging_message_not_to_self"
            ),
            models.CheckConstraint(
                condition=Q(GreaterThanOrEqual(Length("content"), 1))
                & Q(LessThanOrEqual(Length("content"), CONTENT_MAX_LENGTH)),
                name="messaging_message_content_length",
            ),
        ]

    def __str__(self) -> str:
        # The admin's title for a message; names read better than ids (two small lookups).
        return (
            f"{self.sender.get_full_name()} → {self.receiver.get_full_name()}"
            f" at {self.created_at:%Y-%m-%d %H:%M}"
        )
