"""A song's waveform drawn for the admin: its stored peaks (audiowaveform JSON) as an SVG."""

import json
import logging

from django.utils.html import format_html

from catalog.models import Song
from catalog.renditions import outputs_current

logger = logging.getLogger(__name__)

# The peaks' file is small (at most a few thousand points), but never read past this.
MAX_WAVEFORM_BYTES = 1024 * 1024
HEIGHT = 256  # 8-bit peaks: -128 to 127
NO_WAVEFORM = "-"
UNREADABLE = "The waveform file could not be read."


def waveform_svg(song: Song) -> str:
    """An SVG of the song's peaks (max above the middle line, min below), or "-"."""
    if not (song.waveform_file and outputs_current(song)):
        return NO_WAVEFORM
    try:
        with song.waveform_file.open("rb") as stored:
            peaks = json.loads(stored.read(MAX_WAVEFORM_BYTES))
        data = [int(value) for value in peaks["data"]]
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("Unreadable waveform %s", song.waveform_file.name, exc_info=True)
        return UNREADABLE
    minima, maxima = data[0::2], data[1::2]
    if not maxima:
        return NO_WAVEFORM
    # The outline: along the maxima left to right, back along the minima; y grows downwards.
    top = [f"{x},{127 - value}" for x, value in enumerate(maxima)]
    bottom = [f"{x},{128 - value}" for x, value in reversed(list(enumerate(minima)))]
    return format_html(
        '<svg role="img" aria-label="Waveform of {}" viewBox="0 0 {} {}" '
        'preserveAspectRatio="none" width="480" height="64" class="waveform">'
        '<polygon points="{}" fill="currentColor"/></svg>',
        song.title,
        len(maxima),
        HEIGHT,
        " ".join(top + bottom),
    )
