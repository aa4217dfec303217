"""Unsafe settings are refused at startup (the sample key in every mode); the deploy check is
clean; `make` gives a new .env a random key."""

import re
import secrets
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from config.settings import SAMPLE_SECRET_KEY
from tests.helpers import PROJECT, run_project_python

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


@pytest.mark.parametrize("key", ["", SAMPLE_SECRET_KEY], ids=["empty", "sample"])
@pytest.mark.parametrize("debug", ["True", "False"])
def test_an_empty_or_sample_key_is_refused_in_every_mode(key, debug):
    result = run_project_python(
        LOAD_SETTINGS, DEBUG=debug, SECRET_KEY=key, ALLOWED_HOSTS="music.example.com"
    )

    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, "one sentence, not a traceback"
    assert message.startswith("Set SECRET_KEY ")
    assert "secrets.token_urlsafe(50)" in message  # it says how to make one


def test_development_starts_with_a_key_of_its_own():
    result = run_project_python(LOAD_SETTINGS, DEBUG="True", SECRET_KEY=GOOD_KEY)

    assert result.returncode == 0, result.stderr


def make_env(folder: Path) -> str:
    """Run the Makefile's `.env` target in `folder` (a copy of the two files it reads)."""
    for name in ("Makefile", ".env.sample"):
        shutil.copy(PROJECT / name, folder / name)
    subprocess.run(["make", "--silent", ".env"], cwd=folder, check=True, timeout=60)
    return (folder / ".env").read_text()


def test_make_writes_a_random_secret_key_into_the_env_it_creates(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    sample = (PROJECT / ".env.sample").read_text()

    one, two = make_env(tmp_path / "one"), make_env(tmp_path / "two")

    key = re.search(r"^SECRET_KEY=(.*)$", one, re.MULTILINE).group(1)
    assert len(key) >= 50
    assert key != SAMPLE_SECRET_KEY
    assert key not in two  # each .env its own
    # Only the key differs from the sample, and only the owner may read the file.
    assert one.replace(key, SAMPLE_SECRET_KEY) == sample
    assert stat.S_IMODE((tmp_path / "one" / ".env").stat().st_mode) == 0o600
    assert run_project_python(LOAD_SETTINGS, DEBUG="True", SECRET_KEY=key).returncode == 0


def test_make_keeps_an_existing_env(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=mine\n")

    assert make_env(tmp_path) == "SECRET_KEY=mine\n"
