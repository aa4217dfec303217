"""The server's start-up freezes what it made (core/collector.py)."""

import asyncio
import gc

from core.collector import freeze_after


def test_after_start_up_what_it_made_is_frozen_and_its_garbage_freed():
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    made: list[Node] = []

    async def startup() -> None:
        made.append(Node())
        Node()  # garbage, left for the collector

    gc.unfreeze()  # nothing frozen before (this test process serves nothing)
    gc.collect()
    try:
        asyncio.run(freeze_after(startup)())
        assert made, "start-up ran"
        assert gc.get_freeze_count() > 0
        assert sum(isinstance(item, Node) for item in gc.get_objects()) == 0  # none tracked
    finally:
        gc.unfreeze()
    alive = [item for item in gc.get_objects() if isinstance(item, Node)]
    assert alive == made  # the one kept is back in sight, the garbage was freed
