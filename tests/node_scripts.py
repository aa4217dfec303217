"""Node.js scripts the tests run against npm packages written by no one here (an independent
reader or client). `make install-dev` installs each test folder's packages with `npm ci` from
its committed lock file; without Node.js or the package, the test is skipped and says why."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import PROJECT

NODE_TIMEOUT_SECONDS = 60
NO_NODE = "Node.js is not installed (apt install nodejs npm, then make install-dev)"


def node_with(package: str, node_dir: Path) -> str:
    """The node binary, once `package` is installed in `node_dir`; else the test is skipped."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(NO_NODE)
    if not (node_dir / "node_modules" / package / "package.json").exists():
        folder = node_dir.relative_to(PROJECT) if node_dir.is_relative_to(PROJECT) else node_dir
        pytest.skip(f"{package} is not installed in {folder}: run make install-dev")
    return node


def run_node_script(node: str, script: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run `script` to its end (within NODE_TIMEOUT_SECONDS), its output as text."""
    return subprocess.run(
        [node, str(script), *arguments],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )


def run_in(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `command` (npm, node, tsc) in `cwd` to its end, its output as text."""
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must have succeeded (else the test fails, showing why)."""
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout
