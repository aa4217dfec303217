"""How the admin's lists write values, the same on every page."""

from datetime import datetime

from django.utils.html import format_html
from django.utils.timezone import localtime


def minutes_and_seconds(seconds: int) -> str:
    """A duration as a player writes it: `562` seconds is `9:22`."""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}"


def date_and_time(moment: datetime | None) -> str:
    """A short date and time on one line (`2026-12-03 14:05`), as the catalog's lists write it:
    Django's long format ("Dec. 3, 2026, 2:05 p.m.") wraps in narrow columns."""
    if moment is None:
        return "-"
    return format_html(
        '<span style="white-space:nowrap">{}</span>', f"{localtime(moment):%Y-%m-%d %H:%M}"
    )
