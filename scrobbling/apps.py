from django.apps import AppConfig


class ScrobblingConfig(AppConfig):
    name = "scrobbling"
    verbose_name = "Scrobbling"

    def ready(self) -> None:
        # The catalog and library announce plays and "now playing" with signals (they never
        # import this app); the receivers queue the jobs in the same transaction.
        from catalog.signals import now_playing_changed, plays_recorded
        from scrobbling import receivers

        plays_recorded.connect(receivers.on_plays_recorded, dispatch_uid="scrobbling-plays")
        now_playing_changed.connect(
            receivers.on_now_playing_changed, dispatch_uid="scrobbling-now-playing"
        )
