"""Jams: rooms where up to `MAX_MEMBERS` listeners share one queue and one playback.

The room's state lives in the database, so that members connected to different Socket.IO
processes share one room and a process restart loses nothing; the sockets' rooms only
carry the pushes (jams/push.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Song

MAX_MEMBERS = 32
CODE_LENGTH = 8


class Role(models.TextChoices):
    HOST = "host"
    COHOST = "cohost"
    GUEST = "guest"


class Jam(models.Model):
    """One room. Playback is a reference point: at the server's clock `at_server_ms` the
    player is at `position_ms` of `now_item`, playing or paused."""

    code = models.CharField(max_length=CODE_LENGTH, unique=True)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_jams"
    )
    guests_can_control = models.BooleanField(default=False)
    guests_can_add = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Moved while a socket is in the room (the servers' heartbeat, a member's clock sync);
    # a Jam left alone past JAM_IDLE_SECONDS closes itself.
    last_active_at = models.DateTimeField(default=timezone.now)

    now_item = models.ForeignKey(
        "JamItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position_ms = models.PositiveIntegerField(default=0)
    playing = models.BooleanField(default=False)
    at_server_ms = models.BigIntegerField(default=0)
    seq = models.PositiveIntegerField(default=0)
    # The buffering barrier: the members the room holds for, and since when (Unix ms).
    waiting_for = models.JSONField(default=list, blank=True)
    held_since_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["last_active_at"],
                condition=Q(closed_at__isnull=True),
                name="jams_open_activity_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Jam {self.code}"


class JamMember(models.Model):
    """A listener in a Jam. A removed member keeps the row (`removed_at`) and may not join
    again; one who left loses it."""

    jam = models.ForeignKey(Jam, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jam_memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.GUEST)
    joined_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    # The member's latest reported round trip to the server, for scheduling commands.
    rtt_ms = models.PositiveIntegerField(null=True, blank=True)
    rtt_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "user"], name="jams_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.jam_id} ({self.role})"


class JamItem(models.Model):
    """One song at one position of a Jam's queue; positions run 0..n-1 without gaps."""

    jam = models.ForeignKey(Jam, on_delete=models.CASCADE, related_name="items")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "position"], name="jams_item_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.song_id} at {self.position} of {self.jam_id}"
