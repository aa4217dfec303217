"""Logging: one line per refused or failed request.

ninja-extra logs each request it routes to `django.request` (every one at INFO, a refused one
at WARNING with its exception), and Django then logs the same 4xx or 5xx response there
itself, at WARNING or ERROR. Django's line is the one kept: it comes for every response,
routed by ninja or not, at the level its status calls for.
"""

import logging
from pathlib import Path

_NINJA_EXTRA = "ninja_extra"


class WithoutNinjaExtraRequestLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _NINJA_EXTRA not in Path(record.pathname).parts
