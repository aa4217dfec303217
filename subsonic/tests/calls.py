"""How the Subsonic tests call `/rest/` and read the answers (not a test module)."""

import hashlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.dom import minidom
from xml.etree import ElementTree

from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

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
    headers: dict[str, str] | None = None,
    **params: Any,
) -> HttpResponse:
    """`/rest/<name><suffix>` with `v`, `c`, the credentials and `params` (f=json unless
    `f` is given): in the query string for GET (and HEAD), as a form for POST."""
    data = {"v": "1.16.1", "c": CLIENT_NAME, "f": "json", **(credentials or {}), **params}
    data = {key: value for key, value in data.items() if value is not None}
    return getattr(client, method)(f"/rest/{name}{suffix}", data, headers=headers)


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
# The milliseconds of getIndexes' lastModified, and random stored file names.
_MILLISECONDS = re.compile(r'(lastModified"?[=:] ?"?)[0-9]+')
_STORED_NAME = re.compile(r"\b[0-9a-f]{32}\b")


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
    """Without what changes from run to run: the server's version, row ids, the time, the
    index's milliseconds, stored names."""
    text = _SERVER_VERSION.sub(r"\1(version)\2", text)
    text = _MILLISECONDS.sub(r"\1(milliseconds)", text)
    text = _STORED_NAME.sub("(stored name)", text)
    return _recent_as_now(_ids_by_rank(text))


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


# --- The specification's JSON schemas ---------------------------------------------------


@cache
def specification() -> Path | None:
    """The OpenSubsonic specification beside the project (`../shared/opensubsonic/`), or at
    OPENSUBSONIC_SPEC; None where it is not."""
    candidates = [os.environ.get("OPENSUBSONIC_SPEC", "")]
    candidates.append(str(Path(settings.BASE_DIR).parent / "shared" / "opensubsonic"))
    return next(
        (Path(path) for path in candidates if path and (Path(path) / "openapi").is_dir()), None
    )


def _schema_file(uri: str) -> Resource:
    contents = json.loads(Path(urlsplit(uri).path).read_text())
    return Resource.from_contents(contents, default_specification=DRAFT202012)


def _answer_schema(spec: Path, name: str) -> dict[str, Any]:
    """The schema of the endpoint's JSON answer: its 200 of the specification; for an
    endpoint that answers a file, the failure envelope (its only JSON)."""
    where = spec / "openapi" / "endpoints" / f"{name}.json"
    ok = json.loads(where.read_text())["get"]["responses"]["200"]
    if "$ref" in ok:  # a response shared by several endpoints (the empty one, a file)
        where = (where.parent / ok["$ref"]).resolve()
        ok = json.loads(where.read_text())
    json_content = ok.get("content", {}).get("application/json")
    if json_content is not None:
        return {"$ref": urljoin(where.as_uri(), json_content["schema"]["$ref"])}
    failure = spec / "openapi" / "schemas" / "SubsonicResponse" / "SubsonicFailureResponse.json"
    return {
        "type": "object",
        "properties": {"subsonic-response": {"$ref": failure.as_uri()}},
        "required": ["subsonic-response"],
    }


def assert_as_specified(response: HttpResponse, name: str) -> None:
    """A JSON answer validates against the specification's schema for `name` (field names,
    types, required fields); nothing is checked where the specification is not at hand
    (subsonic/tests/test_spec.py says so by skipping)."""
    spec = specification()
    if spec is None:
        return
    validator = Draft202012Validator(
        _answer_schema(spec, name), registry=Registry(retrieve=_schema_file)
    )
    errors = sorted(validator.iter_errors(json.loads(response.content)), key=str)
    assert errors == [], "\n".join(error.message for error in errors)
