"""Socket.IO against a live uvicorn server (one process, no Redis), with real clients."""

import httpx
import pytest
import socketio
from ninja_jwt.tokens import RefreshToken

from core.text import BLANK
from messaging.models import Message
from messaging.realtime.events import (
    ACCOUNT_INACTIVE,
    CONNECTION_REFUSED,
    SEND_PAYLOAD_INVALID,
    SERVER_UNAVAILABLE,
)
from messaging.realtime.presence import IDLE
from messaging.realtime.push import message_payload
from messaging.schemas import ACTIVITY_MAX_LENGTH
from messaging.services import MESSAGE_TO_SELF, RECEIVER_NOT_FOUND
from tests.helpers import expired_access_token
from tests.live_servers import FRONTEND_ORIGIN, access_token, post_message

REFUSED = {"message": CONNECTION_REFUSED}


def test_connect_is_refused_without_a_valid_access_token(uvicorn_server, sockets, make_user):
    user = make_user()
    inactive = make_user(is_active=False)
    refresh_not_access = str(RefreshToken.for_user(user))

    for auth in (None, "", "not-a-jwt", refresh_not_access, access_token(inactive)):
        tab = sockets.tab(f"auth {auth!r:.20}")
        with pytest.raises(socketio.exceptions.ConnectionError):
            sockets.run(tab.connect(uvicorn_server, auth))
        assert tab.refusal == REFUSED, auth
        assert not tab.client.connected

    # The same server accepts the same user with a good token.
    assert sockets.open(uvicorn_server, user).client.connected


def test_connect_is_refused_with_an_expired_access_token(uvicorn_server, sockets, make_user):
    user = make_user()
    tab = sockets.tab()

    with pytest.raises(socketio.exceptions.ConnectionError):
        sockets.run(tab.connect(uvicorn_server, expired_access_token(user)))

    assert tab.refusal == REFUSED
    assert tab.events == []


def test_two_users_chat_and_the_messages_are_stored(uvicorn_server, sockets, make_user):
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(uvicorn_server, ada, "ada")
    bob_tab = sockets.open(uvicorn_server, bob, "bob")

    sockets.run(ada_tab.emit("send_message", {"receiver_id": bob.pk, "content": "  Hi Bob  "}))
    received = sockets.run(bob_tab.next("receive_message"))
    confirmed = sockets.run(ada_tab.next("message_sent"))
    sockets.run(bob_tab.emit("send_message", {"receiver_id": ada.pk, "content": "Hi Ada"}))
    reply = sockets.run(ada_tab.next("receive_message"))
    reply_confirmed = sockets.run(bob_tab.next("message_sent"))

    first, second = Message.objects.order_by("id")
    assert (first.sender, first.receiver, first.content) == (ada, bob, "Hi Bob")
    assert (second.sender, second.receiver, second.content) == (bob, ada, "Hi Ada")
    assert received == confirmed == message_payload(first)
    assert reply == reply_confirmed == message_payload(second)
    # Nobody gets their own message as a received one.
    assert ada_tab.received("receive_message") == [reply]
    assert bob_tab.received("receive_message") == [received]


def test_a_spoofed_sender_in_the_payload_is_ignored(uvicorn_server, sockets, make_user):
    ada, bob, eve = make_user(), make_user(), make_user()
    ada_tab = sockets.open(uvicorn_server, ada, "ada")
    bob_tab = sockets.open(uvicorn_server, bob, "bob")
    eve_tab = sockets.open(uvicorn_server, eve, "eve")

    spoofed = {"receiver_id": bob.pk, "content": "From Eve?", "sender_id": ada.pk}
    sockets.run(eve_tab.emit("send_message", {**spoofed, "senderId": ada.pk}))
    received = sockets.run(bob_tab.next("receive_message"))
    sockets.run(eve_tab.next("message_sent"))
    sockets.run(ada_tab.none("message_sent", within=0.5))

    message = Message.objects.get()
    assert (message.sender, message.receiver) == (eve, bob)
    assert received["sender_id"] == eve.pk
    assert ada_tab.received("receive_message") == []


def test_refused_socket_messages_get_message_error_and_store_nothing(
    uvicorn_server, sockets, make_user
):
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(uvicorn_server, ada, "ada")
    bob_tab = sockets.open(uvicorn_server, bob, "bob")
    attempts = [
        ({"receiver_id": ada.pk, "content": "Me"}, MESSAGE_TO_SELF),
        ({"receiver_id": bob.pk, "content": " \n\t "}, BLANK),
        ({"receiver_id": bob.pk + 1000, "content": "Anyone?"}, RECEIVER_NOT_FOUND),
        ({"receiver_id": bob.pk}, SEND_PAYLOAD_INVALID),
        ("Hello", SEND_PAYLOAD_INVALID),
    ]

    for payload, detail in attempts:
        sockets.run(ada_tab.emit("send_message", payload))
        assert sockets.run(ada_tab.next("message_error")) == {"detail": detail}, payload

    sockets.run(bob_tab.none("receive_message", within=0.5))
    assert ada_tab.received("message_sent") == []
    assert not Message.objects.exists()


def test_a_message_sent_over_rest_is_pushed_to_every_open_tab(uvicorn_server, sockets, make_user):
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(uvicorn_server, ada, "ada")
    bob_tabs = [sockets.open(uvicorn_server, bob, f"bob {n}") for n in (1, 2)]

    response = post_message(uvicorn_server, sender=ada, receiver=bob, content="Over REST")

    assert response.status_code == 201, response.text
    for tab in bob_tabs:
        assert sockets.run(tab.next("receive_message")) == response.json()
    assert sockets.run(ada_tab.next("message_sent")) == response.json()
    assert Message.objects.get().content == "Over REST"


def test_a_user_stays_online_until_the_last_tab_leaves(uvicorn_server, sockets, make_user):
    ada, watcher = make_user(), make_user()
    watcher_tab = sockets.open(uvicorn_server, watcher, "watcher")
    first = sockets.open(uvicorn_server, ada, "ada 1")
    is_ada = ada.pk.__eq__
    assert sockets.run(watcher_tab.next("user_connected", is_ada)) == ada.pk
    second = sockets.open(uvicorn_server, ada, "ada 2")

    sockets.run(first.close())
    # The second tab is not announced as a new arrival, and the first one's leaving is not
    # announced as a departure.
    sockets.run(watcher_tab.none("user_connected", is_ada))
    sockets.run(watcher_tab.none("user_disconnected", is_ada))
    newcomer = sockets.open(uvicorn_server, make_user(), "newcomer")
    assert ada.pk in newcomer.received("users_online")[0]

    sockets.run(second.close())
    assert sockets.run(watcher_tab.next("user_disconnected")) == ada.pk
    late = sockets.open(uvicorn_server, make_user(), "late")
    assert ada.pk not in late.received("users_online")[0]


def test_activity_updates_reach_everyone(uvicorn_server, sockets, make_user):
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(uvicorn_server, ada, "ada")
    bob_tab = sockets.open(uvicorn_server, bob, "bob")

    # Not shown: too long, blank, or not an object.
    for bad in ({"activity": "x" * (ACTIVITY_MAX_LENGTH + 1)}, {"activity": "  "}, "Idle"):
        sockets.run(ada_tab.emit("update_activity", bad))
    # The user id in the payload is ignored, as for messages.
    sockets.run(ada_tab.emit("update_activity", {"activity": "Playing Song by Band", "userId": 1}))

    expected = {"user_id": ada.pk, "activity": "Playing Song by Band"}
    assert sockets.run(bob_tab.next("activity_updated")) == expected
    assert sockets.run(ada_tab.next("activity_updated")) == expected
    assert len(bob_tab.received("activity_updated")) == 1
    newcomer = sockets.open(uvicorn_server, make_user(), "newcomer")
    activities = sockets.run(newcomer.next("activities"))
    assert [ada.pk, "Playing Song by Band"] in activities
    assert [bob.pk, IDLE] in activities


def test_a_deactivated_user_cannot_send_over_an_open_socket(uvicorn_server, sockets, make_user):
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(uvicorn_server, ada, "ada")
    bob_tab = sockets.open(uvicorn_server, bob, "bob")

    ada.is_active = False
    ada.save(update_fields=["is_active"])
    sockets.run(ada_tab.emit("send_message", {"receiver_id": bob.pk, "content": "Still here?"}))

    assert sockets.run(ada_tab.next("message_error")) == {"detail": ACCOUNT_INACTIVE}
    assert sockets.run(bob_tab.next("user_disconnected")) == ada.pk
    assert not Message.objects.exists()


def test_connect_is_refused_politely_when_redis_is_unreachable(start_server, sockets, make_user):
    # Nothing listens on port 1: presence cannot be recorded, so the socket is not accepted.
    server = start_server(redis_url="redis://127.0.0.1:1/5")
    tab = sockets.tab()

    with pytest.raises(socketio.exceptions.ConnectionError):
        sockets.run(tab.connect(server, access_token(make_user())))

    assert tab.refusal == {"message": SERVER_UNAVAILABLE}


def test_browsers_may_connect_only_from_the_allowed_origins_and_the_servers_own(
    uvicorn_server,
):
    handshake = f"{uvicorn_server.url}/socket.io/?EIO=4&transport=polling"

    allowed = httpx.get(handshake, headers={"Origin": FRONTEND_ORIGIN}, timeout=10)
    own = httpx.get(handshake, headers={"Origin": uvicorn_server.url}, timeout=10)
    foreign = httpx.get(handshake, headers={"Origin": "https://evil.example"}, timeout=10)

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == FRONTEND_ORIGIN
    assert own.status_code == 200  # the server's own pages (the Jam demo page)
    assert foreign.status_code == 400
    assert "Access-Control-Allow-Origin" not in foreign.headers
