"""Presence changes sent to every socket in batches: the `presence` event (docs/API.md, 8).

Announcing each change to every socket as it happens costs N frames a change, and a connect
storm of N sockets N² frames (N³ bytes when each carried the whole list of activities).
Here a change only marks its user; the users marked are sent together as one frame of their
state as it is when sent, at most once a window: the first change after a quiet window goes
on the loop's next turn (so the changes of one moment share it), later ones wait for the
window's end. The frame carries each user's current state, not the change, so a client
applies it idempotently and a frame that arrives after a newer snapshot does no harm: any
change after the frame was read marks its user again, and a later frame corrects it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

logger = logging.getLogger(__name__)

# After a failed send (Redis away), the users stay marked and the send is tried again after
# this long: the state is in presence, so nothing is lost but time.
RETRY_SECONDS = 1.0
# A frame to every socket costs each socket's writer a turn of the loop; with thousands of
# sockets and the loop already behind (a connect storm), frames every window would take all
# of it. So the window stretches by this many times the loop's lag at the last wake-up, up
# to MAX_WINDOW_SECONDS: a busy loop sends fewer, fuller frames, an idle one sends at once.
LAG_FACTOR = 4.0
MAX_WINDOW_SECONDS = 2.0


class PresenceBatch:
    def __init__(self, send: Callable[[list[int]], Awaitable[None]], *, window: float) -> None:
        self._send = send
        self._window = window
        self._marked: set[int] = set()
        self._sent_at = float("-inf")  # loop time of the last send
        self._lag = 0.0  # how late the last wake-up was
        self._task: asyncio.Task | None = None
        self._failing = False

    def mark(self, user_ids: Iterable[int]) -> None:
        """These users' presence or activity changed: send their state with the next batch.
        Call on the serving loop."""
        self._marked.update(user_ids)
        if self._marked and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._marked:
            window = min(self._window + LAG_FACTOR * self._lag, MAX_WINDOW_SECONDS)
            due = max(loop.time(), self._sent_at + window)
            # At least one turn of the loop, so that what else is ready now joins this batch.
            await asyncio.sleep(due - loop.time())
            self._lag = loop.time() - due
            user_ids, self._marked = sorted(self._marked), set()
            self._sent_at = loop.time()
            try:
                await self._send(user_ids)
            except Exception as error:
                self._marked.update(user_ids)
                if not self._failing:  # once per outage
                    logger.warning("Presence batch not sent (%s); retrying", error)
                self._failing = True
                await asyncio.sleep(RETRY_SECONDS)
            else:
                if self._failing:
                    logger.warning("Presence batches are sent again")
                self._failing = False

    async def flush(self) -> None:
        """Send what is marked now (a process that stops)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._marked:
            user_ids, self._marked = sorted(self._marked), set()
            await self._send(user_ids)


class WelcomeBatch:
    """New sockets accepted at the same moment share one snapshot of presence.

    Each new socket gets the whole picture (every online user and activity), which grows
    with the number online: in a connect storm of N sockets, read and encoded N times, that
    is N² work. Here the sockets waiting for their welcome when a send starts all get the
    same one, read and encoded once, and the ones that arrive meanwhile the next."""

    def __init__(self, send: Callable[[list[str]], Awaitable[None]]) -> None:
        self._send = send
        self._waiting: list[tuple[str, asyncio.Future[None]]] = []
        self._task: asyncio.Task | None = None

    async def welcome(self, sid: str) -> None:
        """Send socket `sid` the snapshot, with whichever others wait; raises what the send
        raised."""
        loop = asyncio.get_running_loop()
        sent: asyncio.Future[None] = loop.create_future()
        self._waiting.append((sid, sent))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        await sent

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # the sockets accepted on this turn of the loop join
            batch, self._waiting = self._waiting, []
            try:
                await self._send([sid for sid, _ in batch])
            except Exception as error:
                for _, sent in batch:
                    if not sent.done():
                        sent.set_exception(error)
            else:
                for _, sent in batch:
                    if not sent.done():
                        sent.set_result(None)
