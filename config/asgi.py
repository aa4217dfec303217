"""ASGI entry point: Socket.IO at /socket.io/ wrapped around the Django app (HTTP).

uvicorn serves both from one process; with REDIS_URL set, several processes share Socket.IO
delivery and presence through Redis. Django's HTTP requests have their bodies counted as they
arrive and refused (413) past their cap (`core.body_limit`); Socket.IO's own requests
(long-polling at /socket.io/, websockets) and the lifespan do not go through that layer.
"""

import os

import socketio

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django's handler, with its middleware chain run in one hop to a thread (core/asgi_handler.py).
from core.asgi_handler import get_asgi_application

django_app = get_asgi_application()

# Imported after Django is set up: the events use the ORM and the settings.
import jams.events  # noqa: E402, F401  (the Jam events, on the same server)
from core.body_limit import BodyLimit  # noqa: E402
from core.collector import freeze_after  # noqa: E402
from messaging.realtime.events import on_shutdown, on_startup  # noqa: E402
from messaging.realtime.server import sio  # noqa: E402

application = socketio.ASGIApp(
    sio,
    other_asgi_app=BodyLimit(django_app),
    socketio_path="socket.io",
    # The lifespan starts the presence heartbeat and says goodbye for this process's sockets.
    # ... and, once started, puts what start-up made out of the collector's walks.
    on_startup=freeze_after(on_startup),
    on_shutdown=on_shutdown,
)
