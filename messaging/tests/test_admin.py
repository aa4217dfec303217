"""The messages pages of the admin: names, the empty list, search and delete."""

import pytest
from django.test import Client
from django.urls import reverse

from messaging.models import Message


@pytest.fixture
def message(user, make_user) -> Message:
    return Message.objects.create(sender=user, receiver=make_user(), content="See you at the gig")


def test_the_messages_pages_name_the_section_and_the_people(staff_client: Client, message: Message):
    listed = staff_client.get(reverse("admin:messaging_message_changelist")).content.decode()
    shown = staff_client.get(
        reverse("admin:messaging_message_change", args=[message.pk])
    ).content.decode()

    assert "Messaging" not in listed
    assert f"{message.sender.full_name} → {message.receiver.full_name}" in shown
    assert f"{message.sender_id} → " not in shown


def test_an_empty_message_list_says_where_messages_come_from(staff_client: Client, db):
    empty = staff_client.get(reverse("admin:messaging_message_changelist")).content.decode()
    searched = staff_client.get(
        reverse("admin:messaging_message_changelist"), {"q": "nothing"}
    ).content.decode()

    assert "No messages yet" in empty
    assert "Listeners send messages" in empty
    assert "yielded" not in empty
    assert "Add message" not in empty
    assert "No results found" in searched
    assert "Reset filters" in searched


def test_messages_can_be_searched_and_deleted(staff_client: Client, message: Message, user):
    Message.objects.create(sender=message.receiver, receiver=user, content="Sure thing")

    found = staff_client.get(reverse("admin:messaging_message_changelist"), {"q": "gig"})
    staff_client.post(
        reverse("admin:messaging_message_changelist"),
        {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"},
    )

    assert found.context["cl"].result_count == 1
    assert list(Message.objects.values_list("content", flat=True)) == ["Sure thing"]
