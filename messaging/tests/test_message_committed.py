"""Messages flow one way: the service announces a stored message after commit
(`message_committed`), and the realtime transport is subscribed to it (`MessagingConfig.ready`)."""

import json
from functools import cache

import pytest
import redis
from django.db import transaction

from core.errors import NotAuthenticated, NotFound
from messaging import services
from messaging.models import Message
from messaging.realtime import push
from messaging.realtime.channels import redis_channel, user_room
from messaging.signals import message_committed


@pytest.fixture
def heard():
    """The messages announced while the test runs."""
    messages: list[Message] = []

    def listen(sender: type[Message], *, message: Message, **kwargs) -> None:
        messages.append(message)

    message_committed.connect(listen)
    yield messages
    message_committed.disconnect(listen)


def test_a_message_is_announced_once_and_only_after_commit(
    user, make_user, heard, django_capture_on_commit_callbacks
):
    bob = make_user()

    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send(sender_id=user.pk, receiver_id=bob.pk, content="Hi")
        assert heard == []

    assert heard == [message]


def test_a_rolled_back_message_is_never_announced(
    user, make_user, heard, django_capture_on_commit_callbacks
):
    bob = make_user()

    def send_then_fail() -> None:
        with transaction.atomic():
            services.message_send(sender_id=user.pk, receiver_id=bob.pk, content="Hi")
            raise RuntimeError("the caller's transaction fails")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        send_then_fail()

    assert heard == []
    assert not Message.objects.exists()


def test_the_realtime_push_listens(user, make_user):
    message = Message.objects.create(sender=user, receiver=make_user(), content="Hi")

    # No Redis and no socket served here: the push has no one to tell and returns.
    receivers = [receiver for receiver, _ in message_committed.send(Message, message=message)]

    assert push.on_message_committed in receivers


def test_a_message_is_stored_in_one_statement_that_reads_back_as_sent(
    user, make_user, django_assert_num_queries
):
    bob = make_user()

    with django_assert_num_queries(1):
        message = services.message_send(sender_id=user.pk, receiver_id=bob.pk, content="Hi")

    assert not message._state.adding  # a stored row, as the ORM would leave it
    stored = Message.objects.get(pk=message.pk)
    assert (stored.sender_id, stored.receiver_id, stored.content) == (user.pk, bob.pk, "Hi")
    assert stored.created_at == message.created_at


@pytest.mark.parametrize("inactive", ["sender", "receiver"])
def test_a_message_with_an_inactive_person_writes_nothing_and_says_who(
    user, make_user, heard, django_capture_on_commit_callbacks, inactive
):
    bob = make_user()
    deactivated = user if inactive == "sender" else bob
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])
    expected = NotAuthenticated if inactive == "sender" else NotFound

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(expected) as refused:
        services.message_send(sender_id=user.pk, receiver_id=bob.pk, content="Hi")

    detail = services.SENDER_INACTIVE if inactive == "sender" else services.RECEIVER_NOT_FOUND
    assert refused.value.detail == detail
    assert not Message.objects.exists()
    assert heard == []


def published_message(listener: redis.client.PubSub) -> dict:
    """The next message published on the channel (skipping the subscription's confirmation)."""
    for _ in range(10):
        if item := listener.get_message(timeout=1):
            return item
    raise AssertionError("nothing was published")


def test_with_redis_both_pushes_of_a_message_go_out_in_one_round_trip_in_order(
    user, make_user, test_redis, settings, monkeypatch
):
    bob = make_user()
    settings.REDIS_URL = test_redis.url
    push._redis_writer.cache_clear()
    monkeypatch.setattr(push, "_redis_writer", cache(push._redis_writer.__wrapped__))
    listener = test_redis.client().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(redis_channel())
    sent: list[int] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    message = Message.objects.create(sender=user, receiver=bob, content="Hi")
    writer = push._redis_writer()
    writer._redis_connect()
    writer.redis.ping()  # a connection open and pooled ahead: only the pushes are counted
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)

    push.on_message_committed(Message, message=message)

    monkeypatch.undo()
    published = [published_message(listener) for _ in range(2)]
    listener.close()
    assert len(sent) == 1
    payload = push.message_payload(message)
    assert [
        (body["event"], body["room"], body["data"], body["method"])
        for body in (json.loads(item["data"]) for item in published)
    ] == [
        ("receive_message", user_room(bob.pk), [payload], "emit"),
        ("message_sent", user_room(user.pk), [payload], "emit"),
    ]
