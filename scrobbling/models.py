from django.conf import settings
from django.db import models


class Service(models.TextChoices):
    LISTENBRAINZ = "listenbrainz", "ListenBrainz"
    LASTFM = "lastfm", "Last.fm"


class ScrobbleLink(models.Model):
    """A listener's account on a scrobbling service: their plays are sent to it.

    The token is kept sealed (core/sealing.py), never in plain text, and never shown. A link
    the service refused later (the token revoked) keeps its row with `secret` emptied and
    `last_error` saying why, until the listener links again or unlinks.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scrobble_links"
    )
    service = models.CharField(max_length=20, choices=Service.choices)
    # The token sealed; empty once the service refused it (nothing is sent then).
    secret = models.TextField(blank=True, editable=False)
    # The account's name on the service, as it answered when the token was checked.
    username = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="scrobbling_one_link_each")
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} of user {self.user_id}"

    @property
    def is_linked(self) -> bool:
        return bool(self.secret)
