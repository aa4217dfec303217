"""Media library scanning: getScanStatus. The catalog is not scanned from folders (songs are
uploaded or imported), so no scan ever runs; `count` is the number of songs."""

from catalog.selectors.songs import song_list
from subsonic.registry import Body, Call, endpoint


@endpoint("getScanStatus")
def get_scan_status(call: Call) -> Body:
    return {"scanStatus": {"scanning": False, "count": song_list().count()}}
