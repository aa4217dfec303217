"""With REDIS_URL set, failed-login counts are shared by every server process."""

from http import HTTPStatus

from django.test import Client

from tests.helpers import DEFAULT_PASSWORD, run_project_python
from users.services import TOO_MANY_ATTEMPTS


def test_failures_recorded_by_another_process_lock_this_one(
    redis_cache, client: Client, make_user, settings
):
    make_user(email="ada@example.com")
    limit = settings.LOGIN_MAX_FAILURES_PER_EMAIL

    other_process = run_project_python(
        "import django; django.setup()\n"
        "from users.throttling import record_login_failure\n"
        f"for _ in range({limit}):\n"
        "    record_login_failure(email='ada@example.com', address='10.9.9.9')",
        **redis_cache.server_env(),
    )
    response = client.post(
        "/api/auth/login/",
        {"email": "ada@example.com", "password": DEFAULT_PASSWORD},
        "application/json",
    )

    assert other_process.returncode == 0, other_process.stderr
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_ATTEMPTS}
