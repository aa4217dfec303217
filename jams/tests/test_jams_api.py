"""REST: /api/jams/ — open, read, join by code, rights, leave, remove, close."""

from http import HTTPStatus

import pytest
from django.test import Client

from jams import services
from jams.models import MAX_MEMBERS, Jam, JamItem, JamMember
from jams.selectors import JAM_NOT_FOUND, NOT_IN_A_JAM
from tests.helpers import bearer

JAMS = "/api/jams/"


def jam_url(jam_id: int) -> str:
    return f"{JAMS}{jam_id}/"


def member_url(jam_id: int, user_id: int) -> str:
    return f"{JAMS}{jam_id}/members/{user_id}/"


@pytest.fixture
def songs(make_song):
    return [make_song(title=f"Song {number}") for number in range(3)]


def open_jam(client: Client, host, **body) -> dict:
    response = client.post(JAMS, body, content_type="application/json", headers=bearer(host))
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()


def join(client: Client, user, code: str):
    return client.post(
        f"{JAMS}join/", {"code": code}, content_type="application/json", headers=bearer(user)
    )


def test_a_jam_opens_with_its_queue_paused_at_the_first_song(client, user, songs):
    body = open_jam(client, user, song_ids=[song.pk for song in songs])

    assert body["host"]["id"] == user.pk
    assert [member["id"] for member in body["members"]] == [user.pk]
    assert body["members"][0]["role"] == "host"
    assert [item["song"]["id"] for item in body["queue"]] == [song.pk for song in songs]
    assert [item["position"] for item in body["queue"]] == [0, 1, 2]
    assert {item["added_by"]["id"] for item in body["queue"]} == {user.pk}
    assert body["now"]["item_id"] == body["queue"][0]["id"]
    assert body["now"]["playing"] is False
    assert body["now"]["position_ms"] == 0
    assert len(body["code"]) == 8
    assert body["join_url"].endswith(f"/jam/?code={body['code']}")
    assert body["max_members"] == MAX_MEMBERS
    assert (body["guests_can_control"], body["guests_can_add"]) == (False, True)


def test_a_jam_starts_from_an_album_in_track_order(client, user, make_album, make_song):
    album = make_album()
    second = make_song(title="B", album=album, track_number=2)
    first = make_song(title="A", album=album, track_number=1)

    body = open_jam(client, user, album_id=album.pk)

    assert [item["song"]["id"] for item in body["queue"]] == [first.pk, second.pk]


def test_a_jam_from_a_smart_playlist_queues_the_songs_its_rules_take_now(client, user, make_song):
    from library import services as library
    from library.smart_schemas import SmartRules

    kept = [make_song(title=f"Blue {index}") for index in range(3)]
    make_song(title="Red")
    rules = SmartRules.model_validate(
        {
            "match": "all",
            "rules": [{"field": "title", "operator": "starts_with", "value": "blue"}],
            "sort": "title",
            "order": "desc",
        }
    )
    playlist = library.playlist_create(owner=user, name="Blues", rules=rules)

    body = open_jam(client, user, playlist_id=playlist.pk)

    assert [item["song"]["id"] for item in body["queue"]] == [song.pk for song in kept[::-1]]


def test_a_jam_from_someone_elses_private_playlist_is_a_404_and_writes_nothing(
    client, user, make_user
):
    from library import services as library

    other = make_user()
    playlist = library.playlist_create(owner=other, name="Mine")

    response = client.post(
        JAMS, {"playlist_id": playlist.pk}, content_type="application/json", headers=bearer(user)
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Jam.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"song_ids": []},
        {"song_ids": [1], "album_id": 1},
        {"album_id": None},
        {"guests_can_control": "maybe"},
        {"guests_can_add": 0},
        {"unknown": 1},
    ],
)
def test_bad_input_is_a_422_and_writes_nothing(client, user, body):
    response = client.post(JAMS, body, content_type="application/json", headers=bearer(user))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not Jam.objects.exists()


def test_an_unknown_song_is_a_404(client, user):
    response = client.post(
        JAMS, {"song_ids": [999]}, content_type="application/json", headers=bearer(user)
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Jam.objects.exists()


def test_a_friend_joins_by_code_in_any_case_and_spacing(client, user, make_user, songs):
    friend = make_user()
    jam = open_jam(client, user, song_ids=[songs[0].pk])

    response = join(client, friend, " " + jam["code"].lower()[:4] + " " + jam["code"][4:])

    assert response.status_code == HTTPStatus.OK
    assert [(m["id"], m["role"]) for m in response.json()["members"]] == [
        (user.pk, "host"),
        (friend.pk, "guest"),
    ]
    assert join(client, friend, jam["code"]).status_code == HTTPStatus.OK  # again: no change
    assert JamMember.objects.filter(jam_id=jam["id"]).count() == 2


def test_an_unknown_code_is_a_404(client, user):
    response = join(client, user, "NOSUCH22")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": services.CODE_UNKNOWN}


def test_a_full_jam_refuses_the_next_listener(client, user, make_user):
    jam = open_jam(client, user)
    for _ in range(MAX_MEMBERS - 1):
        assert join(client, make_user(), jam["code"]).status_code == HTTPStatus.OK

    response = join(client, make_user(), jam["code"])

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": services.JAM_FULL}
    assert JamMember.objects.filter(jam_id=jam["id"]).count() == MAX_MEMBERS


def test_one_jam_at_a_time(client, user, make_user):
    other_host = make_user()
    open_jam(client, user)
    theirs = open_jam(client, other_host)

    second = client.post(JAMS, {}, content_type="application/json", headers=bearer(user))
    joined = join(client, user, theirs["code"])

    assert second.status_code == joined.status_code == HTTPStatus.CONFLICT
    assert second.json() == {"detail": services.ALREADY_IN_A_JAM}
    assert Jam.objects.count() == 2


def test_only_members_see_a_jam(client, user, make_user):
    jam = open_jam(client, user)

    outsider = client.get(jam_url(jam["id"]), headers=bearer(make_user()))
    member = client.get(jam_url(jam["id"]), headers=bearer(user))

    assert outsider.status_code == HTTPStatus.NOT_FOUND
    assert outsider.json() == {"detail": JAM_NOT_FOUND}
    assert member.status_code == HTTPStatus.OK
    assert client.get(f"{JAMS}current/", headers=bearer(user)).json()["id"] == jam["id"]
    assert client.get(f"{JAMS}current/", headers=bearer(make_user())).json() == {
        "detail": NOT_IN_A_JAM
    }


def test_rights_guests_cohosts_and_the_host(client, user, make_user):
    guest, cohost = make_user(), make_user()
    jam = open_jam(client, user)
    join(client, guest, jam["code"])
    join(client, cohost, jam["code"])

    refused = client.patch(
        jam_url(jam["id"]),
        {"guests_can_control": True},
        content_type="application/json",
        headers=bearer(guest),
    )
    promoted = client.put(
        member_url(jam["id"], cohost.pk),
        {"role": "cohost"},
        content_type="application/json",
        headers=bearer(user),
    )
    by_cohost = client.patch(
        jam_url(jam["id"]),
        {"guests_can_control": True},
        content_type="application/json",
        headers=bearer(cohost),
    )
    cohost_closes = client.delete(jam_url(jam["id"]), headers=bearer(cohost))

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json() == {"detail": services.HOSTS_ONLY}
    assert promoted.status_code == HTTPStatus.OK
    assert by_cohost.status_code == HTTPStatus.OK
    assert by_cohost.json()["guests_can_control"]
    assert cohost_closes.status_code == HTTPStatus.FORBIDDEN
    assert Jam.objects.get().closed_at is None


def test_a_removed_member_cannot_come_back_and_one_who_left_can(client, user, make_user):
    removed, leaving = make_user(), make_user()
    jam = open_jam(client, user)
    join(client, removed, jam["code"])
    join(client, leaving, jam["code"])

    not_host = client.delete(member_url(jam["id"], removed.pk), headers=bearer(leaving))
    by_host = client.delete(member_url(jam["id"], removed.pk), headers=bearer(user))
    left = client.delete(member_url(jam["id"], leaving.pk), headers=bearer(leaving))

    assert not_host.status_code == HTTPStatus.FORBIDDEN
    assert by_host.status_code == left.status_code == HTTPStatus.NO_CONTENT
    assert join(client, removed, jam["code"]).status_code == HTTPStatus.FORBIDDEN
    assert join(client, leaving, jam["code"]).status_code == HTTPStatus.OK
    assert client.get(jam_url(jam["id"]), headers=bearer(removed)).status_code == 404


def test_the_host_closes_the_jam_and_its_code_stops_working(client, user, make_user):
    jam = open_jam(client, user)

    response = client.delete(jam_url(jam["id"]), headers=bearer(user))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert join(client, make_user(), jam["code"]).status_code == HTTPStatus.NOT_FOUND
    assert client.get(jam_url(jam["id"]), headers=bearer(user)).status_code == 404
    open_jam(client, user)  # free for another


def test_an_idle_jam_closes_itself(client, user, make_user, settings):
    jam = open_jam(client, user)
    settings.JAM_IDLE_SECONDS = 0

    assert services.close_idle() == [jam["id"]]
    assert join(client, make_user(), jam["code"]).status_code == HTTPStatus.NOT_FOUND


def test_reading_a_room_takes_a_bounded_number_of_queries(
    client, user, make_user, songs, django_assert_max_num_queries
):
    jam = open_jam(client, user, song_ids=[song.pk for song in songs] * 10)
    for _ in range(5):
        join(client, make_user(), jam["code"])

    with django_assert_max_num_queries(8):
        response = client.get(jam_url(jam["id"]), headers=bearer(user))

    assert len(response.json()["queue"]) == 30
    assert JamItem.objects.count() == 30


def test_the_admin_lists_a_jam_and_closes_it(client, user, make_user, songs, staff_client):
    jam = open_jam(client, user, song_ids=[songs[0].pk])
    join(client, make_user(), jam["code"])

    listed = staff_client.get("/admin/jams/jam/").content.decode()
    detail = staff_client.get(f"/admin/jams/jam/{jam['id']}/change/")
    closed = staff_client.post(
        "/admin/jams/jam/", {"action": "close_jams", "_selected_action": [jam["id"]]}
    )

    assert jam["code"] in listed
    assert detail.status_code == HTTPStatus.OK
    assert songs[0].title in detail.content.decode()
    assert closed.status_code == HTTPStatus.FOUND
    assert Jam.objects.get().closed_at is not None


def test_the_hosts_role_cannot_change(client, user):
    jam = open_jam(client, user)

    response = client.put(
        member_url(jam["id"], user.pk),
        {"role": "guest"},
        content_type="application/json",
        headers=bearer(user),
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": services.HOST_ROLE}
    assert JamMember.objects.get(user=user).role == "host"
