"""REST: GET/POST /api/messages/, GET /api/messages/{id}/, GET /api/users/{id}/messages/."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from config.api import AUTHENTICATION_REQUIRED
from core.text import BLANK, CONTROL_CHARACTERS, NOT_TEXT
from messaging.models import CONTENT_MAX_LENGTH, Message
from messaging.realtime.push import message_payload
from messaging.selectors import MESSAGE_NOT_FOUND
from messaging.services import MESSAGE_TO_SELF, RECEIVER_NOT_FOUND
from tests.helpers import bearer, iso
from users.selectors import USER_NOT_FOUND

MESSAGES = "/api/messages/"
UNAUTHORIZED_BODY = {"detail": AUTHENTICATION_REQUIRED}


def message_out(message: Message) -> dict:
    return {
        "id": message.pk,
        "sender_id": message.sender_id,
        "receiver_id": message.receiver_id,
        "content": message.content,
        "created_at": iso(message.created_at),
    }


def field_error(field: str, msg: str, type_: str = "value_error") -> dict:
    return {"detail": [{"type": type_, "loc": ["body", field], "msg": msg}]}


def conversation_url(user_id: int) -> str:
    return f"/api/users/{user_id}/messages/"


@pytest.fixture
def bob(make_user):
    return make_user(full_name="Bob Listener")


@pytest.fixture
def eve(make_user):
    return make_user(full_name="Eve Stranger")


def send(client: Client, **body):
    return client.post(MESSAGES, body, content_type="application/json")


# --- POST /api/messages/ ----------------------------------------------------------------


def test_send_stores_the_trimmed_message_and_answers_201(auth_client, user, bob):
    response = send(auth_client, receiver_id=bob.pk, content="  Hello Bob!\n ")

    assert response.status_code == HTTPStatus.CREATED
    message = Message.objects.get()
    assert (message.sender, message.receiver, message.content) == (user, bob, "Hello Bob!")
    assert response.json() == message_out(message)


def test_send_accepts_exactly_the_longest_content(auth_client, bob):
    content = "é" * CONTENT_MAX_LENGTH

    response = send(auth_client, receiver_id=bob.pk, content=f"  {content}  ")

    assert response.status_code == HTTPStatus.CREATED
    assert Message.objects.get().content == content


TOO_LONG = f"String should have at most {CONTENT_MAX_LENGTH} characters"


@pytest.mark.parametrize(
    ("content", "detail", "kind"),
    [
        ("", BLANK, "value_error"),
        ("   \n\t ", BLANK, "value_error"),
        ("x" * (CONTENT_MAX_LENGTH + 1), TOO_LONG, "string_too_long"),
        ("before\x00after", CONTROL_CHARACTERS, "value_error"),
        ("bell\x07", CONTROL_CHARACTERS, "value_error"),
        ("a \ud800", NOT_TEXT, "value_error"),
    ],
    ids=["empty", "blank", "too-long", "nul", "control", "lone-surrogate"],
)
def test_send_refuses_bad_content_and_writes_nothing(auth_client, bob, content, detail, kind):
    response = send(auth_client, receiver_id=bob.pk, content=content)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == field_error("content", detail, kind)
    assert not Message.objects.exists()


def test_send_to_oneself_is_422_and_writes_nothing(auth_client, user):
    response = send(auth_client, receiver_id=user.pk, content="Note to self")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == field_error("receiver_id", MESSAGE_TO_SELF)
    assert not Message.objects.exists()


def test_send_to_an_unknown_or_inactive_receiver_is_404(auth_client, make_user):
    inactive = make_user(is_active=False)

    for receiver_id in (inactive.pk, inactive.pk + 1000):
        response = send(auth_client, receiver_id=receiver_id, content="Hello?")

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": RECEIVER_NOT_FOUND}
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"content": "Hi"}, ["body", "receiver_id"]),
        ({"receiver_id": 2}, ["body", "content"]),
        ({"receiver_id": "two", "content": "Hi"}, ["body", "receiver_id"]),
        ({"receiver_id": 2**63, "content": "Hi"}, ["body", "receiver_id"]),
        ({"receiver_id": 0, "content": "Hi"}, ["body", "receiver_id"]),
        ({"receiver_id": 2, "content": ["Hi"]}, ["body", "content"]),
    ],
    ids=["no-receiver", "no-content", "receiver-not-int", "receiver-overflow", "zero", "list"],
)
def test_send_with_a_malformed_body_is_422(auth_client, bob, body, loc):
    response = send(auth_client, **body)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert not Message.objects.exists()


def test_send_anonymous_is_401(client, bob):
    response = send(client, receiver_id=bob.pk, content="Hi")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == UNAUTHORIZED_BODY
    assert not Message.objects.exists()


def test_send_pushes_to_sockets_only_after_commit(
    auth_client, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        refused = send(auth_client, receiver_id=bob.pk, content=" ")
    assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        sent = send(auth_client, receiver_id=bob.pk, content="Hi")
    assert sent.status_code == HTTPStatus.CREATED
    assert len(callbacks) == 1


# --- GET /api/messages/ -----------------------------------------------------------------


def test_list_shows_sent_and_received_newest_first_and_nothing_else(
    auth_client, user, bob, eve, make_message
):
    now = timezone.now()
    oldest = make_message(user, bob, "1", created_at=now - timedelta(minutes=3))
    middle = make_message(bob, user, "2", created_at=now - timedelta(minutes=2))
    newest = make_message(user, eve, "3", created_at=now - timedelta(minutes=1))
    make_message(bob, eve, "Not yours")

    response = auth_client.get(MESSAGES)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "items": [message_out(newest), message_out(middle), message_out(oldest)],
        "count": 3,
        "next": None,
    }


def test_list_breaks_timestamp_ties_by_id(auth_client, user, bob, make_message):
    moment = timezone.now()
    first = make_message(user, bob, "a", created_at=moment)
    second = make_message(bob, user, "b", created_at=moment)

    response = auth_client.get(MESSAGES)

    assert [item["id"] for item in response.json()["items"]] == [second.pk, first.pk]


def test_list_is_paginated_with_a_fixed_number_of_queries(
    auth_client, user, bob, make_message, django_assert_num_queries
):
    now = timezone.now()
    messages = [
        make_message(user, bob, f"m{n}", created_at=now - timedelta(minutes=n)) for n in range(7)
    ]

    # The caller, the page, the count: the same for any page size.
    with django_assert_num_queries(3):
        response = auth_client.get(MESSAGES, {"limit": 3, "offset": 2})

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["items"], body["count"]) == ([message_out(m) for m in messages[2:5]], 7)
    following = auth_client.get(MESSAGES, {"limit": 3, "cursor": body["next"]}).json()
    assert following["items"] == [message_out(m) for m in messages[5:7]]
    assert following["next"] is None


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}])
def test_list_refuses_out_of_range_pagination(auth_client, query):
    response = auth_client.get(MESSAGES, query)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_list_anonymous_is_401(client):
    response = client.get(MESSAGES)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == UNAUTHORIZED_BODY


# --- GET /api/messages/{id}/ -------------------------------------------------------------


def test_detail_for_the_sender_and_the_receiver(user, bob, make_message):
    message = make_message(user, bob, "Hi")

    for reader in (user, bob):
        response = Client(headers=bearer(reader)).get(f"{MESSAGES}{message.pk}/")

        assert response.status_code == HTTPStatus.OK
        assert response.json() == message_out(message)


def test_detail_is_404_for_a_stranger_and_for_a_missing_message(user, bob, eve, make_message):
    message = make_message(user, bob, "Private")
    stranger = Client(headers=bearer(eve))

    for message_id in (message.pk, message.pk + 1000):
        response = stranger.get(f"{MESSAGES}{message_id}/")

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": MESSAGE_NOT_FOUND}


def test_detail_with_an_id_beyond_the_database_range_is_422(auth_client):
    response = auth_client.get(f"{MESSAGES}{2**63}/")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["path", "message_id"]


def test_detail_anonymous_is_401(client, user, bob, make_message):
    message = make_message(user, bob)

    response = client.get(f"{MESSAGES}{message.pk}/")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == UNAUTHORIZED_BODY


# --- GET /api/users/{id}/messages/ -------------------------------------------------------


def test_conversation_is_both_directions_oldest_first_and_only_those_two(
    auth_client, user, bob, eve, make_message, django_assert_num_queries
):
    now = timezone.now()
    first = make_message(user, bob, "Hi Bob", created_at=now - timedelta(minutes=3))
    second = make_message(bob, user, "Hi", created_at=now - timedelta(minutes=2))
    third = make_message(user, bob, "How are you?", created_at=now - timedelta(minutes=1))
    make_message(user, eve, "Other conversation")
    make_message(eve, bob, "Not yours")

    # The caller, the other user and the page (the last one: no count needed).
    with django_assert_num_queries(3):
        response = auth_client.get(conversation_url(bob.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "items": [message_out(first), message_out(second), message_out(third)],
        "count": 3,
        "next": None,
    }


def test_conversation_is_paginated(auth_client, user, bob, make_message):
    now = timezone.now()
    messages = [
        make_message(user, bob, f"m{n}", created_at=now + timedelta(seconds=n)) for n in range(5)
    ]

    response = auth_client.get(conversation_url(bob.pk), {"limit": 2, "offset": 1})

    body = response.json()
    assert (body["items"], body["count"]) == ([message_out(m) for m in messages[1:3]], 5)
    following = auth_client.get(conversation_url(bob.pk), {"limit": 9, "cursor": body["next"]})
    assert following.json() == {
        "items": [message_out(m) for m in messages[3:5]],
        "count": 5,
        "next": None,
    }


def test_a_third_user_never_sees_someone_elses_conversation(user, bob, eve, make_message):
    make_message(user, bob, "Between us")
    make_message(bob, user, "Yes")

    response = Client(headers=bearer(eve)).get(conversation_url(bob.pk))

    # Eve asking for "her conversation with Bob" gets exactly that: nothing.
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"items": [], "count": 0, "next": None}


def test_conversation_with_an_unknown_or_inactive_user_is_404(auth_client, make_user):
    inactive = make_user(is_active=False)

    for user_id in (inactive.pk, inactive.pk + 1000):
        response = auth_client.get(conversation_url(user_id))

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": USER_NOT_FOUND}


def test_conversation_anonymous_is_401(client, bob):
    response = client.get(conversation_url(bob.pk))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == UNAUTHORIZED_BODY


# --- Shared shapes and rules ---------------------------------------------------------------


def test_socket_payload_is_the_rest_body(auth_client, user, bob, make_message):
    message = make_message(user, bob, "Same everywhere")

    response = auth_client.get(f"{MESSAGES}{message.pk}/")

    assert message_payload(message) == response.json()


def test_the_database_refuses_messages_to_oneself_and_empty_ones(user, bob):
    for fields in ({"receiver": user, "content": "Me"}, {"receiver": bob, "content": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Message.objects.create(sender=user, **fields)
    assert not Message.objects.exists()


def test_openapi_documents_every_messages_status(client):
    schema = client.get("/api/openapi.json").json()

    statuses = {
        (method.upper(), path): set(operation["responses"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if "messages" in path
    }
    # Any operation may answer 503 while the database is away.
    assert statuses == {
        ("GET", "/api/messages/"): {"200", "401", "422", "503"},
        ("POST", "/api/messages/"): {"201", "401", "404", "413", "422", "429", "503"},
        ("GET", "/api/messages/{message_id}/"): {"200", "401", "404", "422", "503"},
        ("GET", "/api/users/{user_id}/messages/"): {"200", "401", "404", "422", "503"},
    }
