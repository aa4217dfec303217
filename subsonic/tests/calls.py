"""How the Subsonic tests call `/rest/` and read the answers (not a test module)."""

import hashlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
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
    /,  # positional only: `name` is also a parameter of some endpoints (createPlaylist)
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
_ROW_ID = re.compile(r"\b(ar|al|tr|pl)-(\d+)\b")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_RECENT = timedelta(hours=1)


def _ids_by_rank(text: str) -> str:
    """Row ids as 1, 2, ... per kind, in the order of their values in this answer: the ids
    themselves differ between runs (PostgreSQL's sequences go on across tests), their order
    (which row was made first) does not."""
    numbers: dict[str, set[int]] = {}
    for kind, number in _ROW_ID.findall(text):
        numbers.setdefault(kind, set()).add(int(number))
    ranks = {
        kind: {number: rank for rank, number in enumerate(sorted(values), 1)}
        for kind, values in numbers.items()
    }
    return _ROW_ID.sub(lambda found: f"{found[1]}-{ranks[found[1]][int(found[2])]}", text)


def _recent_as_now(text: str) -> str:
    """Moments of the last hour (rows the test made) as "(now)"; fixed ones stay. A moment
    in another format is left as it is, and so differs from the saved one."""

    def now_if_recent(found: re.Match[str]) -> str:
        moment = datetime.strptime(found[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return "(now)" if abs(datetime.now(UTC) - moment) < _RECENT else found[0]

    return _MOMENT.sub(now_if_recent, text)


def _normalized(text: str) -> str:
    """Without what changes from run to run: the server's version, row ids, the time."""
    return _recent_as_now(_ids_by_rank(_SERVER_VERSION.sub(r"\1(version)\2", text)))


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
