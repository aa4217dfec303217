"""Production refuses unsafe settings; the deploy check is clean."""

import secrets

import pytest

from core.settings import SAMPLE_SECRET_KEY
from core.tests.test_health_and_docs import run_project_python

LOAD_SETTINGS = "import django; django.setup()"
GOOD_KEY = secrets.token_urlsafe(50)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SECRET_KEY": "", "ALLOWED_HOSTS": "music.example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": SAMPLE_SECRET_KEY, "ALLOWED_HOSTS": "music.example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_on_unsafe_values(env, variable):
    result = run_project_python(LOAD_SETTINGS, DEBUG="False", **env)

    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, "one sentence, not a traceback"
    assert message.startswith(f"Set {variable} ")


def test_production_starts_with_safe_values():
    result = run_project_python(
        LOAD_SETTINGS, DEBUG="False", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="music.example.com"
    )

    assert result.returncode == 0, result.stderr


def test_deploy_check_has_no_warnings():
    result = run_project_python(
        "import sys; from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        DEBUG="False",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="music.example.com",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
