"""The JSON module python-socketio and python-engineio encode and decode packets with: orjson,
which writes a big payload (a snapshot of presence for a thousand users) several times faster
than the standard library. Anything orjson refuses (an integer key, a huge integer) goes to
the standard library, so the two agree on what can be sent."""

import json
from typing import Any

import orjson


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps`, compact (python-socketio asks for compact separators anyway)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, **options)


def loads(text: str | bytes, **options: Any) -> Any:
    return orjson.loads(text)
