"""At most MESSAGES_PER_MINUTE messages per sender, over REST and Socket.IO together: past it
REST answers 429 with Retry-After and Socket.IO `message_error`, and nothing is stored."""

from http import HTTPStatus

from django.test import Client

from messaging.models import Message
from messaging.services import TOO_MANY_MESSAGES
from tests.helpers import bearer, retry_after_is_about
from tests.live_servers import post_message

MESSAGES = "/api/messages/"


def send(client: Client, receiver, content: str = "Hello"):
    return client.post(
        MESSAGES, {"receiver_id": receiver.pk, "content": content}, "application/json"
    )


def test_messages_past_the_limit_get_429_with_retry_after_and_are_not_stored(make_user, settings):
    settings.MESSAGES_PER_MINUTE = 3
    ada, bob = make_user(), make_user()
    client = Client(headers=bearer(ada))
    for number in range(3):
        assert send(client, bob, f"Message {number}").status_code == HTTPStatus.CREATED

    response = send(client, bob, "One too many")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"detail": TOO_MANY_MESSAGES}
    assert 1 <= int(response["Retry-After"]) <= 60
    assert list(Message.objects.order_by("id").values_list("content", flat=True)) == [
        "Message 0",
        "Message 1",
        "Message 2",
    ]


def test_the_limit_is_per_sender(make_user, settings):
    settings.MESSAGES_PER_MINUTE = 1
    ada, bob = make_user(), make_user()
    assert send(Client(headers=bearer(ada)), bob).status_code == HTTPStatus.CREATED
    assert send(Client(headers=bearer(ada)), bob).status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert send(Client(headers=bearer(bob)), ada).status_code == HTTPStatus.CREATED


def test_the_default_limit_is_30_a_minute(make_user):
    ada, bob = make_user(), make_user()
    client = Client(headers=bearer(ada))
    statuses = [send(client, bob, f"Message {number}").status_code for number in range(31)]

    assert statuses == [HTTPStatus.CREATED] * 30 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert Message.objects.count() == 30


def test_sending_is_allowed_again_after_the_minute(make_user, settings, clock):
    settings.MESSAGES_PER_MINUTE = 1
    ada, bob = make_user(), make_user()
    client = Client(headers=bearer(ada))
    send(client, bob)
    clock.advance(45)
    refused = send(client, bob)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert retry_after_is_about(refused, 15)

    clock.advance(16)

    assert send(client, bob).status_code == HTTPStatus.CREATED
    assert Message.objects.count() == 2


def test_openapi_documents_429_with_retry_after(client: Client):
    operation = client.get("/api/openapi.json").json()["paths"][MESSAGES]["post"]

    assert "429" in operation["responses"]
    assert "Retry-After" in operation["responses"]["429"].get("headers", {})


def test_rest_and_socketio_share_the_limit_across_processes(
    start_server, sockets, redis_url, make_user, monkeypatch
):
    # Two server processes sharing Redis; the limit is read from the environment.
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "3")
    one, two = start_server(redis_url=redis_url), start_server(redis_url=redis_url)
    ada, bob = make_user(), make_user()
    ada_on_two = sockets.open(two, ada, "ada@two")

    for number in range(2):
        response = post_message(one, sender=ada, receiver=bob, content=f"REST {number}")
        assert response.status_code == HTTPStatus.CREATED, response.text
    sockets.run(ada_on_two.emit("send_message", {"receiver_id": bob.pk, "content": "Socket"}))
    sockets.run(ada_on_two.next("message_sent"))

    # The fourth, over Socket.IO on process two and then over REST on process one.
    sockets.run(ada_on_two.emit("send_message", {"receiver_id": bob.pk, "content": "Too many"}))
    assert sockets.run(ada_on_two.next("message_error")) == {"detail": TOO_MANY_MESSAGES}
    refused = post_message(one, sender=ada, receiver=bob, content="Too many")

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json() == {"detail": TOO_MANY_MESSAGES}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert ada_on_two.client.connected  # refused, not cut off
    assert sorted(Message.objects.values_list("content", flat=True)) == [
        "REST 0",
        "REST 1",
        "Socket",
    ]


def test_socketio_sends_past_the_limit_get_message_error(
    start_server, sockets, make_user, monkeypatch
):
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "1")
    server = start_server()  # one process, its cache in its own memory
    ada, bob = make_user(), make_user()
    ada_tab = sockets.open(server, ada, "ada")
    bob_tab = sockets.open(server, bob, "bob")
    sockets.run(ada_tab.emit("send_message", {"receiver_id": bob.pk, "content": "First"}))
    sockets.run(ada_tab.next("message_sent"))
    sockets.run(bob_tab.next("receive_message"))

    sockets.run(ada_tab.emit("send_message", {"receiver_id": bob.pk, "content": "Second"}))

    assert sockets.run(ada_tab.next("message_error")) == {"detail": TOO_MANY_MESSAGES}
    sockets.run(bob_tab.none("receive_message", within=0.5))
    assert list(Message.objects.values_list("content", flat=True)) == ["First"]
