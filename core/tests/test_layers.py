"""The import rules of docs/ARCHITECTURE.md, as `lint-imports` checks them (make lint, make
test): the tree keeps every contract in pyproject.toml, and an import that breaks one fails
the check with the importing module, the imported one and the line."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# The packages the contracts name (pyproject.toml), all copied into the scratch tree.
ROOT_PACKAGES = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_contract():
    result = lint_imports(PROJECT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 7 kept, 0 broken." in result.stdout


@pytest.fixture
def scratch_tree(tmp_path: Path) -> Path:
    """A copy of the project's packages and contracts, to break on purpose."""
    for package in ROOT_PACKAGES:
        shutil.copytree(
            PROJECT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "node_modules"),
        )
    shutil.copy(PROJECT / "pyproject.toml", tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "contract", "named_import"),
    [
        (
            "core/scratch.py",
            "from catalog.models import Song",
            "core imports no app and not config",
            "core.scratch -> catalog.models (l.1)",
        ),
        (
            "stats/scratch.py",
            "from config.api import api",
            "no app imports config",
            "stats.scratch -> config.api (l.1)",
        ),
        (
            "catalog/scratch.py",
            "from library.models import Playlist",
            "catalog imports neither library nor messaging",
            "catalog.scratch -> library.models (l.1)",
        ),
        (
            "library/scratch.py",
            "from stats import selectors",
            "no app imports stats",
            "library.scratch -> stats.selectors (l.1)",
        ),
        (
            "catalog/scratch.py",
            "from subsonic.spec import API_VERSION",
            "no app imports subsonic",
            "catalog.scratch -> subsonic.spec (l.1)",
        ),
        (
            "messaging/selectors/__init__.py",
            "from messaging.realtime import push",
            "services and selectors import no controllers, admin or realtime",
            "messaging.selectors -> messaging.realtime.push (l.1)",
        ),
        (
            "catalog/selectors/songs.py",
            "from catalog import controllers",
            "services and selectors import no controllers, admin or realtime",
            "catalog.selectors.songs -> catalog.controllers (l.1)",
        ),
        (
            "catalog/search.py",
            "from catalog.admin import SongAdmin",
            "services and selectors import no controllers, admin or realtime",
            "catalog.search -> catalog.admin (l.1)",
        ),
        (
            "users/scratch.py",
            "from catalog.models import Song",
            "the packages stand in layers (docs/ARCHITECTURE.md)",
            "users.scratch -> catalog.models (l.1)",
        ),
        (
            "messaging/scratch.py",
            "from library.models import Playlist",
            "the packages stand in layers (docs/ARCHITECTURE.md)",
            "messaging.scratch -> library.models (l.1)",
        ),
    ],
)
def test_a_broken_contract_fails_naming_the_import(
    scratch_tree: Path, module: str, line: str, contract: str, named_import: str
):
    path = scratch_tree / module  # the copy keeps every contract, as the first test shows
    if path.name == "__init__.py":  # a module that grew into a package is held to its rules
        old = path.parent.with_suffix(".py")
        path.parent.mkdir()
        path.write_text(f"{line}\n{old.read_text()}")
        old.unlink()
    else:
        path.write_text(f"{line}\n")

    result = lint_imports(scratch_tree)

    assert result.returncode == 1
    assert f"{contract} BROKEN" in result.stdout
    assert named_import in result.stdout
