"""With REDIS_URL set, registration attempts are counted by every server process together."""

from http import HTTPStatus

from django.test import Client

from tests.helpers import run_project_python
from users.models import User
from users.services import TOO_MANY_REGISTRATIONS


def test_registrations_in_another_process_count_here(redis_cache, client: Client, db, settings):
    limit = settings.REGISTRATIONS_PER_ADDRESS_PER_HOUR
    other_process = run_project_python(
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from users.throttling import RegistrationThrottle\n"
        "attempt = RequestFactory().post('/api/auth/registration/')  # from 127.0.0.1\n"
        f"assert all(RegistrationThrottle().allow_request(attempt) for _ in range({limit}))",
        **redis_cache.server_env(),
    )

    response = client.post(
        "/api/auth/registration/",
        {
            "email": "ada@example.com",
            "password1": "Lyric-Bassline-42",
            "password2": "Lyric-Bassline-42",
            "full_name": "Ada",
        },
        "application/json",
    )

    assert other_process.returncode == 0, other_process.stderr
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_REGISTRATIONS}
    assert not User.objects.exists()
