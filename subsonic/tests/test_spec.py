"""The names and sentences of subsonic/spec.py against the specification kept beside the
project (`../shared/opensubsonic/`, or OPENSUBSONIC_SPEC): skipped where it is not there."""

import json
import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from subsonic.spec import ENDPOINT_NAMES, ERROR_MESSAGES, EXTENSIONS


def _specification() -> Path | None:
    candidates = [os.environ.get("OPENSUBSONIC_SPEC", "")]
    candidates.append(str(Path(settings.BASE_DIR).parent / "shared" / "opensubsonic"))
    return next(
        (Path(path) for path in candidates if path and (Path(path) / "openapi").is_dir()), None
    )


SPEC = _specification()
pytestmark = pytest.mark.skipif(
    SPEC is None, reason="the OpenSubsonic specification is not beside the project"
)


def test_the_endpoint_names_are_the_specifications():
    paths = json.loads((SPEC / "openapi" / "openapi.json").read_text())["paths"]

    assert {path.removeprefix("/rest/") for path in paths} == ENDPOINT_NAMES


def test_the_error_sentences_are_the_specifications():
    error = json.loads((SPEC / "openapi" / "schemas" / "Error.json").read_text())
    listed = dict(re.findall(r"\* (\d+): (.+)", error["properties"]["code"]["description"]))

    assert {int(code): sentence for code, sentence in listed.items()} == {
        int(code): sentence for code, sentence in ERROR_MESSAGES.items()
    }


def test_each_advertised_extension_is_in_the_specification():
    documented = " ".join(path.read_text() for path in (SPEC / "docs" / "Extensions").glob("*.md"))

    for name in EXTENSIONS:
        assert f"`{name}`" in documented
