"""Redis going away and coming back, against live uvicorn processes and a Redis server of the
test's own (`private_redis`: stopped with SHUTDOWN NOSAVE and started again, so a restart
loses every key, as the machine's Redis does).

- While Redis is down, sign-in, the stats and the health check answer (the cache falls back
  to each process's memory; health says "degraded").
- After a restart, real-time delivery resumes by itself, and every socket that may have
  missed a push is told to `resync`: a client that then fetches its messages again has every
  message, and presence is written back.
"""

import asyncio
import logging
import time
from collections import Counter, defaultdict
from functools import partial
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.core.cache.backends.locmem import LocMemCache
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from core.cache import FallbackRedisCache
from messaging.models import Message
from messaging.realtime.events import RESYNC_DELIVERY_INTERRUPTED
from messaging.realtime.presence import IDLE, RedisPresence
from tests.helpers import wait_until
from tests.live_servers import REDIS_KEY_PREFIX, LiveServer, access_token
from tests.redis_servers import PrivateRedis
from users.models import User

PASSWORD = "A-sturdy-passphrase-7"
# The live servers count messages per user per minute; this load sends many more.
LOAD_ENV = {"MESSAGES_PER_MINUTE": "100000"}
DEADLINE_SECONDS = 15
# Messages sent before Redis stops, while it is down, and once every socket has resynced.
PHASE_MESSAGES = 6


def _with_server_password(user: User) -> User:
    """Give `user` a password the live server can check (the tests' own hasher is MD5, which
    the server does not accept)."""
    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])
    return user


def _login(server: LiveServer, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/auth/login/", json={"email": email, "password": password}, timeout=30
    )


def _health(server: LiveServer) -> httpx.Response:
    return httpx.get(f"{server.url}/api/health/", timeout=10)


def test_sign_in_stats_and_health_answer_while_redis_is_down(
    private_redis: PrivateRedis, start_server, make_user
):
    ada = _with_server_password(make_user(is_superuser=True, is_staff=True))
    bob = _with_server_password(make_user())
    server = start_server(redis_url=private_redis.url, env={"LOGIN_MAX_FAILURES_PER_EMAIL": "1"})
    assert _health(server).json() == {"status": "ok", "database": "ok", "redis": "ok"}

    private_redis.stop()

    health = _health(server)
    assert health.status_code == HTTPStatus.OK
    assert health.json() == {"status": "degraded", "database": "ok", "redis": "down"}
    signed_in = _login(server, ada.email)
    assert signed_in.status_code == HTTPStatus.OK, signed_in.text
    stats = httpx.get(
        f"{server.url}/api/stats/",
        headers={"Authorization": f"Bearer {signed_in.json()['access']}"},
        timeout=10,
    )
    assert stats.status_code == HTTPStatus.OK, stats.text
    # The sign-in lockout is kept in the database: one failure locks bob's email.
    assert _login(server, bob.email, "wrong").status_code == HTTPStatus.UNAUTHORIZED
    locked = _login(server, bob.email)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(locked.headers["Retry-After"]) > 0
    # One warning for the outage, not one per request.
    assert server.log().count("is unreachable") == 1, server.log()

    private_redis.start()

    assert _health(server).json() == {"status": "ok", "database": "ok", "redis": "ok"}
    # Back on Redis, bob's email is still locked: the lock never depended on it.
    assert _login(server, bob.email).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "answers again" in server.log()


def test_after_a_redis_restart_every_socket_resyncs_and_no_message_is_missed(
    private_redis: PrivateRedis, start_server, sockets, make_user
):
    one, two = start_server.many(2, redis_url=private_redis.url, env=LOAD_ENV)
    users = [make_user() for _ in range(3)]
    tokens = {user.pk: access_token(user) for user in users}
    # Every user has a tab on each process.
    tabs = [
        (user, server, sockets.open(server, user, f"user {user.pk}@{name}"))
        for user in users
        for server, name in ((one, "one"), (two, "two"))
    ]
    # What each tab fetched with GET /api/messages/ when told to resync (a client's reaction).
    fetched: dict[int, set[int]] = defaultdict(set)
    fetches: list[asyncio.Task] = []

    async def fetch_again(index: int, user: User, server: LiveServer) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            page = await http.get(
                f"{server.url}/api/messages/?limit=200",
                headers={"Authorization": f"Bearer {tokens[user.pk]}"},
            )
        assert page.status_code == HTTPStatus.OK, page.text
        fetched[index].update(message["id"] for message in page.json()["items"])

    for index, (user, server, tab) in enumerate(tabs):
        tab.when(
            "resync",
            lambda _payload, index=index, user=user, server=server: fetches.append(
                asyncio.ensure_future(fetch_again(index, user, server))
            ),
        )

    answers: list[tuple[float, int, Any]] = []  # (when the POST was sent, status, body)
    sending = True

    async def send() -> None:
        # One request at a time: concurrent writes from two processes would meet SQLite's
        # "database is locked" (a 503), which is not what this test is about.
        async with httpx.AsyncClient(timeout=30) as http:
            for turn in range(100_000):
                if not sending:
                    return
                sender, receiver = users[turn % 3], users[(turn + 1) % 3]
                server = (one, two)[turn % 2]
                sent_at = time.monotonic()
                response = await http.post(
                    f"{server.url}/api/messages/",
                    json={"receiver_id": receiver.pk, "content": f"{sender.pk} #{turn}"},
                    headers={"Authorization": f"Bearer {tokens[sender.pk]}"},
                )
                answers.append((sent_at, response.status_code, response.json()))
                await asyncio.sleep(0.01)

    def resynced(tab) -> bool:
        """Told to resync after the outage, then given presence as it is now."""
        names = [name for name, _ in tab.events]
        interrupted = ("resync", {"reason": RESYNC_DELIVERY_INTERRUPTED})
        return interrupted in tab.events and "activities" in names[tab.events.index(interrupted) :]

    def delivered_live(message: dict[str, Any]) -> bool:
        return all(
            message in tab.received("receive_message" if user.pk == receiver else "message_sent")
            for user, _, tab in tabs
            for receiver in [message["receiver_id"]]
            if user.pk in (message["sender_id"], receiver)
        )

    until = partial(wait_until, within=DEADLINE_SECONDS)

    def answered_since(moment: float) -> int:
        return sum(sent_at > moment for sent_at, _, _ in answers)

    async def scenario() -> tuple[float, float, float]:
        nonlocal sending
        sender = asyncio.ensure_future(send())
        # Messages before, during and after the outage: counted, not timed, so that a slow
        # machine sends as many as a fast one.
        await until(lambda: answered_since(0) >= PHASE_MESSAGES, "messages before")
        await asyncio.to_thread(private_redis.stop)
        stopped = time.monotonic()
        await until(lambda: answered_since(stopped) >= PHASE_MESSAGES, "messages without Redis")
        await asyncio.to_thread(private_redis.start)
        restarted = time.monotonic()
        await until(lambda: all(resynced(tab) for _, _, tab in tabs), "every tab resyncs")
        all_resynced = time.monotonic()
        print(f"every tab resynced {all_resynced - restarted:.2f} s after Redis restarted")
        await until(lambda: answered_since(all_resynced) >= PHASE_MESSAGES, "messages after")
        sending = False
        await sender
        # What was sent once every process had recovered arrives live, as before the outage.
        after = [body for sent_at, _, body in answers if sent_at > all_resynced]
        await until(lambda: all(map(delivered_live, after)), "live delivery after the outage")
        await until(lambda: all(task.done() for task in fetches), "the fetches end")
        await asyncio.gather(*fetches)
        return stopped, restarted, all_resynced

    stopped, restarted, all_resynced = sockets.run(scenario())

    assert {status for _, status, _ in answers} == {HTTPStatus.CREATED}
    messages = [body for _, _, body in answers]
    stored = set(Message.objects.values_list("id", flat=True))
    assert {message["id"] for message in messages} == stored
    lost_pushes = 0
    for index, (user, _server, tab) in enumerate(tabs):
        # Told to resync, then given presence as it is now (Redis had lost it).
        resync_at = tab.events.index(("resync", {"reason": RESYNC_DELIVERY_INTERRUPTED}))
        online_after = [data for name, data in tab.events[resync_at:] if name == "users_online"]
        assert online_after[0] == sorted(other.pk for other in users)
        activities_after = [data for name, data in tab.events[resync_at:] if name == "activities"]
        assert activities_after[0] == sorted([other.pk, IDLE] for other in users)
        assert tab.client.connected
        # Every message of this tab's user came as a push or with the fetch after `resync`.
        pushed = {
            data["id"] for name, data in tab.events if name in ("receive_message", "message_sent")
        }
        for message in messages:
            if user.pk in (message["sender_id"], message["receiver_id"]):
                assert message["id"] in pushed | fetched[index], (message, tab.name)
                lost_pushes += message["id"] not in pushed
    phases = Counter(
        "before"
        if sent_at < stopped
        else "down"
        if sent_at < restarted
        else "recovering"
        if sent_at < all_resynced
        else "after"
        for sent_at, _, _ in answers
    )
    print(f"messages sent {dict(phases)}; {lost_pushes} pushes lost and repaired by resync")

    # Presence was written back: a newcomer sees everyone online.
    newcomer = make_user()
    online = sockets.open(two, newcomer, "newcomer@two").received("users_online")[0]
    assert online == sorted([*(user.pk for user in users), newcomer.pk])


def test_the_cache_falls_back_to_memory_and_returns_to_redis(private_redis: PrivateRedis, caplog):
    cache = FallbackRedisCache(
        private_redis.url,
        {
            "KEY_PREFIX": "fallback-test",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "RETRY_SECONDS": 0.2},
        },
    )
    cache.set("kept", "in redis")
    assert cache.get("kept") == "in redis"

    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        assert cache.get("kept") is None  # Redis's values are out of reach
        assert cache.add("count", 0) is True
        assert [cache.incr("count") for _ in range(3)] == [1, 2, 3]
        assert cache.get_many(["count", "kept"]) == {"count": 3}
        assert cache.redis_is_down
        assert isinstance(cache._memory, LocMemCache)
    assert [record.message.split(" (")[0] for record in caplog.records] == [
        f"Redis at {private_redis.url} is unreachable"
    ]

    private_redis.start()
    time.sleep(0.3)  # past RETRY_SECONDS: the next call tries Redis again
    assert cache.get("count") is None  # Redis restarted empty; memory's counts are left behind
    assert not cache.redis_is_down
    cache.set("kept", "in redis again")
    assert cache.get("kept") == "in redis again"
    assert cache.ping() is True


def _presence(redis_server: PrivateRedis, process_id: str) -> RedisPresence:
    return RedisPresence(
        redis_server.url,
        prefix=f"{REDIS_KEY_PREFIX}:presence",
        process_id=process_id,
        ttl_seconds=30,
        timeout=1,
    )


def test_presence_lost_by_a_redis_restart_is_written_back_by_each_process(
    private_redis: PrivateRedis,
):
    async def before() -> tuple[RedisPresence, RedisPresence]:
        one, two = _presence(private_redis, "one"), _presence(private_redis, "two")
        await one.add(7)
        await one.add(7)
        await two.add(7)
        await two.add(8)
        await two.set_activity(8, "Playing A by B")
        return one, two

    async def after(one: RedisPresence, two: RedisPresence) -> None:
        assert await one.online() == []  # Redis kept nothing
        # Each process's next beat puts its own sockets back, with their activities.
        assert await one.heartbeat() == ([], [7])
        assert await two.heartbeat() == ([], [8])
        assert await one.online() == [7, 8]
        assert await one.activities() == [[7, IDLE], [8, "Playing A by B"]]
        # Counted as before: two tabs on one and one on two for 7.
        assert await one.remove(7) is False
        assert await one.remove(7) is False
        assert await two.remove(7) is True
        for store in (one, two):
            await store.stop()

    loop = asyncio.new_event_loop()
    try:
        stores = loop.run_until_complete(before())
        private_redis.stop()
        private_redis.start()
        loop.run_until_complete(after(*stores))
    finally:
        loop.close()


def test_a_presence_change_that_failed_is_repaired_at_the_next_beat(
    private_redis: PrivateRedis,
):
    async def scenario() -> None:
        one, watcher = _presence(private_redis, "one"), _presence(private_redis, "watcher")
        await one.add(7)
        await watcher.add(9)
        # The socket leaves while Redis does not answer (Redis keeps its data meanwhile).
        reachable = one.redis
        one._redis = aioredis.Redis.from_url("redis://127.0.0.1:9/0", socket_timeout=1)
        with pytest.raises(RedisError):
            await one.remove(7)
        one._redis = reachable
        assert await watcher.online() == [7, 9]  # Redis still counts the socket that left

        assert await one.heartbeat() == ([7], [])  # the beat writes what this process holds
        assert await watcher.online() == [9]
        for store in (one, watcher):
            await store.stop()

    asyncio.run(scenario())
