"""The Makefile's first minutes: `make` alone lists the targets, `make dev` reloads on code
changes, install-dev installs the Node packages so the tests run offline. Targets that would
install or serve are read with `make -n` (printed, not run)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

PROJECT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*arguments: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_alone_lists_the_targets_with_one_line_each():
    listed = dict(re.findall(r"^  ([a-z-]+) +(\S.*)$", make(), flags=re.MULTILINE))

    assert {"help", "run", "dev", "test", "admin", "install-dev", "client"} <= set(listed)
    assert all(description.strip() for description in listed.values())


def test_make_dev_serves_with_autoreload_watching_the_code_only():
    commands = make("-n", "dev").replace("\\\n", " ")  # one line per command
    (serve,) = [line for line in commands.splitlines() if "uvicorn" in line]
    watched = re.findall(r"--reload-dir (\S+)", serve)

    assert "--reload " in serve
    assert {"core", "users", "catalog", "library", "messaging", "stats", "templates"} <= set(
        watched
    )
    assert not {"media", ".venv", "."} & set(watched)


def test_install_dev_installs_the_node_packages_from_their_lock_files():
    # -B: as on a fresh checkout, whatever is installed already.
    planned = make("-n", "-B", "install-dev")

    for directory in ("messaging/tests/node", "clients/typescript"):
        assert f"cd {directory} && npm ci" in planned


def test_the_client_target_uses_the_installed_packages_without_npm():
    (generate,) = [line for line in make("-n", "client").splitlines() if "generate.mjs" in line]

    assert "npm" not in generate


def test_make_run_and_dev_start_a_job_worker_beside_the_server_and_stop_it_with_it():
    for target in ("run", "dev"):
        commands = make("-n", target).replace("\\\n", " ")
        (serve,) = [line for line in commands.splitlines() if "uvicorn" in line]

        # In the server's own shell, so the exit trap stops the worker with the server.
        assert serve.index("manage.py jobs_worker &") < serve.index("uvicorn config.asgi")
        assert "trap 'kill $worker 2>/dev/null; wait $worker' EXIT" in serve
