from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"

    def ready(self) -> None:
        # The catalog knows nothing of playlists: deleting a song reaches them through signals.
        from library import signals

        signals.connect()
