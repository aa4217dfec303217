"""Messages off the shared thread (issue 23): the sockets' database work runs on threads of
its own, side by side, in each user's order; a push from a thread is handed to the loop, not
waited for, or emitted by the loop with the thread's result when the loop waits anyway."""

import asyncio
import threading

import pytest

from messaging.models import Message
from messaging.realtime import push, server
from messaging.realtime.events import on_database_thread


def test_socket_database_work_runs_side_by_side_off_djangos_shared_thread(settings):
    settings.SOCKETIO_DATABASE_THREADS = 2
    both_inside = threading.Barrier(2, timeout=5)  # one thread alone would wait here forever

    @on_database_thread
    def work() -> str:
        both_inside.wait()
        return threading.current_thread().name

    async def scenario() -> list[str]:
        return await asyncio.gather(work(), work())

    names = asyncio.run(scenario())

    assert len(set(names)) == 2
    assert all(name.startswith("socketio-db") for name in names), names


def test_a_push_from_a_thread_is_handed_to_the_loop_without_waiting(monkeypatch):
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    monkeypatch.setattr(server, "serving_loop", lambda: loop)
    loop_busy, pushed = threading.Event(), threading.Event()
    loop.call_soon_threadsafe(loop_busy.wait)  # the loop is busy until told

    async def emit() -> None:
        pushed.set()

    try:
        push._on_serving_loop(emit)  # returns while the loop cannot run anything
        assert not pushed.is_set()
        loop_busy.set()
        assert pushed.wait(timeout=5)
    finally:
        loop_busy.set()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=5)
        loop.close()


@pytest.fixture
def emitted_on_the_loop(settings, monkeypatch):
    """Without Redis: what the serving loop emits, with the thread each push was emitted on;
    a hand-over to the loop from a thread fails the test."""
    settings.REDIS_URL = ""
    emitted: list[tuple[str, object, str, str]] = []

    async def emit_in_turn(pushes) -> None:
        thread = threading.current_thread().name
        emitted.extend((event, data, room, thread) for event, data, room in pushes)

    def handed_over(work) -> None:
        raise AssertionError("a socket thread's push was handed to the loop on its own")

    monkeypatch.setattr(push, "_emit_in_turn", emit_in_turn)
    monkeypatch.setattr(push, "_on_serving_loop", handed_over)
    return emitted


def test_a_socket_threads_pushes_are_emitted_by_the_loop_with_its_result(emitted_on_the_loop):
    @on_database_thread
    def work() -> str:
        push.emit_together(
            [("receive_message", {"id": 1}, "user_2"), ("message_sent", 1, "user_1")]
        )
        assert emitted_on_the_loop == []  # kept until the thread is done
        return threading.current_thread().name

    async def scenario() -> tuple[str, str]:
        return await work(), threading.current_thread().name

    worker, loop_thread = asyncio.run(scenario())

    assert worker.startswith("socketio-db")
    assert emitted_on_the_loop == [
        ("receive_message", {"id": 1}, "user_2", loop_thread),
        ("message_sent", 1, "user_1", loop_thread),
    ]


def test_a_committed_push_goes_out_even_when_the_work_fails_after_it(emitted_on_the_loop):
    @on_database_thread
    def work() -> None:
        push.emit_together([("receive_message", {"id": 1}, "user_2")])
        raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError, match="after the commit"):
        asyncio.run(work())

    assert [event for event, *_ in emitted_on_the_loop] == ["receive_message"]


def test_outside_a_socket_thread_a_push_is_handed_to_the_loop(settings, monkeypatch):
    settings.REDIS_URL = ""
    handed: list[object] = []
    monkeypatch.setattr(push, "_on_serving_loop", handed.append)

    push.emit_together([("receive_message", {"id": 1}, "user_2")])  # a REST view's thread

    assert len(handed) == 1


def test_one_users_messages_are_stored_and_delivered_in_the_order_sent(
    start_server, sockets, make_user, monkeypatch
):
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "1000")
    server_ = start_server()
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(server_, ada, "ada")
    bob_tab = sockets.open(server_, bob, "bob")
    contents = [f"Line {number}" for number in range(20)]

    async def send_all() -> None:
        for content in contents:  # no wait in between: the events arrive together
            await ada_tab.emit("send_message", {"receiver_id": bob.pk, "content": content})

    sockets.run(send_all())
    received = [sockets.run(bob_tab.next("receive_message"))["content"] for _ in contents]

    assert received == contents
    assert list(Message.objects.order_by("id").values_list("content", flat=True)) == contents
