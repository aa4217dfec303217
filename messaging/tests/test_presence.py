"""Presence stores: several tabs count once; with Redis, processes share it and a process that
dies without saying goodbye is uncounted by the others (real Redis: the run's own)."""

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from messaging.realtime.presence import IDLE, MemoryPresence, RedisPresence
from tests.live_servers import REDIS_KEY_PREFIX
from tests.redis_servers import TestRedis

TTL_SECONDS = 1
# A shared TEST_REDIS_URL may hold other runs' keys: this run keeps to its own.
PREFIX = f"{REDIS_KEY_PREFIX}:presence"


@pytest.fixture
def empty_redis(test_redis: TestRedis) -> Iterator[redis.Redis]:
    """The run's Redis without presence keys of this run (`test_redis` deletes them)."""
    client = test_redis.client(decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def process(test_redis: TestRedis) -> Callable[[str], RedisPresence]:
    """The presence store of one server process, by its id, on the run's Redis."""

    def make(process_id: str) -> RedisPresence:
        return RedisPresence(
            test_redis.url, prefix=PREFIX, process_id=process_id, ttl_seconds=TTL_SECONDS
        )

    return make


def test_memory_presence_counts_tabs_once():
    async def scenario() -> None:
        presence = MemoryPresence()
        assert await presence.add(7) is True
        assert await presence.add(7) is False
        assert await presence.set_activity(7, "Playing A by B") is True
        assert await presence.set_activity(8, "Not online") is False
        assert await presence.online() == [7]
        assert await presence.activities() == [[7, "Playing A by B"]]
        assert await presence.remove(7) is False
        assert await presence.online() == [7]
        assert await presence.remove(7) is True
        assert await presence.remove(7) is False  # nothing left to remove
        assert await presence.online() == []
        assert await presence.activities() == []

    asyncio.run(scenario())


def test_redis_presence_counts_tabs_on_two_processes_once(empty_redis, process):
    async def scenario() -> None:
        one, two = process("one"), process("two")
        assert await one.add(7) is True
        assert await two.add(7) is False
        assert await two.online() == [7]
        assert await one.activities() == [[7, IDLE]]
        assert await two.set_activity(7, "Playing A by B") is True
        assert await one.activities() == [[7, "Playing A by B"]]
        assert await one.remove(7) is False
        assert await one.online() == [7]
        assert await two.remove(7) is True
        assert await one.online() == []
        assert await one.activities() == []
        assert await one.set_activity(7, "Gone") is False
        assert await two.remove(7) is False  # a remove without an add changes nothing
        assert await one.online() == []
        for store in (one, two):
            await store.stop()

    asyncio.run(scenario())


def test_a_process_that_stops_beating_is_uncounted_once(empty_redis, process):
    async def scenario() -> None:
        alive, dead = process("alive"), process("dead")
        await dead.add(7)
        await dead.add(7)
        await dead.add(9)
        await alive.add(8)
        await alive.add(9)
        await asyncio.sleep(TTL_SECONDS + 0.5)  # "dead" never beats again

        gone, back = await alive.heartbeat()
        assert (gone, back) == ([7], [])
        assert await alive.online() == [8, 9]  # 9 still has a socket on "alive"
        assert await alive.activities() == [[8, IDLE], [9, IDLE]]
        assert await alive.heartbeat() == ([], [])  # announced by one beat only
        assert empty_redis.exists(f"{PREFIX}:process:dead") == 0
        await alive.stop()

    asyncio.run(scenario())


def test_a_process_wrongly_taken_for_dead_puts_its_sockets_back(empty_redis, process):
    async def scenario() -> None:
        alive, paused = process("alive"), process("paused")
        await paused.add(7)
        await paused.add(7)
        await asyncio.sleep(TTL_SECONDS + 0.5)
        assert await alive.heartbeat() == ([7], [])
        assert await alive.online() == []

        # The paused process wakes up: its next beat puts its two sockets back.
        assert await paused.heartbeat() == ([], [7])
        assert await alive.online() == [7]
        assert await alive.activities() == [[7, IDLE]]
        assert await paused.remove(7) is False
        assert await paused.remove(7) is True
        assert await alive.online() == []
        for store in (alive, paused):
            await store.stop()

    asyncio.run(scenario())


def test_a_new_socket_on_a_swept_process_re_registers_the_others_first(empty_redis, process):
    async def scenario() -> None:
        alive, paused = process("alive"), process("paused")
        await paused.add(7)
        await asyncio.sleep(TTL_SECONDS + 0.5)
        assert await alive.heartbeat() == ([7], [])

        # A second tab arrives on the paused process before its next beat.
        assert await paused.add(7) is False  # user 7 was put back first, so not "new"
        assert await paused.heartbeat() == ([], [7])  # ...and is announced with the beat
        assert await paused.remove(7) is False
        assert await alive.online() == [7]
        assert await paused.remove(7) is True
        assert await alive.online() == []
        for store in (alive, paused):
            await store.stop()

    asyncio.run(scenario())


def test_stopping_a_process_drops_only_its_own_sockets(empty_redis, process):
    async def scenario() -> None:
        one, two = process("one"), process("two")
        await one.add(7)
        await two.add(7)
        await two.add(8)
        assert await two.stop() == [8]
        assert await one.online() == [7]
        assert await one.stop() == [7]
        assert empty_redis.keys(f"{PREFIX}:*") == []

    started = time.monotonic()
    asyncio.run(scenario())
    assert time.monotonic() - started < TTL_SECONDS  # no waiting for a sweep
