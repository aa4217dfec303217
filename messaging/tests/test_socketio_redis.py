"""Two uvicorn processes sharing Redis: delivery and presence span processes."""

from messaging.models import Message
from messaging.realtime.presence import IDLE
from messaging.realtime.push import message_payload
from tests.live_servers import post_message


def test_a_message_sent_through_one_process_reaches_a_socket_on_the_other(
    start_server, sockets, redis_url, make_user
):
    one, two = start_server(redis_url=redis_url), start_server(redis_url=redis_url)
    ada, bob = make_user(), make_user()
    ada_on_one = sockets.open(one, ada, "ada@one")
    bob_on_two = sockets.open(two, bob, "bob@two")

    # Presence is shared: Bob, on the other process, sees Ada online, and Ada hears of Bob.
    assert bob_on_two.received("users_online") == [sorted([ada.pk, bob.pk])]
    assert sockets.run(ada_on_one.next("user_connected", bob.pk.__eq__)) == bob.pk
    assert sorted(sockets.run(bob_on_two.next("activities"))) == sorted(
        [[ada.pk, IDLE], [bob.pk, IDLE]]
    )

    # Socket.IO on process one -> Bob's socket on process two.
    sockets.run(ada_on_one.emit("send_message", {"receiver_id": bob.pk, "content": "Via one"}))
    received = sockets.run(bob_on_two.next("receive_message"))
    confirmed = sockets.run(ada_on_one.next("message_sent"))
    # REST on process two (synchronous code, after commit) -> Ada's socket on process one.
    response = post_message(two, sender=bob, receiver=ada, content="Via two's REST")
    assert response.status_code == 201, response.text
    reply = sockets.run(ada_on_one.next("receive_message"))
    reply_confirmed = sockets.run(bob_on_two.next("message_sent"))

    first, second = Message.objects.order_by("id")
    assert received == confirmed == message_payload(first)
    assert (first.sender, first.receiver, first.content) == (ada, bob, "Via one")
    assert reply == reply_confirmed == response.json() == message_payload(second)


def test_presence_and_activities_are_the_same_on_both_processes(
    start_server, sockets, redis_url, make_user
):
    one, two = start_server(redis_url=redis_url), start_server(redis_url=redis_url)
    ada, bob, watcher = make_user(), make_user(), make_user()
    watcher_on_one = sockets.open(one, watcher, "watcher@one")
    ada_on_one = sockets.open(one, ada, "ada@one")
    bob_on_two = sockets.open(two, bob, "bob@two")

    sockets.run(bob_on_two.emit("update_activity", {"activity": "Playing Song by Band"}))
    expected = {"user_id": bob.pk, "activity": "Playing Song by Band"}
    assert sockets.run(watcher_on_one.next("activity_updated")) == expected

    # One more user, with a tab on each process: both tabs are told the same.
    fresh = make_user()
    fresh_on_one = sockets.open(one, fresh, "fresh@one")
    fresh_on_two = sockets.open(two, fresh, "fresh@two")
    online = fresh_on_one.received("users_online")[0]
    assert online == sorted([ada.pk, bob.pk, watcher.pk, fresh.pk])
    assert fresh_on_two.received("users_online")[0] == online
    activities = sockets.run(fresh_on_one.next("activities"))
    assert [bob.pk, "Playing Song by Band"] in activities
    assert [ada.pk, IDLE] in activities
    assert sockets.run(fresh_on_two.next("activities")) == activities

    sockets.run(ada_on_one.close())
    assert sockets.run(bob_on_two.next("user_disconnected")) == ada.pk
    late_on_two = sockets.open(two, make_user(), "late@two")
    assert ada.pk not in late_on_two.received("users_online")[0]


def test_tabs_on_two_processes_count_as_one_user(start_server, sockets, redis_url, make_user):
    one, two = start_server(redis_url=redis_url), start_server(redis_url=redis_url)
    ada, watcher = make_user(), make_user()
    watcher_on_two = sockets.open(two, watcher, "watcher@two")
    tab_on_one = sockets.open(one, ada, "ada@one")
    is_ada = ada.pk.__eq__
    sockets.run(watcher_on_two.next("user_connected", is_ada))
    tab_on_two = sockets.open(two, ada, "ada@two")

    sockets.run(tab_on_one.close())
    sockets.run(watcher_on_two.none("user_disconnected", is_ada))
    sockets.run(watcher_on_two.none("user_connected", is_ada, within=0))
    assert ada.pk in sockets.open(one, make_user(), "fresh@one").received("users_online")[0]

    sockets.run(tab_on_two.close())
    assert sockets.run(watcher_on_two.next("user_disconnected")) == ada.pk


def test_a_stopping_process_takes_its_users_offline_everywhere(
    start_server, sockets, redis_url, make_user
):
    one, two = start_server(redis_url=redis_url), start_server(redis_url=redis_url)
    ada, watcher = make_user(), make_user()
    watcher_on_one = sockets.open(one, watcher, "watcher@one")
    sockets.open(two, ada, "ada@two")
    sockets.run(watcher_on_one.next("user_connected", ada.pk.__eq__))

    two.stop()

    assert sockets.run(watcher_on_one.next("user_disconnected")) == ada.pk
    fresh = make_user()
    online = sockets.open(one, fresh, "fresh@one").received("users_online")[0]
    assert online == sorted([watcher.pk, fresh.pk])
