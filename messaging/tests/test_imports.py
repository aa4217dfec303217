"""Code that only publishes messages never builds the Socket.IO server."""

from tests.helpers import run_project_python

# Prints whether this process holds a Socket.IO server (built or not, whatever imported it).
SERVER_BUILT = (
    "import gc, socketio\n"
    "print(any(isinstance(o, socketio.AsyncServer) for o in gc.get_objects()))\n"
)


def test_the_wsgi_app_serves_the_api_without_building_the_socketio_server():
    # What a gunicorn worker loads: the WSGI app and every URL, so every controller, the
    # message service and the realtime push subscribed to it included.
    result = run_project_python(
        "from config.wsgi import application\n"
        "from django.urls import resolve\n"
        "resolve('/api/messages/')\n"
        "import messaging.services, messaging.realtime.push\n" + SERVER_BUILT
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_asgi_app_builds_it():
    result = run_project_python("import config.asgi\n" + SERVER_BUILT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
