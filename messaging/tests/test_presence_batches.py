"""Presence as batches (issue 23): a new socket gets the whole picture once, everyone else a
`presence` frame of what changed, at most one a window; the Node original's per-change
events still go out while SOCKETIO_LEGACY_PRESENCE_EVENTS says so."""

import asyncio
import json
import time

import pytest

from messaging.realtime.batch import PresenceBatch, WelcomeBatch
from messaging.realtime.channels import NAMESPACE
from messaging.realtime.presence import (
    IDLE,
    MemoryPresence,
    RedisPresence,
    emit_message,
    presence_message,
)
from tests.live_servers import REDIS_KEY_PREFIX, Tab, access_token

NEW_EVENTS_ONLY = {"SOCKETIO_LEGACY_PRESENCE_EVENTS": "false"}
LEGACY_EVENTS = ("user_connected", "user_disconnected", "activity_updated")


def view_from(tab: Tab) -> dict[int, str]:
    """What a client that reads `presence` knows: its first lists, then every frame applied
    in order."""
    view: dict[int, str] = {}
    for event, data in tab.events:
        if event == "activities":
            view = dict(data)
        elif event == "presence":
            view.update(dict(data["online"]))
            for user_id in data["offline"]:
                view.pop(user_id, None)
    return view


async def settled(tab: Tab, expected: dict[int, str], timeout: float = 10) -> None:
    try:
        async with asyncio.timeout(timeout):
            while view_from(tab) != expected:
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"{tab.name} sees {view_from(tab)}, not {expected}; it got {tab.events}")


# --- The batch -----------------------------------------------------------------------------


def test_the_first_change_goes_at_once_and_the_next_ones_together_at_the_windows_end():
    async def scenario() -> list[list[int]]:
        sent: list[list[int]] = []

        async def send(user_ids: list[int]) -> None:
            sent.append(user_ids)

        batch = PresenceBatch(send, window=0.3)
        batch.mark([3])
        batch.mark([1])  # the same moment: the same frame
        await asyncio.sleep(0.05)
        assert sent == [[1, 3]]
        for user_id in (5, 4, 5):  # within the window: held
            batch.mark([user_id])
            await asyncio.sleep(0.02)
        assert sent == [[1, 3]]
        await asyncio.sleep(0.4)
        return sent

    assert asyncio.run(scenario()) == [[1, 3], [4, 5]]


def test_a_late_wake_up_stretches_the_next_window():
    """A loop that is behind (its wake-ups late) gets fewer, fuller frames."""

    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        sent_at: list[float] = []

        async def send(user_ids: list[int]) -> None:
            sent_at.append(loop.time())

        batch = PresenceBatch(send, window=0.05)
        batch.mark([1])
        await asyncio.sleep(0.01)
        batch.mark([2])
        loop.call_soon(time.sleep, 0.2)  # the loop is held: the batch wakes 0.15 s late
        await asyncio.sleep(0.25)
        batch.mark([3])
        await asyncio.sleep(1.0)
        return sent_at

    first, second, third = asyncio.run(scenario())
    assert second - first >= 0.2
    assert third - second >= 0.05 + 4 * 0.1  # the window plus four times the lag


def test_a_batch_that_failed_is_sent_again_with_what_came_since(monkeypatch):
    monkeypatch.setattr("messaging.realtime.batch.RETRY_SECONDS", 0.05)

    async def scenario() -> list[list[int]]:
        sent: list[list[int]] = []
        failures = [ConnectionError("Redis away")]

        async def send(user_ids: list[int]) -> None:
            if failures:
                raise failures.pop()
            sent.append(user_ids)

        batch = PresenceBatch(send, window=0.01)
        batch.mark([2])
        await asyncio.sleep(0.01)
        batch.mark([7])
        await asyncio.sleep(0.2)
        return sent

    assert asyncio.run(scenario()) == [[2, 7]]


def test_sockets_welcomed_at_the_same_moment_share_one_snapshot():
    async def scenario() -> list[list[str]]:
        sent: list[list[str]] = []

        async def send(sids: list[str]) -> None:
            await asyncio.sleep(0.05)  # a slow send: the next newcomers wait for the next
            sent.append(sids)

        welcomes = WelcomeBatch(send)
        await asyncio.gather(*(welcomes.welcome(sid) for sid in ("a", "b", "c")))
        first = asyncio.gather(welcomes.welcome("d"))
        await asyncio.sleep(0.01)
        await asyncio.gather(first, welcomes.welcome("e"), welcomes.welcome("f"))
        return sent

    assert asyncio.run(scenario()) == [["a", "b", "c"], ["d"], ["e", "f"]]


def test_a_failed_snapshot_fails_the_welcomes_that_waited_for_it():
    async def scenario() -> None:
        async def send(sids: list[str]) -> None:
            raise ConnectionError("Redis away")

        welcomes = WelcomeBatch(send)
        results = await asyncio.gather(
            welcomes.welcome("a"), welcomes.welcome("b"), return_exceptions=True
        )
        assert [type(result) for result in results] == [ConnectionError, ConnectionError]

    asyncio.run(scenario())


def test_memory_presence_states_the_users_asked_for():
    async def scenario() -> dict:
        presence = MemoryPresence()
        await presence.add(1)
        await presence.add(2)
        await presence.set_activity(2, "Playing X by Y")
        return await presence.state_of([1, 2, 3])

    assert asyncio.run(scenario()) == {
        "online": [[1, IDLE], [2, "Playing X by Y"]],
        "offline": [3],
    }


def test_redis_publishes_the_state_as_python_socketio_emits_it(test_redis):
    """The frame published by the script is the message python-socketio's Redis manager
    publishes for an emit to everyone, with the state read in the same step."""
    channel = f"{REDIS_KEY_PREFIX}:presence-test"
    presence = RedisPresence(
        test_redis.url, prefix=f"{REDIS_KEY_PREFIX}:batches", process_id="p1", ttl_seconds=30
    )
    subscriber = test_redis.client(decode_responses=True).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(channel)
    message = presence_message(namespace=NAMESPACE, host_id="presence")
    activity = 'Playing "Zéphyr" by Ünïcode \\ Band'

    async def scenario() -> None:
        await presence.add(10)
        await presence.set_activity(10, activity)
        await presence.publish_state([10, 11], channel=channel, message=message)
        await presence.publish_state([11], channel=channel, message=message)
        await presence.stop()

    asyncio.run(scenario())
    frames = []
    for _ in range(20):  # get_message answers None for the subscription's own confirmation
        if (frame := subscriber.get_message(timeout=0.2)) is not None:
            frames.append(json.loads(frame["data"]))
    subscriber.close()
    assert [frame["data"] for frame in frames] == [
        [{"online": [[10, activity]], "offline": [11]}],
        [{"online": [], "offline": [11]}],  # empty lists stay lists
    ]
    assert {key: value for key, value in frames[0].items() if key != "data"} == {
        "method": "emit",
        "event": "presence",
        "binary": False,
        "namespace": "/",
        "room": None,
        "skip_sid": None,
        "callback": None,
        "host_id": "presence",
    }


def test_redis_publishes_a_snapshot_for_new_sockets_in_one_step(test_redis):
    channel = f"{REDIS_KEY_PREFIX}:snapshot-test"
    presence = RedisPresence(
        test_redis.url, prefix=f"{REDIS_KEY_PREFIX}:snapshots", process_id="p1", ttl_seconds=30
    )
    subscriber = test_redis.client(decode_responses=True).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(channel)
    rooms = ["sid-a", "sid-b"]

    def message(event: str) -> tuple[str, str]:
        return emit_message(event, namespace=NAMESPACE, host_id="presence", room=rooms)

    async def scenario() -> None:
        for user_id in (12, 3, 100):  # sorted as numbers, not as text
            await presence.add(user_id)
        await presence.set_activity(3, "Playing «Ça» by Ünï")
        await presence.publish_snapshot(
            channel=channel,
            users_online=message("users_online"),
            activities=message("activities"),
        )
        await presence.stop()

    asyncio.run(scenario())
    frames = []
    for _ in range(20):
        if (frame := subscriber.get_message(timeout=0.2)) is not None:
            frames.append(json.loads(frame["data"]))
    subscriber.close()
    assert [(frame["event"], frame["room"], frame["data"]) for frame in frames] == [
        ("users_online", rooms, [[3, 12, 100]]),
        ("activities", rooms, [[[3, "Playing «Ça» by Ünï"], [12, IDLE], [100, IDLE]]]),
    ]


# --- Live: one uvicorn process -------------------------------------------------------------


def test_a_new_socket_gets_the_whole_picture_and_the_others_a_presence_frame(
    uvicorn_server, sockets, make_user
):
    """With the legacy events on (the default), both kinds reach the other sockets."""
    ada, bob = make_user(), make_user()
    ada_tab = sockets.tab("ada")
    sockets.run(ada_tab.connect(uvicorn_server, access_token(ada)))
    assert sockets.run(ada_tab.next("users_online")) == [ada.pk]
    assert sockets.run(ada_tab.next("activities")) == [[ada.pk, IDLE]]

    bob_tab = sockets.tab("bob")
    sockets.run(bob_tab.connect(uvicorn_server, access_token(bob)))
    assert sockets.run(bob_tab.next("users_online")) == sorted([ada.pk, bob.pk])
    assert sockets.run(bob_tab.next("activities")) == sorted([[ada.pk, IDLE], [bob.pk, IDLE]])

    is_bob_online = lambda data: [bob.pk, IDLE] in data["online"]  # noqa: E731
    assert sockets.run(ada_tab.next("presence", is_bob_online))["offline"] == []
    # The Node original's events, for clients that do not read `presence`.
    assert sockets.run(ada_tab.next("user_connected", bob.pk.__eq__)) == bob.pk
    everyone = sorted([[ada.pk, IDLE], [bob.pk, IDLE]])
    assert sockets.run(ada_tab.next("activities", everyone.__eq__)) == everyone

    sockets.run(bob_tab.emit("update_activity", {"activity": "Playing A by B"}))
    assert sockets.run(ada_tab.next("activity_updated")) == {
        "user_id": bob.pk,
        "activity": "Playing A by B",
    }
    sockets.run(settled(ada_tab, {ada.pk: IDLE, bob.pk: "Playing A by B"}))
    sockets.run(bob_tab.close())
    assert sockets.run(ada_tab.next("user_disconnected")) == bob.pk
    sockets.run(settled(ada_tab, {ada.pk: IDLE}))


def test_without_the_legacy_events_only_presence_frames_tell_the_others(
    start_server, sockets, make_user
):
    server = start_server(env=NEW_EVENTS_ONLY)
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(server, ada, "ada")
    bob_tab = sockets.open(server, bob, "bob")
    sockets.run(settled(ada_tab, {ada.pk: IDLE, bob.pk: IDLE}))
    sockets.run(bob_tab.emit("update_activity", {"activity": "Playing A by B"}))
    sockets.run(settled(ada_tab, {ada.pk: IDLE, bob.pk: "Playing A by B"}))
    sockets.run(settled(bob_tab, {ada.pk: IDLE, bob.pk: "Playing A by B"}))
    sockets.run(bob_tab.close())
    sockets.run(settled(ada_tab, {ada.pk: IDLE}))

    sockets.run(ada_tab.none("activity_updated", within=0.3))
    for event in LEGACY_EVENTS:
        assert ada_tab.received(event) == [], event
    assert len(ada_tab.received("activities")) == 1  # her own first list only


def test_a_connect_storm_reaches_a_socket_in_a_few_frames_and_its_view_is_exact(
    start_server, sockets, make_user
):
    server = start_server(env={**NEW_EVENTS_ONLY, "SOCKETIO_PRESENCE_BATCH_SECONDS": "0.2"})
    watcher = make_user()
    watcher_tab = sockets.open(server, watcher, "watcher")
    users = [make_user() for _ in range(30)]
    tabs = [sockets.tab(f"user {user.pk}") for user in users]

    async def connect_all() -> None:
        await asyncio.gather(
            *(
                tab.connect(server, access_token(user))
                for tab, user in zip(tabs, users, strict=True)
            )
        )

    sockets.run(connect_all())
    everyone = {user.pk: IDLE for user in [watcher, *users]}
    sockets.run(settled(watcher_tab, everyone))
    for tab in tabs:  # each newcomer's first lists and the frames after them agree
        sockets.run(settled(tab, everyone))
    frames = len(watcher_tab.received("presence"))
    assert 1 <= frames < len(users) / 2, frames  # one a window, not one a newcomer

    async def close_all() -> None:
        await asyncio.gather(*(tab.close() for tab in tabs))

    sockets.run(close_all())
    sockets.run(settled(watcher_tab, {watcher.pk: IDLE}))
    frames = len(watcher_tab.received("presence"))
    sockets.run(asyncio.sleep(0.5))
    assert len(watcher_tab.received("presence")) == frames  # nothing after the last change
    assert view_from(watcher_tab) == {watcher.pk: IDLE}


# --- Live: two processes sharing Redis -----------------------------------------------------


@pytest.mark.parametrize("legacy", ["true", "false"])
def test_presence_frames_span_processes_and_end_on_the_latest_state(
    start_server, sockets, redis_url, make_user, legacy
):
    env = {"SOCKETIO_LEGACY_PRESENCE_EVENTS": legacy}
    one, two = (
        start_server(redis_url=redis_url, env=env),
        start_server(redis_url=redis_url, env=env),
    )
    watcher, ada = make_user(), make_user()
    watcher_on_one = sockets.open(one, watcher, "watcher@one")
    ada_on_two = sockets.open(two, ada, "ada@two")
    sockets.run(settled(watcher_on_one, {watcher.pk: IDLE, ada.pk: IDLE}))
    sockets.run(settled(ada_on_two, {watcher.pk: IDLE, ada.pk: IDLE}))

    # Changes in quick succession on both processes: every view ends on the last of them.
    for number in range(5):
        sockets.run(ada_on_two.emit("update_activity", {"activity": f"Song {number}"}))
        sockets.run(watcher_on_one.emit("update_activity", {"activity": f"Tune {number}"}))
    final = {watcher.pk: "Tune 4", ada.pk: "Song 4"}
    sockets.run(settled(watcher_on_one, final))
    sockets.run(settled(ada_on_two, final))

    sockets.run(ada_on_two.close())
    sockets.run(settled(watcher_on_one, {watcher.pk: "Tune 4"}))
    assert bool(watcher_on_one.received("user_disconnected")) == (legacy == "true")
