"""Helpers the tests of every app share (the fixtures are in the root conftest.py)."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from ninja_jwt.tokens import RefreshToken

from users.models import User

# The password of every user the `make_user` fixture makes, unless told otherwise.
DEFAULT_PASSWORD = "Correct-Horse-9-Battery"


def bearer(user: User) -> dict[str, str]:
    """Headers that sign requests in as `user` with a fresh access token."""
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def multipart(data: dict) -> dict:
    """Keyword arguments that send `data` as multipart from `client.put` or `client.patch`.

    Django's test client encodes multipart only for POST.
    """
    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


def iso(moment) -> str:
    """A datetime as the API writes it (ISO 8601, milliseconds, Z)."""
    return DjangoJSONEncoder().default(moment)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Browser tests: `pytestmark = BROWSER_TEST` in the module.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (`.ci/run` installs it)",
    ),
]
