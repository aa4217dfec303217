"""Code that only publishes messages never builds the Socket.IO server."""

from tests.helpers import run_project_python

SERVER_MODULE = "messaging.realtime.server"


def test_the_wsgi_app_serves_the_api_without_building_the_socketio_server():
    # What a gunicorn worker loads: the WSGI app and every URL, so every controller, the
    # message service and its push included.
    result = run_project_python(
        "import sys\n"
        "from core.wsgi import application\n"
        "from django.urls import resolve\n"
        "resolve('/api/messages/')\n"
        "import messaging.services\n"
        f"print({SERVER_MODULE!r} in sys.modules)\n"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_asgi_app_builds_it():
    result = run_project_python(
        f"import sys\nimport core.asgi\nprint({SERVER_MODULE!r} in sys.modules)\n"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
