"""How the Subsonic tests call `/rest/` and read the answers (not a test module)."""

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from xml.dom import minidom
from xml.etree import ElementTree

from django.http import HttpResponse
from django.test import Client

from subsonic.spec import XML_NAMESPACE

CLIENT_NAME = "pytest"
# The saved answers (`UPDATE_SAVED=1 pytest subsonic/tests` writes them anew).
SAVED = Path(__file__).parent / "responses"
SALT = "c19b2d"
# The listener of the `listener` fixture (subsonic/tests/conftest.py).
LISTENER_EMAIL = "ada@example.com"


def md5_token(secret: str, salt: str = SALT) -> str:
    return hashlib.md5((secret + salt).encode()).hexdigest()  # noqa: S324 (the protocol's)


def api_key(secret: str) -> dict[str, str]:
    return {"apiKey": secret}


def token(email: str, secret: str, salt: str = SALT) -> dict[str, str]:
    return {"u": email, "t": md5_token(secret, salt), "s": salt}


def call(
    client: Client,
    name: str,
    credentials: dict[str, str] | None = None,
    *,
    method: str = "get",
    suffix: str = "",
    **params: Any,
) -> HttpResponse:
    """`/rest/<name><suffix>` with `v`, `c`, the credentials and `params` (f=json unless
    `f` is given): in the query string for GET, as a form for POST."""
    data = {"v": "1.16.1", "c": CLIENT_NAME, "f": "json", **(credentials or {}), **params}
    data = {key: value for key, value in data.items() if value is not None}
    return getattr(client, method)(f"/rest/{name}{suffix}", data)


def answer(response: HttpResponse) -> dict[str, Any]:
    """The JSON envelope's contents, after checking the HTTP side of it."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)["subsonic-response"]


def error_of(response: HttpResponse) -> dict[str, Any]:
    body = answer(response)
    assert body["status"] == "failed", body
    return body["error"]


def xml_root(response: HttpResponse) -> ElementTree.Element:
    """The XML answer parsed (so well-formed), its root checked: the namespace and status."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.content)  # noqa: S314 (the server's own answer)
    assert root.tag == f"{{{XML_NAMESPACE}}}subsonic-response"
    assert root.get("status") in ("ok", "failed")
    return root


_SERVER_VERSION = re.compile(r'(serverVersion"?[=:] ?")[^"]*(")')


def _normalized(text: str) -> str:
    """Without what changes from release to release: the server's version."""
    return _SERVER_VERSION.sub(r"\1(version)\2", text)


def readable(response: HttpResponse, form: str) -> str:
    """The answer as its saved file holds it: indented, the volatile values normalized."""
    if form == "json":
        text = json.dumps(json.loads(response.content), indent=2, ensure_ascii=False)
    else:
        parsed = minidom.parseString(response.content)  # noqa: S318 (the server's own answer)
        text = parsed.toprettyxml(indent="  ")
    return _normalized(text).strip() + "\n"


def assert_saved(response: HttpResponse, name: str, form: str) -> None:
    """The answer is the one saved in responses/<name>.<form>; with UPDATE_SAVED=1 it is
    saved instead (review the diff before committing it)."""
    path = SAVED / f"{name}.{form}"
    text = readable(response, form)
    if os.environ.get("UPDATE_SAVED") == "1":
        path.write_text(text)
    assert path.exists(), f"{path.name} is not saved yet: run with UPDATE_SAVED=1"
    assert text == path.read_text()
