"""Messages flow one way: the service announces a stored message after commit
(`message_committed`), and the realtime transport is subscribed to it (`MessagingConfig.ready`)."""

import pytest
from django.db import transaction

from core.errors import NotAuthenticated, NotFound
from messaging import services
from messaging.models import Message
from messaging.realtime import push
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
