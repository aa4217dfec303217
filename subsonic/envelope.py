"""The `subsonic-response` envelope, written as XML (the default), JSON (`f=json`) or JSONP
(`f=jsonp&callback=`), from one Python structure.

A handler answers a dict (dataclasses work too) of what goes inside the envelope, e.g.
`{"license": {"valid": True}}`. The one set of rules that turns it into both formats:

| Python | JSON | XML |
| --- | --- | --- |
| a scalar (str, int, float, bool, datetime) | a member | an attribute |
| a dict or dataclass | an object | a child element named by its key |
| a list | an array | the element repeated, once per item, named by the key |
| the key `value` | `"value": ...` | the element's text (genre names, lyrics) |
| an `Element` (a str) | a member | a child element with that text (`<biography>`) |
| None | left out | left out |

Beside child elements `value` is an attribute instead (a lyrics `cueLine`): no element has
mixed content. Booleans are `true`/`false`, datetimes ISO 8601 in UTC with milliseconds
(`...T10:42:50.842Z`).
"""

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse

from subsonic.errors import SubsonicError
from subsonic.params import Params
from subsonic.spec import API_VERSION, XML_NAMESPACE, ErrorCode

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
JSONP_CONTENT_TYPE = "application/javascript; charset=utf-8"
INVALID_CALLBACK = "The callback parameter is not a JavaScript name (letters, digits, _ $ .)."

# A JSONP callback: a JavaScript name or a dotted path of them (`jQuery123.cb`), nothing that
# could be code. Short, as any real callback is.
_CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){0,4}", re.ASCII)
# Characters XML 1.0 cannot carry at all (not even escaped): dropped from text and attributes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;"}
    | {"\t": "&#9;"}
)
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# Whether a text has anything to escape at all: most have not, and a search is much faster
# than a translation that changes nothing (5,000 artists of getArtists).
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\n\r\t]')
_TEXT_SPECIAL = re.compile("[&<>\r]")


class Element(str):
    """Text the XML form writes as a child element, `<biography>...</biography>`, where the
    schema has one (artistInfo2, albumInfo), rather than as an attribute; in JSON a string."""


class PlainList(list):
    """A list already through `plain` (no None, no datetime, only dicts and lists inside),
    which `plain` leaves as it is: a part of an answer built once and kept (the artist index,
    subsonic/artist_index.py) is not walked again for every request. Never changed once
    made: requests share it."""


@cache
def server_identity() -> tuple[str, str]:
    """(`type`, `serverVersion`): this project's name and version, from pyproject.toml."""
    with (settings.BASE_DIR / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    return project["name"], project["version"]


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Values `plain` leaves as they are, told by their exact type before anything slower: most
# of a large answer (5,000 artists) is these, or a PlainList of them.
_AS_THEY_ARE = frozenset({str, int, bool, float, Element, PlainList})


def plain(value: Any) -> Any:
    """`value` as JSON's types: dataclasses as dicts, None left out, datetimes as text."""
    kind = type(value)
    if kind in _AS_THEY_ARE:
        return value
    if kind is dict:
        return {key: plain(item) for key, item in value.items() if item is not None}
    if kind is list:
        return [plain(item) for item in value if item is not None]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value if item is not None]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(
            {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        )
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _NOT_XML.sub("", str(value))


def _attribute(value: Any) -> str:
    if type(value) is int:
        return str(value)
    text = _scalar(value)
    return text.translate(_ATTRIBUTE_ESCAPES) if _ATTRIBUTE_SPECIAL.search(text) else text


def _text(value: Any) -> str:
    text = _scalar(value)
    return text.translate(_TEXT_ESCAPES) if _TEXT_SPECIAL.search(text) else text


def _write_element(tag: str, node: Any, out: list[str]) -> None:
    if not isinstance(node, dict):  # a scalar item of a list: the element's text
        out.append(f"<{tag}>{_text(node)}</{tag}>")
        return
    out.append(f"<{tag}")
    children: list[tuple[str, Any]] = []
    text = None
    for key, value in node.items():
        if isinstance(value, dict | Element):
            children.append((key, value))
        elif isinstance(value, list):
            children.extend((key, item) for item in value)
        elif key == "value":
            text = value
        else:
            out.append(f' {key}="{_attribute(value)}"')
    if children and text is not None:  # no mixed content: beside children, an attribute
        out.append(f' value="{_attribute(text)}"')
        text = None
    if not children and text is None:
        out.append("/>")
        return
    out.append(">")
    if text is not None:
        out.append(_text(text))
    for key, child in children:
        _write_element(key, child, out)
    out.append(f"</{tag}>")


def envelope(body: Mapping[str, Any] | None = None, *, failed: bool = False) -> dict[str, Any]:
    """The whole answer: the envelope's own fields, then `body`, as plain values."""
    name, version = server_identity()
    return {
        "status": "failed" if failed else "ok",
        "version": API_VERSION,
        "type": name,
        "serverVersion": version,
        "openSubsonic": True,
        **plain(body or {}),
    }


def to_xml(answer: dict[str, Any]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write_element("subsonic-response", {"xmlns": XML_NAMESPACE, **answer}, out)
    return "".join(out).encode()


def to_json(answer: dict[str, Any]) -> bytes:
    return orjson.dumps({"subsonic-response": answer})


def _jsonp_callback(params: Params) -> str:
    callback = params.required("callback")
    if not _CALLBACK.fullmatch(callback):
        raise SubsonicError(ErrorCode.GENERIC, INVALID_CALLBACK)
    return callback


def render(
    params: Params,
    body: Mapping[str, Any] | None = None,
    *,
    failed: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The answer in the format `params` asks for (`f`): xml (the default), json or jsonp.

    A JSONP request without a valid `callback` gets its error as JSON: there is no name to
    call, and a name that is not one could be code.
    """
    form = params.get("f")
    if form == "jsonp":
        try:
            callback = _jsonp_callback(params)
        except SubsonicError as error:
            return _response(to_json(envelope(error.body(), failed=True)), JSON_CONTENT_TYPE, 200)
        # /**/ first: the body can never start like another file type (Flash's "CWS").
        script = b"/**/" + callback.encode() + b"(" + to_json(envelope(body, failed=failed)) + b");"
        return _response(script, JSONP_CONTENT_TYPE, status)
    if form == "json":
        return _response(to_json(envelope(body, failed=failed)), JSON_CONTENT_TYPE, status)
    return _response(to_xml(envelope(body, failed=failed)), XML_CONTENT_TYPE, status)


def _response(content: bytes, content_type: str, status: int) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type, status=status)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def render_error(params: Params, error: SubsonicError, *, status: int = 200) -> HttpResponse:
    return render(params, error.body(), failed=True, status=status)
