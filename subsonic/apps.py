from django.apps import AppConfig


class SubsonicConfig(AppConfig):
    name = "subsonic"
    verbose_name = "Subsonic API"

    def ready(self) -> None:
        from subsonic import signals  # the models are loaded only now

        signals.connect()
