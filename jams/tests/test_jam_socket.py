"""The Jam's Socket.IO events against a live uvicorn server (one process, no Redis), with
real python-socketio clients: the clock, joining, commands and rights, bad input and the
command limit, the buffering barrier and its timeout, joining mid-song, songs ending, the
queue, and members removed or the Jam closed (docs/API.md section 8, "Jam").

The Jams are made with the services in this process (the live server shares its database);
what a member does over REST goes to the live server, so that its pushes reach the sockets.
Every wait is bounded."""

import asyncio
import time
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from jams import services
from jams.models import Jam, JamItem
from jams.selectors import JAM_NOT_FOUND
from tests.live_servers import LiveServer, Sockets, Tab, access_token
from users.models import User

ACK_SECONDS = 10
# A tab never hears of something within this long: it did not happen.
QUIET_SECONDS = 0.7


def now_ms() -> float:
    return time.time() * 1000


def call(sockets: Sockets, tab: Tab, event: str, data: Any) -> Any:
    """Emit `event` and return its acknowledgement."""
    return sockets.run(tab.client.call(event, data, timeout=ACK_SECONDS))


def rest(server: LiveServer, user: User, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        f"{server.url}{path}",
        headers={"Authorization": f"Bearer {access_token(user)}"},
        timeout=10,
        **kwargs,
    )


def seq_of(jam: Jam) -> int:
    return Jam.objects.get(pk=jam.pk).seq


def refused(sockets: Sockets, tab: Tab, ack: dict, *, event: str, code: str) -> dict:
    """The refusal's ack and its `jam_error` event agree; the error ({code, detail})."""
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code, ack
    assert ack["error"]["detail"], ack
    error = sockets.run(tab.next("jam_error", lambda data: data["event"] == event))
    assert error == {"event": event, **ack["error"]}
    return ack["error"]


@pytest.fixture
def songs(make_song) -> list:
    return [make_song(title=f"Track {number}") for number in range(4)]


@pytest.fixture
def room(user, make_user, songs) -> tuple[Jam, User, User]:
    """A Jam hosted by `user` with four songs, and two guests."""
    jam = services.jam_create(host=user, song_ids=[song.pk for song in songs])
    first, second = make_user(full_name="Guest One"), make_user(full_name="Guest Two")
    services.jam_join(user=first, code=jam.code)
    services.jam_join(user=second, code=jam.code)
    return jam, first, second


def in_room(sockets: Sockets, server: LiveServer, user: User, jam: Jam, name: str) -> Tab:
    """A tab of `user` that joined the Jam's room."""
    tab = sockets.open(server, user, name)
    ack = call(sockets, tab, "jam_join", {"jam_id": jam.pk})
    assert ack["ok"] is True, ack
    return tab


def command_heard(sockets: Sockets, tabs: list[Tab], seq: int) -> list[dict]:
    """The `jam_command` of `seq` as each tab got it (one each)."""
    return [
        sockets.run(tab.next("jam_command", lambda data, seq=seq: data["seq"] == seq))
        for tab in tabs
    ]


def test_time_sync_echoes_t0_and_stamps_the_server_clock(uvicorn_server, sockets, user):
    tab = sockets.open(uvicorn_server, user)

    for _ in range(3):
        t0 = now_ms()
        ack = call(sockets, tab, "time_sync", {"t0": t0})
        t3 = now_ms()
        assert ack["t0"] == t0
        # Same machine, same clock: the server's stamps lie within the round trip.
        assert t0 - 5 <= ack["t1"] <= ack["t2"] <= t3 + 5, (t0, ack, t3)
        assert ack["t2"] - ack["t1"] < 50

    ack = call(sockets, tab, "time_sync", {"t0": "soon"})
    refused(sockets, tab, ack, event="time_sync", code="invalid")


def test_only_members_join_the_room(uvicorn_server, sockets, room, user, make_user):
    jam, first, _ = room
    stranger = make_user()
    stranger_tab = sockets.open(uvicorn_server, stranger, "stranger")

    for jam_id in (jam.pk, jam.pk + 1000):
        ack = call(sockets, stranger_tab, "jam_join", {"jam_id": jam_id})
        error = refused(sockets, stranger_tab, ack, event="jam_join", code="not_found")
        assert error["detail"] == JAM_NOT_FOUND

    tab = sockets.open(uvicorn_server, first, "guest")
    before = now_ms()
    ack = call(sockets, tab, "jam_join", {"jam_id": jam.pk})
    state = ack["state"]
    assert ack["ok"] is True
    assert state["id"] == jam.pk
    assert state["code"] == jam.code
    assert [member["id"] for member in state["members"]] == [user.pk, first.pk, room[2].pk]
    assert [item["position"] for item in state["queue"]] == [0, 1, 2, 3]
    assert state["now"] == {
        "item_id": state["queue"][0]["id"],
        "position_ms": 0,
        "playing": False,
        "at_server_ms": jam.at_server_ms,
        "seq": 0,
    }
    assert before - 5 <= state["server_ms"] <= now_ms() + 5
    # The stranger, refused, hears nothing of the room.
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    sockets.run(tab.next("jam_command"))
    sockets.run(stranger_tab.none("jam_command", within=QUIET_SECONDS))


def test_the_hosts_commands_reach_every_member_ahead_of_time(uvicorn_server, sockets, room, user):
    jam, first, second = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    tabs = [
        host_tab,
        in_room(sockets, uvicorn_server, first, jam, "guest one"),
        in_room(sockets, uvicorn_server, first, jam, "guest one, second tab"),
        in_room(sockets, uvicorn_server, second, jam, "guest two"),
    ]
    first_item = JamItem.objects.get(jam=jam, position=0)

    sent = now_ms()
    ack = call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    command = ack["command"]
    heard = command_heard(sockets, tabs, command["seq"])
    arrived = now_ms()

    assert ack["ok"] is True
    assert command["action"] == "play"
    assert command["playing"] is True
    assert (command["by"], command["item_id"], command["position_ms"]) == (
        user.pk,
        first_item.pk,
        0,
    )
    assert command["seq"] == 1
    assert command["waiting_for"] == []
    # Scheduled at least the minimum lead (300 ms) after the server took it.
    assert command["at_server_ms"] >= sent + 300 - 5
    assert command["at_server_ms"] <= arrived + 2000
    assert all(data == command for data in heard)
    assert arrived < command["at_server_ms"], "a member heard the command too late"

    seeks = []
    for position in (30_000, 45_000):
        ack = call(
            sockets,
            host_tab,
            "jam_command",
            {"jam_id": jam.pk, "action": "seek", "position_ms": position},
        )
        seeks.append(ack["command"])
    paused = call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "pause"})
    for expected in [*seeks, paused["command"]]:
        assert command_heard(sockets, tabs, expected["seq"]) == [expected] * len(tabs)
    assert [c["seq"] for c in [command, *seeks, paused["command"]]] == [1, 2, 3, 4]
    assert [(c["position_ms"], c["playing"]) for c in seeks] == [(30_000, True), (45_000, True)]
    assert paused["command"]["playing"] is False
    assert seq_of(jam) == 4


def test_a_guest_controls_only_while_guests_may(uvicorn_server, sockets, room, user):
    jam, first, _ = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    guest_tab = in_room(sockets, uvicorn_server, first, jam, "guest")

    for data in (
        {"jam_id": jam.pk, "action": "play"},
        {"jam_id": jam.pk, "action": "next"},
    ):
        ack = call(sockets, guest_tab, "jam_command", data)
        error = refused(sockets, guest_tab, ack, event="jam_command", code="forbidden")
        assert error["detail"] == services.NO_CONTROL
    item = JamItem.objects.get(jam=jam, position=1)
    ack = call(sockets, guest_tab, "jam_queue_remove", {"jam_id": jam.pk, "item_id": item.pk})
    refused(sockets, guest_tab, ack, event="jam_queue_remove", code="forbidden")
    sockets.run(host_tab.none("jam_command", within=QUIET_SECONDS))
    assert seq_of(jam) == 0
    assert JamItem.objects.filter(jam=jam).count() == 4

    response = rest(
        uvicorn_server, user, "PATCH", f"/api/jams/{jam.pk}/", json={"guests_can_control": True}
    )
    assert response.status_code == HTTPStatus.OK, response.text
    state = sockets.run(guest_tab.next("jam_state"))
    assert state["guests_can_control"] is True

    ack = call(sockets, guest_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    assert ack["ok"] is True, ack
    assert ack["command"]["by"] == first.pk
    assert sockets.run(host_tab.next("jam_command")) == ack["command"]
    assert seq_of(jam) == 1


def test_bad_payloads_are_refused_and_change_nothing(uvicorn_server, sockets, room, user):
    jam, _, _ = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    jam_id = jam.pk

    for data in (
        {"jam_id": jam_id},  # no action
        {"jam_id": jam_id, "action": "rewind"},
        {"jam_id": jam_id, "action": "seek", "position_ms": -1},
        {"jam_id": f"jam {jam_id}", "action": "play"},  # a string (a numeric one reads as a number)
        {"jam_id": jam_id, "action": "play", "by": 1},  # an extra key
        {"jam_id": jam_id, "action": "seek"},  # a seek needs a position
        {"jam_id": jam_id, "action": "jump"},  # a jump needs an item
        {"action": "play"},
        ["play"],
        "play",
        None,
    ):
        ack = call(sockets, host_tab, "jam_command", data)
        refused(sockets, host_tab, ack, event="jam_command", code="invalid")

    for event, data in (
        ("jam_queue_add", {"jam_id": jam_id}),
        ("jam_queue_add", {"jam_id": jam_id, "song_ids": []}),
        ("jam_queue_move", {"jam_id": jam_id, "item_id": 1, "position": -1}),
        ("jam_ended", {"jam_id": jam_id}),
        ("jam_buffering", {"jam_id": "x"}),
    ):
        ack = call(sockets, host_tab, event, data)
        refused(sockets, host_tab, ack, event=event, code="invalid")

    sockets.run(host_tab.none("jam_command", within=QUIET_SECONDS))
    assert host_tab.received("jam_state") == []
    fresh = Jam.objects.get(pk=jam_id)
    assert (fresh.seq, fresh.playing, fresh.position_ms) == (0, False, 0)
    assert JamItem.objects.filter(jam=jam).count() == 4


def test_a_flood_of_commands_is_cut_at_the_limit(
    uvicorn_server, sockets, room, user, songs, settings
):
    jam, first, _ = room
    limit = settings.JAM_COMMANDS_PER_10_SECONDS  # the server's default too
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    guest_tab = in_room(sockets, uvicorn_server, first, jam, "guest")

    async def flood() -> list[dict]:
        return [
            await host_tab.client.call(
                "jam_command",
                {"jam_id": jam.pk, "action": "seek", "position_ms": 1000 * number},
                timeout=ACK_SECONDS,
            )
            for number in range(limit + 5)
        ]

    acks = sockets.run(flood())

    assert [ack["ok"] for ack in acks] == [True] * limit + [False] * 5
    assert {ack["error"]["code"] for ack in acks[limit:]} == {"too_fast"}
    assert acks[-1]["error"]["detail"] == services.TOO_FAST
    assert sum(error["code"] == "too_fast" for error in host_tab.received("jam_error")) == 5
    assert seq_of(jam) == limit
    assert Jam.objects.get(pk=jam.pk).position_ms == 1000 * (limit - 1)
    # The members heard the commands that were taken, and no other.
    heard = command_heard(sockets, [guest_tab], limit)[0]
    assert heard["position_ms"] == 1000 * (limit - 1)
    sockets.run(guest_tab.none("jam_command", lambda data: data["seq"] > limit, within=0.3))
    # Queue edits count too.
    ack = call(sockets, host_tab, "jam_queue_add", {"jam_id": jam.pk, "song_ids": [songs[0].pk]})
    assert ack["error"]["code"] == "too_fast"
    assert JamItem.objects.filter(jam=jam).count() == len(songs)


def test_a_buffering_member_holds_the_room_until_ready(uvicorn_server, sockets, room, user):
    jam, first, second = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    first_tab = in_room(sockets, uvicorn_server, first, jam, "guest one")
    second_tab = in_room(sockets, uvicorn_server, second, jam, "guest two")
    tabs = [host_tab, first_tab, second_tab]
    played = call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    command_heard(sockets, tabs, 1)
    sockets.run(asyncio.sleep(0.6))  # past the command's moment: playing

    # Paused: buffering holds nothing. Playing: the room holds at once, where it is.
    assert call(sockets, first_tab, "jam_buffering", {"jam_id": jam.pk}) == {"ok": True}
    hold = command_heard(sockets, tabs, 2)
    assert hold[0] == hold[1] == hold[2]
    hold = hold[0]
    assert (hold["action"], hold["playing"], hold["by"]) == ("hold", False, first.pk)
    assert hold["waiting_for"] == [first.pk]
    expected_position = max(0, hold["at_server_ms"] - played["command"]["at_server_ms"])
    assert abs(hold["position_ms"] - expected_position) <= 5
    # The same member again, or a second one, does not hold it again.
    call(sockets, first_tab, "jam_buffering", {"jam_id": jam.pk})
    call(sockets, second_tab, "jam_buffering", {"jam_id": jam.pk})
    assert Jam.objects.get(pk=jam.pk).waiting_for == [first.pk, second.pk]
    call(sockets, first_tab, "jam_ready", {"jam_id": jam.pk})
    sockets.run(host_tab.none("jam_command", within=QUIET_SECONDS))

    before = now_ms()
    assert call(sockets, second_tab, "jam_ready", {"jam_id": jam.pk}) == {"ok": True}
    resume = command_heard(sockets, tabs, 3)
    assert resume[0] == resume[1] == resume[2]
    resume = resume[0]
    assert (resume["action"], resume["playing"], resume["by"]) == ("resume", True, second.pk)
    assert resume["waiting_for"] == []
    assert resume["position_ms"] == hold["position_ms"]
    assert resume["at_server_ms"] >= before + 300 - 5
    fresh = Jam.objects.get(pk=jam.pk)
    assert (fresh.seq, fresh.playing, fresh.waiting_for, fresh.held_since_ms) == (3, True, [], None)


def test_a_member_never_ready_is_left_behind_after_the_timeout(start_server, sockets, room, user):
    server = start_server(env={"JAM_BUFFER_TIMEOUT_SECONDS": "1"})
    jam, first, _ = room
    host_tab = in_room(sockets, server, user, jam, "host")
    slow_tab = in_room(sockets, server, first, jam, "slow guest")
    call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    command_heard(sockets, [host_tab, slow_tab], 1)

    held_at = time.monotonic()
    call(sockets, slow_tab, "jam_buffering", {"jam_id": jam.pk})
    hold = command_heard(sockets, [host_tab], 2)[0]
    resume = sockets.run(
        host_tab.next("jam_command", lambda data: data["seq"] == 3, timeout=4), timeout=5
    )
    waited = time.monotonic() - held_at

    assert hold["action"] == "hold"
    assert hold["waiting_for"] == [first.pk]
    assert 0.9 <= waited <= 3.0, waited
    assert (resume["action"], resume["playing"], resume["by"]) == ("resume", True, None)
    assert resume["waiting_for"] == []
    assert resume["position_ms"] == hold["position_ms"]
    assert sockets.run(slow_tab.next("jam_command", lambda data: data["seq"] == 3)) == resume
    # Its late ready changes nothing.
    call(sockets, slow_tab, "jam_ready", {"jam_id": jam.pk})
    sockets.run(host_tab.none("jam_command", lambda data: data["seq"] > 3, within=0.5))
    assert seq_of(jam) == 3


def test_a_member_joining_mid_song_starts_at_the_right_position(
    uvicorn_server, sockets, room, user
):
    jam, first, _ = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    played = call(
        sockets,
        host_tab,
        "jam_command",
        {"jam_id": jam.pk, "action": "play", "position_ms": 10_000},
    )["command"]
    sockets.run(asyncio.sleep(1.0))  # well past the command's moment

    late_tab = sockets.open(uvicorn_server, first, "late guest")
    ack = call(sockets, late_tab, "jam_join", {"jam_id": jam.pk})
    received = now_ms()
    state = ack["state"]
    now = state["now"]
    position = now["position_ms"] + (state["server_ms"] - now["at_server_ms"])

    assert now["playing"] is True
    assert now["item_id"] == played["item_id"]
    assert now["seq"] == played["seq"]
    implied = played["position_ms"] + (state["server_ms"] - played["at_server_ms"])
    assert abs(position - implied) <= 20, (position, implied)
    # The song is about a second in past 10 s, and where the test's clock says it is.
    assert 10_000 + 500 <= position <= 10_000 + 1500, position
    assert abs(position - (10_000 + received - played["at_server_ms"])) <= 50


def test_two_members_ending_a_song_move_the_queue_once(uvicorn_server, sockets, room, user):
    jam, first, second = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    first_tab = in_room(sockets, uvicorn_server, first, jam, "guest one")
    second_tab = in_room(sockets, uvicorn_server, second, jam, "guest two")
    items = list(JamItem.objects.filter(jam=jam).order_by("position"))
    played = call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    command_heard(sockets, [host_tab], 1)

    async def both_end() -> list[dict]:
        data = {"jam_id": jam.pk, "item_id": items[0].pk}
        return list(
            await asyncio.gather(
                first_tab.client.call("jam_ended", data, timeout=ACK_SECONDS),
                second_tab.client.call("jam_ended", data, timeout=ACK_SECONDS),
                host_tab.client.call("jam_ended", data, timeout=ACK_SECONDS),
            )
        )

    assert sockets.run(both_end()) == [{"ok": True}] * 3
    ended = command_heard(sockets, [host_tab], 2)[0]
    sockets.run(host_tab.none("jam_command", lambda data: data["seq"] > 2, within=QUIET_SECONDS))

    assert ended["action"] == "ended"
    assert ended["by"] is None
    assert (ended["item_id"], ended["position_ms"], ended["playing"]) == (items[1].pk, 0, True)
    assert ended["seq"] == played["command"]["seq"] + 1
    fresh = Jam.objects.get(pk=jam.pk)
    assert (fresh.seq, fresh.now_item_id) == (2, items[1].pk)
    # A late report for the item before changes nothing either.
    call(sockets, first_tab, "jam_ended", {"jam_id": jam.pk, "item_id": items[0].pk})
    assert seq_of(jam) == 2


def test_the_queue_is_edited_over_sockets(uvicorn_server, sockets, room, user, make_song):
    jam, first, _ = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    guest_tab = in_room(sockets, uvicorn_server, first, jam, "guest")
    extra = [make_song(title="Extra A"), make_song(title="Extra B")]

    def state_after(tab: Tab, ack: dict) -> dict:
        assert ack == {"ok": True}
        state = sockets.run(tab.next("jam_state"))
        assert [item["position"] for item in state["queue"]] == list(range(len(state["queue"])))
        stored = JamItem.objects.filter(jam=jam).order_by("position")
        assert [item["id"] for item in state["queue"]] == [item.pk for item in stored]
        return state

    # A guest adds (guests_can_add is on by default).
    ack = call(
        sockets, guest_tab, "jam_queue_add", {"jam_id": jam.pk, "song_ids": [s.pk for s in extra]}
    )
    state = state_after(host_tab, ack)
    assert state_after(guest_tab, ack) == state
    assert [item["song"]["title"] for item in state["queue"][-2:]] == ["Extra A", "Extra B"]
    assert [item["added_by"]["id"] for item in state["queue"]] == [user.pk] * 4 + [first.pk] * 2
    added = state["queue"][-1]["id"]

    ack = call(
        sockets, host_tab, "jam_queue_move", {"jam_id": jam.pk, "item_id": added, "position": 1}
    )
    state = state_after(guest_tab, ack)
    assert state["queue"][1]["id"] == added
    assert [item["song"]["title"] for item in state["queue"]] == [
        "Track 0",
        "Extra B",
        "Track 1",
        "Track 2",
        "Track 3",
        "Extra A",
    ]

    removed = state["queue"][2]["id"]
    ack = call(sockets, host_tab, "jam_queue_remove", {"jam_id": jam.pk, "item_id": removed})
    state = state_after(guest_tab, ack)
    assert removed not in [item["id"] for item in state["queue"]]
    assert len(state["queue"]) == 5

    ack = call(
        sockets, host_tab, "jam_queue_move", {"jam_id": jam.pk, "item_id": added, "position": 9}
    )
    refused(sockets, host_tab, ack, event="jam_queue_move", code="invalid")
    ack = call(sockets, host_tab, "jam_queue_remove", {"jam_id": jam.pk, "item_id": removed})
    refused(sockets, host_tab, ack, event="jam_queue_remove", code="not_found")
    assert JamItem.objects.filter(jam=jam).count() == 5


def test_a_removed_member_leaves_the_room(uvicorn_server, sockets, room, user):
    jam, first, second = room
    host_tab = in_room(sockets, uvicorn_server, user, jam, "host")
    removed_tabs = [
        in_room(sockets, uvicorn_server, first, jam, "removed guest"),
        in_room(sockets, uvicorn_server, first, jam, "removed guest, second tab"),
    ]
    staying_tab = in_room(sockets, uvicorn_server, second, jam, "staying guest")

    response = rest(uvicorn_server, user, "DELETE", f"/api/jams/{jam.pk}/members/{first.pk}/")
    assert response.status_code == HTTPStatus.NO_CONTENT, response.text
    for tab in removed_tabs:
        closed = sockets.run(tab.next("jam_closed"))
        assert closed == {"jam_id": jam.pk, "reason": "removed"}
    state = sockets.run(staying_tab.next("jam_state"))
    assert first.pk not in [member["id"] for member in state["members"]]

    played = call(sockets, host_tab, "jam_command", {"jam_id": jam.pk, "action": "play"})
    assert command_heard(sockets, [host_tab, staying_tab], 1) == [played["command"]] * 2
    for tab in removed_tabs:
        sockets.run(tab.none("jam_command", within=0.3))
    ack = call(sockets, removed_tabs[0], "jam_command", {"jam_id": jam.pk, "action": "pause"})
    refused(sockets, removed_tabs[0], ack, event="jam_command", code="not_found")
    ack = call(sockets, removed_tabs[0], "jam_join", {"jam_id": jam.pk})
    refused(sockets, removed_tabs[0], ack, event="jam_join", code="not_found")
    assert seq_of(jam) == 1


def test_closing_the_jam_tells_every_member(uvicorn_server, sockets, room, user):
    jam, first, second = room
    tabs = [
        in_room(sockets, uvicorn_server, user, jam, "host"),
        in_room(sockets, uvicorn_server, first, jam, "guest one"),
        in_room(sockets, uvicorn_server, second, jam, "guest two"),
    ]

    response = rest(uvicorn_server, first, "DELETE", f"/api/jams/{jam.pk}/")
    assert response.status_code == HTTPStatus.FORBIDDEN, response.text
    response = rest(uvicorn_server, user, "DELETE", f"/api/jams/{jam.pk}/")
    assert response.status_code == HTTPStatus.NO_CONTENT, response.text

    for tab in tabs:
        assert sockets.run(tab.next("jam_closed")) == {"jam_id": jam.pk, "reason": "closed"}
    assert Jam.objects.get(pk=jam.pk).closed_at is not None
    ack = call(sockets, tabs[0], "jam_command", {"jam_id": jam.pk, "action": "play"})
    refused(sockets, tabs[0], ack, event="jam_command", code="not_found")
