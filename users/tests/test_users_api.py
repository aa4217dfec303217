from http import HTTPStatus

import pytest
from django.test import Client

from tests.api_shapes import user_public
from users.models import User
from users.selectors import USER_NOT_FOUND

USERS = "/api/users/"


def test_list_shows_other_active_users_by_name_without_emails(
    auth_client: Client, user: User, make_user
):
    zoe = make_user(full_name="Zoe")
    bea = make_user(full_name="Bea")
    make_user(full_name="Gone", is_active=False)

    response = auth_client.get(USERS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "items": [user_public(bea), user_public(zoe)],
        "count": 2,
        "next": None,
    }
    assert "email" not in response.content.decode()


def test_list_searches_by_part_of_the_name(auth_client: Client, make_user):
    make_user(full_name="Miles Davis")
    nina = make_user(full_name="Nina Simone")

    response = auth_client.get(USERS, {"search": "simo"})

    assert response.json() == {"items": [user_public(nina)], "count": 1, "next": None}


def test_list_paginates_with_limit_and_offset(auth_client: Client, make_user):
    people = [make_user(full_name=f"Person {index}") for index in range(5)]

    response = auth_client.get(USERS, {"limit": 2, "offset": 1})

    body = response.json()
    assert (body["items"], body["count"]) == ([user_public(people[1]), user_public(people[2])], 5)
    following = auth_client.get(USERS, {"limit": 2, "cursor": body["next"]}).json()
    assert following["items"] == [user_public(people[3]), user_public(people[4])]
    assert following["next"] is None


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 1000}, {"limit": 201}, {"offset": -1}, {"limit": "ten"}],
)
def test_list_refuses_out_of_range_pagination(auth_client: Client, query):
    response = auth_client.get(USERS, query)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(query))]


def test_list_accepts_the_largest_limit(auth_client: Client, make_user):
    others = [make_user(full_name=f"Person {index:03}") for index in range(201)]

    response = auth_client.get(USERS, {"limit": 200})

    assert response.status_code == HTTPStatus.OK
    page = response.json()
    assert [item["id"] for item in page["items"]] == [user.pk for user in others[:200]]
    assert page["count"] == 201
    assert page["next"] is not None


def test_list_needs_authentication(client: Client, db):
    assert client.get(USERS).status_code == HTTPStatus.UNAUTHORIZED


def test_list_runs_a_constant_number_of_queries(
    auth_client: Client, make_user, django_assert_num_queries
):
    for index in range(30):
        make_user(full_name=f"Person {index}")

    # The caller's user and the page, which is the last one: its length is the count.
    with django_assert_num_queries(2):
        response = auth_client.get(USERS, {"limit": 200})
    with django_assert_num_queries(3):  # a page before the last is counted
        earlier = auth_client.get(USERS, {"limit": 10})

    assert (response.status_code, earlier.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert response.json()["count"] == 30
    assert len(earlier.json()["items"]) == 10


def test_detail_is_public_and_has_no_email(client: Client, user: User):
    response = client.get(f"{USERS}{user.pk}/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == user_public(user)


def test_detail_answers_404_for_unknown_and_inactive_users(client: Client, make_user):
    inactive = make_user(is_active=False)

    for user_id in (inactive.pk, 999_999):
        response = client.get(f"{USERS}{user_id}/")

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"detail": USER_NOT_FOUND}
