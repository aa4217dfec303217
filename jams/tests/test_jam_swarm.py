"""The issue's swarm: 32 members of one Jam on two uvicorn processes sharing Redis, each
python-socketio client behind an injected one-way network delay (0 to 300 ms, each way) and
with a skewed clock (up to 5 s either way).

Each member syncs its clock as docs/API.md section 8 says (four timestamps over `time_sync`
acks, the lowest-delay of the last eight samples) and reports its round trip. For every
command of the host (play, seek, pause, play, next, and the barrier's resumes) each member
computes when, on its own skewed clock, to start (`at_server_ms - offset`); taken back to
true time, that moment must be within 50 ms of `at_server_ms` (the servers' clock is this
machine's), and the command must have reached the member, after its delay, before then.
Also: the buffering barrier and its timeout, a member joining mid-song, and guests refused
with a clear error."""

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httpx
import socketio

from jams import services
from jams.models import Jam, JamMember
from tests.live_servers import EVENT_TIMEOUT_SECONDS, LiveServer, Sockets, access_token
from users.models import User

MEMBERS = 32
MAX_DELAY_MS = 300
# Each message also waits a random extra of up to this, so no two trips are alike.
JITTER_MS = 20
MAX_SKEW_MS = 5000
TOLERANCE_MS = 50
SAMPLES = 8
BUFFER_TIMEOUT_SECONDS = 2
WAIT_SECONDS = 6
SEED = 24


def true_ms() -> float:
    return time.time() * 1000


class Member:
    """One listener's player: a socket behind a slow network, a clock that is off, and the
    clock sync of the protocol."""

    def __init__(self, user: User, server: LiveServer, *, delay_ms: float, skew_ms: float):
        self.user = user
        self.server = server
        self.delay_ms = delay_ms
        self.skew_ms = skew_ms
        self.jitter = random.Random(user.pk)
        self.client = socketio.AsyncClient(reconnection=False)
        # (event, payload, true time of arrival after the delay)
        self.events: list[tuple[str, Any, float]] = []
        self.samples: deque[tuple[float, float]] = deque(maxlen=SAMPLES)  # (delay, offset)

        @self.client.on("*")
        async def arrive(event: str, *data: Any) -> None:
            if event.startswith("jam_"):
                payload = data[0] if len(data) == 1 else data
                asyncio.get_running_loop().call_later(
                    self.one_way() / 1000, self._record, event, payload
                )

    def one_way(self) -> float:
        """One trip's delay, ms."""
        return self.delay_ms + self.jitter.uniform(0, JITTER_MS)

    def _record(self, event: str, payload: Any) -> None:
        self.events.append((event, payload, true_ms()))

    def clock(self) -> float:
        """This member's clock, off by its skew."""
        return true_ms() + self.skew_ms

    async def connect(self) -> None:
        await self.client.connect(
            self.server.url,
            auth={"token": access_token(self.user)},
            transports=["websocket"],
            wait_timeout=EVENT_TIMEOUT_SECONDS,
        )

    async def call(self, event: str, data: Any) -> Any:
        """Emit with the network's delay there and back; the acknowledgement."""
        await asyncio.sleep(self.one_way() / 1000)
        ack = await self.client.call(event, data, timeout=EVENT_TIMEOUT_SECONDS)
        await asyncio.sleep(self.one_way() / 1000)
        return ack

    @property
    def offset(self) -> float:
        """Server minus this clock, from the lowest-delay sample of the last eight."""
        return min(self.samples)[1]

    @property
    def rtt_ms(self) -> int:
        return round(min(self.samples)[0])

    async def sync(self, jam_id: int) -> None:
        for _ in range(SAMPLES):
            t0 = self.clock()
            data: dict[str, Any] = {"t0": t0, "jam_id": jam_id}
            if self.samples:
                data["rtt_ms"] = self.rtt_ms
            ack = await self.call("time_sync", data)
            t3 = self.clock()
            assert ack["t0"] == t0
            delay = (t3 - t0) - (ack["t2"] - ack["t1"])
            self.samples.append((delay, ((ack["t1"] - t0) + (ack["t2"] - t3)) / 2))
            await asyncio.sleep(0.02)
        await self.call("time_sync", {"t0": self.clock(), "jam_id": jam_id, "rtt_ms": self.rtt_ms})

    def found(self, event: str, match: Callable[[Any], bool]) -> tuple[Any, float] | None:
        for name, payload, arrived in self.events:
            if name == event and match(payload):
                return payload, arrived
        return None

    def start_error_ms(self, command: dict) -> float:
        """When this member starts `command` (its clock: at_server_ms - offset), in true
        time, minus the room's target."""
        local_start = command["at_server_ms"] - self.offset
        return (local_start - self.skew_ms) - command["at_server_ms"]


async def wait_for_all(
    members: list[Member], event: str, match: Callable[[Any], bool], timeout: float = WAIT_SECONDS
) -> list[tuple[Any, float]]:
    """Each member's first `event` matching, waiting up to `timeout` for the last one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [member.found(event, match) for member in members]
        if all(found):
            return found  # type: ignore[return-value]
        await asyncio.sleep(0.01)
    missing = [member.user.pk for member in members if not member.found(event, match)]
    raise AssertionError(f"no {event} within {timeout} s at users {missing}")


async def together(*awaitables: Any, **kwargs: Any) -> list[Any]:
    """asyncio.gather inside the loop that runs it."""
    return await asyncio.gather(*awaitables, **kwargs)


class Swarm:
    def __init__(self, sockets: Sockets, members: list[Member], jam: Jam) -> None:
        self.sockets = sockets
        self.members = members
        self.jam = jam
        self.errors: list[float] = []

    def run(self, awaitable: Any, timeout: float = 30) -> Any:
        return self.sockets.run(awaitable, timeout)

    def heard_in_time(self, members: list[Member], command: dict) -> None:
        """Every member got `command` before its moment and starts it within the tolerance."""
        heard = self.run(
            wait_for_all(members, "jam_command", lambda data: data["seq"] == command["seq"])
        )
        for member, (payload, arrived) in zip(members, heard, strict=True):
            assert payload == command
            assert arrived < command["at_server_ms"], (
                f"user {member.user.pk} (delay {member.delay_ms:.0f} ms) heard seq "
                f"{command['seq']} {arrived - command['at_server_ms']:.0f} ms late"
            )
            error = member.start_error_ms(command)
            self.errors.append(error)
            assert abs(error) <= TOLERANCE_MS, (member.user.pk, member.skew_ms, error)

    def command(self, host: Member, listening: list[Member], **data: Any) -> dict:
        sent = true_ms()
        ack = self.run(host.call("jam_command", {"jam_id": self.jam.pk, **data}))
        assert ack["ok"] is True, ack
        command = ack["command"]
        assert command["action"] == data["action"]
        # Scheduled twice the slowest round trip ahead, from when the server had it.
        slowest = max(
            JamMember.objects.filter(jam=self.jam).values_list("rtt_ms", flat=True), default=0
        )
        lead = min(2000, max(300, 2 * slowest))
        taken = sent + host.delay_ms
        assert lead - 5 <= command["at_server_ms"] - taken <= lead + JITTER_MS + 250, (
            command,
            lead,
        )
        self.heard_in_time(listening, command)
        self.until(command["at_server_ms"] + 100)
        return command

    def until(self, moment_ms: float) -> None:
        self.run(asyncio.sleep(max(0, moment_ms - true_ms()) / 1000))


def test_32_members_on_two_processes_start_every_command_together(
    start_server, sockets, redis_url, make_user, make_song
):
    servers = start_server.many(
        2,
        redis_url=redis_url,
        env={
            "JAM_BUFFER_TIMEOUT_SECONDS": str(BUFFER_TIMEOUT_SECONDS),
            "SOCKETIO_LEGACY_PRESENCE_EVENTS": "false",
        },
    )
    songs = [make_song(title=f"Track {number}") for number in range(4)]
    users = [make_user(full_name=f"Listener {number}") for number in range(MEMBERS)]
    host_user, guests = users[0], users[1:]
    jam = services.jam_create(host=host_user, song_ids=[song.pk for song in songs])
    for guest in guests:
        services.jam_join(user=guest, code=jam.code)

    rng = random.Random(SEED)
    delays = [MAX_DELAY_MS * number / (MEMBERS - 1) for number in range(MEMBERS)]
    rng.shuffle(delays)
    skews = [-MAX_SKEW_MS, MAX_SKEW_MS] + [
        rng.uniform(-MAX_SKEW_MS, MAX_SKEW_MS) for _ in range(MEMBERS - 2)
    ]
    members = [
        Member(user, servers[index % 2], delay_ms=delays[index], skew_ms=skews[index])
        for index, user in enumerate(users)
    ]
    host, late = members[0], members[-1]
    swarm = Swarm(sockets, members, jam)
    try:
        swarm.run(together(*(member.connect() for member in members)))
        swarm.run(together(*(member.sync(jam.pk) for member in members)))
        for _ in range(50):  # the round trips reach the database in the background
            if JamMember.objects.filter(jam=jam, rtt_ms__isnull=False).count() == MEMBERS:
                break
            swarm.run(asyncio.sleep(0.1))
        recorded = dict(JamMember.objects.filter(jam=jam).values_list("user_id", "rtt_ms"))
        for member in members:
            # The measured round trip is the injected one, there and back.
            assert 2 * member.delay_ms <= member.rtt_ms <= 2 * member.delay_ms + 2 * JITTER_MS + 40
            assert abs(recorded[member.user.pk] - member.rtt_ms) <= 5
            # The skew is found to within a few ms.
            assert abs(member.offset + member.skew_ms) <= JITTER_MS, (member.skew_ms, member.offset)

        present = members[:-1]  # the last one joins mid-song
        joins = swarm.run(together(*(m.call("jam_join", {"jam_id": jam.pk}) for m in present)))
        assert all(ack["ok"] for ack in joins), joins

        # --- play, seek, pause, play: every member starts each within the tolerance.
        played = swarm.command(host, present, action="play")
        assert (played["playing"], played["position_ms"]) == (True, 0)
        sought = swarm.command(host, present, action="seek", position_ms=60_000)
        assert (sought["playing"], sought["position_ms"]) == (True, 60_000)
        swarm.until(true_ms() + 300)
        paused = swarm.command(host, present, action="pause")
        assert paused["playing"] is False
        assert 60_000 + 300 <= paused["position_ms"] <= 60_000 + 3000
        replayed = swarm.command(host, present, action="play")
        assert (replayed["playing"], replayed["position_ms"]) == (True, paused["position_ms"])
        swarm.until(true_ms() + 500)

        # --- a member joining mid-song starts where the others are.
        ack = swarm.run(late.call("jam_join", {"jam_id": jam.pk}))
        now = ack["state"]["now"]
        local_now = late.clock()
        position = now["position_ms"] + (local_now + late.offset - now["at_server_ms"])
        truly = replayed["position_ms"] + (local_now - late.skew_ms - replayed["at_server_ms"])
        assert now["seq"] == replayed["seq"]
        assert now["playing"] is True
        assert abs(position - truly) <= TOLERANCE_MS, (position, truly)
        assert position >= replayed["position_ms"] + 400

        everyone = members
        moved = swarm.command(host, everyone, action="next")
        assert moved["item_id"] != replayed["item_id"]
        assert (moved["position_ms"], moved["playing"]) == (0, True)

        # --- the buffering barrier: one member holds everyone; its ready resumes all.
        slow = max(members[1:-1], key=lambda member: member.delay_ms)
        assert swarm.run(slow.call("jam_buffering", {"jam_id": jam.pk})) == {"ok": True}
        holds = swarm.run(
            wait_for_all(everyone, "jam_command", lambda data: data["action"] == "hold")
        )
        hold = holds[0][0]
        assert all(payload == hold for payload, _ in holds)
        assert (hold["playing"], hold["waiting_for"], hold["by"]) == (
            False,
            [slow.user.pk],
            slow.user.pk,
        )
        assert swarm.run(slow.call("jam_ready", {"jam_id": jam.pk})) == {"ok": True}
        resumed = swarm.run(
            wait_for_all(
                everyone,
                "jam_command",
                lambda data: data["action"] == "resume" and data["seq"] == hold["seq"] + 1,
            )
        )[0][0]
        assert (resumed["playing"], resumed["by"]) == (True, slow.user.pk)
        assert resumed["position_ms"] == hold["position_ms"]
        swarm.heard_in_time(everyone, resumed)
        swarm.until(resumed["at_server_ms"] + 300)

        # --- ... and a member never ready is left behind after the timeout.
        stuck = next(m for m in members[1:-1] if m.server is not slow.server)
        held_at = time.monotonic()
        swarm.run(stuck.call("jam_buffering", {"jam_id": jam.pk}))
        hold = swarm.run(
            wait_for_all(everyone, "jam_command", lambda data: data["seq"] == resumed["seq"] + 1)
        )[0][0]
        assert (hold["action"], hold["waiting_for"]) == ("hold", [stuck.user.pk])
        timed_out = swarm.run(
            wait_for_all(
                everyone,
                "jam_command",
                lambda data: data["seq"] == hold["seq"] + 1,
                timeout=BUFFER_TIMEOUT_SECONDS + 4,
            )
        )[0][0]
        waited = time.monotonic() - held_at
        assert (timed_out["action"], timed_out["by"], timed_out["playing"]) == (
            "resume",
            None,
            True,
        )
        assert BUFFER_TIMEOUT_SECONDS <= waited <= BUFFER_TIMEOUT_SECONDS + 3.5, waited
        swarm.heard_in_time(everyone, timed_out)

        # --- guests without rights are refused clearly, and nothing changes.
        seq = Jam.objects.get(pk=jam.pk).seq
        guest = members[5]
        ack = swarm.run(guest.call("jam_command", {"jam_id": jam.pk, "action": "pause"}))
        assert ack == {
            "ok": False,
            "error": {"code": "forbidden", "detail": services.NO_CONTROL},
        }
        item_id = timed_out["item_id"]
        ack = swarm.run(guest.call("jam_queue_remove", {"jam_id": jam.pk, "item_id": item_id}))
        assert ack["error"]["code"] == "forbidden"
        errors = swarm.run(
            wait_for_all([guest], "jam_error", lambda data: data["event"] == "jam_queue_remove")
        )
        assert errors[0][0] == {"event": "jam_queue_remove", **ack["error"]}
        assert guest.found("jam_error", lambda data: data["event"] == "jam_command")[0] == {
            "event": "jam_command",
            "code": "forbidden",
            "detail": services.NO_CONTROL,
        }
        headers = {"Authorization": f"Bearer {access_token(guest.user)}"}
        response = httpx.patch(
            f"{guest.server.url}/api/jams/{jam.pk}/",
            json={"guests_can_control": True},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json()["detail"] == services.HOSTS_ONLY
        response = httpx.delete(
            f"{guest.server.url}/api/jams/{jam.pk}/members/{host.user.pk}/",
            headers=headers,
            timeout=10,
        )
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json()["detail"] == services.HOST_ONLY
        fresh = Jam.objects.get(pk=jam.pk)
        assert (fresh.seq, fresh.playing, fresh.now_item_id) == (seq, True, item_id)
        assert not fresh.guests_can_control
    finally:
        swarm.run(
            together(
                *(m.client.disconnect() for m in members if m.client.connected),
                return_exceptions=True,
            )
        )

    worst = max(abs(error) for error in swarm.errors)
    print(
        f"\nswarm: {len(swarm.errors)} starts, max |start - target| {worst:.1f} ms, "
        f"mean {sum(abs(e) for e in swarm.errors) / len(swarm.errors):.1f} ms"
    )
    assert worst <= TOLERANCE_MS
