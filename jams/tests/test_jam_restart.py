"""A Jam outlives the server process that served it: its state is the database's, so a
process killed mid-song loses nothing, and the next process carries on from there."""

from jams import services
from jams.models import Jam


def test_a_killed_server_loses_no_room(start_server, sockets, user, make_user, make_song):
    guest = make_user()
    jam = services.jam_create(host=user, song_ids=[make_song().pk, make_song(title="B").pk])
    services.jam_join(user=guest, code=jam.code)
    first = start_server()
    host_tab = sockets.open(first, user, "host")
    sockets.run(host_tab.client.call("jam_join", {"jam_id": jam.pk}, timeout=10))
    played = sockets.run(
        host_tab.client.call(
            "jam_command", {"jam_id": jam.pk, "action": "play", "position_ms": 5000}, timeout=10
        )
    )["command"]

    first.process.kill()  # no shutdown: a crash
    first.process.wait(timeout=10)
    second = start_server()
    guest_tab = sockets.open(second, guest, "guest")
    joined = sockets.run(guest_tab.client.call("jam_join", {"jam_id": jam.pk}, timeout=10))
    host_again = sockets.open(second, user, "host again")
    sockets.run(host_again.client.call("jam_join", {"jam_id": jam.pk}, timeout=10))
    moved = sockets.run(
        host_again.client.call("jam_command", {"jam_id": jam.pk, "action": "next"}, timeout=10)
    )["command"]
    heard = sockets.run(guest_tab.next("jam_command"))

    now = joined["state"]["now"]
    assert joined["ok"] is True
    assert (now["item_id"], now["position_ms"], now["playing"], now["seq"]) == (
        played["item_id"],
        5000,
        True,
        played["seq"],
    )
    assert now["at_server_ms"] == played["at_server_ms"]
    assert moved["seq"] == played["seq"] + 1
    assert heard == moved
    assert Jam.objects.get().seq == moved["seq"]
