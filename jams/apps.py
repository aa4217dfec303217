from django.apps import AppConfig


class JamsConfig(AppConfig):
    name = "jams"
    verbose_name = "Jams"

    def ready(self) -> None:
        # What the services announce after commit reaches the Jam's sockets (jams/push.py).
        # Importing it never builds the Socket.IO server; the events are registered by the
        # ASGI app (config/asgi.py imports jams.events).
        from jams import push  # noqa: F401
