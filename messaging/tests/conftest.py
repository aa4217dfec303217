"""Messaging fixtures; the live servers and Socket.IO clients are in tests/live_servers.py."""

from collections.abc import Callable
from typing import Any

import pytest

from messaging.models import Message
from users.models import User


@pytest.fixture
def make_message() -> Callable[..., Message]:
    def make(sender: User, receiver: User, content: str = "Hello", **fields: Any) -> Message:
        return Message.objects.create(sender=sender, receiver=receiver, content=content, **fields)

    return make
