"""Callbacks the Unfold admin reads from settings.UNFOLD."""

from django.conf import settings
from django.http import HttpRequest

# Label colour by environment name; anything unknown is shown as a warning.
ENVIRONMENT_COLOURS = {"development": "info", "staging": "warning", "production": "danger"}


def environment_callback(request: HttpRequest) -> list[str]:
    name = settings.ENVIRONMENT_NAME
    return [name, ENVIRONMENT_COLOURS.get(name.lower(), "warning")]
