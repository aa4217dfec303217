"""The files a newcomer or a packager looks for first: the license (declared where packaging
tools read it), how to contribute, and what changed."""

import re
import tomllib
from pathlib import Path

from django.conf import settings

PROJECT = Path(settings.BASE_DIR)


def pyproject() -> dict:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text())


def test_the_project_is_mit_licensed_and_says_so_in_its_metadata():
    project = pyproject()["project"]
    license_text = (PROJECT / "LICENSE").read_text()

    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert license_text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the music-streaming-backend contributors" in license_text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in license_text


def test_the_changelog_has_unreleased_changes_above_the_current_version():
    changelog = (PROJECT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", changelog, flags=re.MULTILINE)

    assert versions[:2] == ["Unreleased", pyproject()["project"]["version"]]


def test_contributing_says_how_to_run_test_and_regenerate():
    contributing = (PROJECT / "CONTRIBUTING.md").read_text()

    for command in ("make run", "make test", "make install-dev", "make schema", "make client"):
        assert command in contributing
    assert "TEST_REDIS_URL" in contributing
