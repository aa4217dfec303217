"""The garbage collector in a long-lived server process.

What start-up makes (Django, the apps, the URL configuration, the schemas) lives as long as
the process, yet every full collection walks it again. In the Socket.IO server that walk
paused the event loop 110-200 ms with 500 sockets connected, once every few seconds under
traffic, and every frame waited: an activity change's p99 was 171-184 ms. Frozen after
start-up, those objects are out of the collector's sight: the pauses are 40-85 ms and the p99
97-99 ms (docs/PERFORMANCE.md, "Real time at scale").
"""

import gc
from collections.abc import Awaitable, Callable


def freeze_after(startup: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """`startup`, then everything alive moved to the collector's permanent generation."""

    async def started_and_frozen() -> None:
        await startup()
        gc.collect()  # what start-up left as garbage is freed, not frozen
        gc.freeze()

    return started_and_frozen
