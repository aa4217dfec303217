"""Playback and the queue, through the services: what each command schedules, the buffering
barrier, a song's end, the queue's positions, rights and the command limit. The live
Socket.IO side is in test_jam_socket.py and test_jam_swarm.py."""

import pytest

from core.errors import Invalid, NotFound, PermissionDenied, Throttled
from jams import services
from jams.models import Jam, JamItem
from jams.signals import jam_changed, jam_commanded


@pytest.fixture
def commanded():
    """The commands announced (after commit) while the test runs."""
    heard: list[dict] = []

    def listen(sender, *, command, **kwargs) -> None:
        heard.append(command)

    jam_commanded.connect(listen)
    yield heard
    jam_commanded.disconnect(listen)


@pytest.fixture
def changed():
    heard: list[int] = []

    def listen(sender, *, jam_id, **kwargs) -> None:
        heard.append(jam_id)

    jam_changed.connect(listen)
    yield heard
    jam_changed.disconnect(listen)


@pytest.fixture
def room(user, make_user, make_song, settings):
    settings.JAM_COMMANDS_PER_10_SECONDS = 1000
    songs = [make_song(title=f"Track {number}") for number in range(3)]
    jam = services.jam_create(host=user, song_ids=[song.pk for song in songs])
    guest = make_user()
    services.jam_join(user=guest, code=jam.code)
    return jam, guest


def items(jam: Jam) -> list[JamItem]:
    return list(JamItem.objects.filter(jam=jam).order_by("position"))


def fresh(jam: Jam) -> Jam:
    return Jam.objects.get(pk=jam.pk)


def test_play_is_scheduled_ahead_by_the_lead_and_announced_once_committed(
    room, user, commanded, django_capture_on_commit_callbacks
):
    jam, _ = room
    before = services.server_ms()

    with django_capture_on_commit_callbacks(execute=True):
        command = services.command(jam_id=jam.pk, user=user, action="play")
        assert commanded == []

    assert commanded == [command.as_payload()]
    assert command.playing is True
    assert command.item_id == items(jam)[0].pk
    assert command.position_ms == 0
    assert before + 300 <= command.at_server_ms <= services.server_ms() + 300
    assert command.seq == fresh(jam).seq == 1


def test_the_lead_is_twice_the_slowest_members_round_trip_within_bounds(room, user, settings):
    jam, guest = room
    services.report_rtt(jam_id=jam.pk, user=guest, rtt_ms=400)
    assert services.lead_ms(fresh(jam)) == 800
    services.report_rtt(jam_id=jam.pk, user=guest, rtt_ms=5000)
    assert services.lead_ms(fresh(jam)) == settings.JAM_MAX_LEAD_MS
    services.report_rtt(jam_id=jam.pk, user=guest, rtt_ms=10)
    assert services.lead_ms(fresh(jam)) == settings.JAM_MIN_LEAD_MS


def test_pause_holds_the_position_reached_at_its_moment(room, user):
    jam, _ = room
    play = services.command(jam_id=jam.pk, user=user, action="play", position_ms=10_000)
    paused = services.command(jam_id=jam.pk, user=user, action="pause")

    expected = 10_000 + (paused.at_server_ms - play.at_server_ms)
    assert abs(paused.position_ms - expected) <= 1
    assert paused.playing is False


def test_seek_next_previous_and_jump(room, user):
    jam, _ = room
    first, second, third = items(jam)
    services.command(jam_id=jam.pk, user=user, action="play")

    seek = services.command(jam_id=jam.pk, user=user, action="seek", position_ms=42_000)
    following = services.command(jam_id=jam.pk, user=user, action="next")
    back = services.command(jam_id=jam.pk, user=user, action="previous")
    jump = services.command(jam_id=jam.pk, user=user, action="jump", item_id=third.pk)

    assert (seek.item_id, seek.position_ms, seek.playing) == (first.pk, 42_000, True)
    assert (following.item_id, following.position_ms) == (second.pk, 0)
    assert back.item_id == first.pk  # within the first seconds: the song before
    assert (jump.item_id, jump.position_ms) == (third.pk, 0)
    with pytest.raises(Invalid, match=services.NO_NEXT):
        services.command(jam_id=jam.pk, user=user, action="next")
    assert [jump.seq] == [fresh(jam).seq]


def test_previous_past_a_few_seconds_restarts_the_song(room, user):
    jam, _ = room
    second = items(jam)[1]
    services.command(jam_id=jam.pk, user=user, action="jump", item_id=second.pk)
    services.command(jam_id=jam.pk, user=user, action="seek", position_ms=60_000)

    back = services.command(jam_id=jam.pk, user=user, action="previous")

    assert (back.item_id, back.position_ms) == (second.pk, 0)


@pytest.mark.parametrize(
    ("action", "fields", "error"),
    [
        ("seek", {}, Invalid),
        ("jump", {}, Invalid),
        ("jump", {"item_id": 10**9}, NotFound),
    ],
)
def test_an_incomplete_command_changes_nothing(room, user, action, fields, error):
    jam, _ = room

    with pytest.raises(error):
        services.command(jam_id=jam.pk, user=user, action=action, **fields)

    assert fresh(jam).seq == 0


def test_a_guest_controls_only_when_allowed(room, user):
    jam, guest = room

    with pytest.raises(PermissionDenied, match=services.NO_CONTROL):
        services.command(jam_id=jam.pk, user=guest, action="play")
    assert fresh(jam).seq == 0

    services.jam_update(jam_id=jam.pk, user=user, guests_can_control=True)
    assert services.command(jam_id=jam.pk, user=guest, action="play").by == guest.pk


def test_an_outsider_is_told_the_jam_does_not_exist(room, make_user):
    jam, _ = room

    with pytest.raises(NotFound):
        services.command(jam_id=jam.pk, user=make_user(), action="play")


def test_a_flood_of_commands_is_refused_past_the_limit(room, user, settings):
    jam, _ = room
    settings.JAM_COMMANDS_PER_10_SECONDS = 3
    for _ in range(3):
        services.command(jam_id=jam.pk, user=user, action="seek", position_ms=1000)

    with pytest.raises(Throttled, match=services.TOO_FAST):
        services.command(jam_id=jam.pk, user=user, action="seek", position_ms=2000)

    assert fresh(jam).seq == 3
    assert fresh(jam).position_ms == 1000


def test_the_buffering_barrier_holds_then_resumes_when_all_are_ready(room, user, make_user):
    jam, guest = room
    third = make_user()
    services.jam_join(user=third, code=jam.code)
    play = services.command(jam_id=jam.pk, user=user, action="play")

    hold = services.buffering(jam_id=jam.pk, user=guest)
    again = services.buffering(jam_id=jam.pk, user=third)
    first_ready = services.ready(jam_id=jam.pk, user=guest)
    resume = services.ready(jam_id=jam.pk, user=third)

    assert hold.action == "hold"
    assert hold.playing is False
    assert hold.waiting_for == [guest.pk]
    assert hold.at_server_ms <= services.server_ms()  # at once, not ahead
    assert again is None  # one hold ...
    assert first_ready is None  # ... and one resume
    assert resume.action == "resume"
    assert resume.playing is True
    assert resume.position_ms == hold.position_ms  # from where it held
    assert resume.at_server_ms > services.server_ms()
    assert play.seq < hold.seq < resume.seq


def test_a_hold_past_its_timeout_resumes_without_the_slow_member(room, user, settings):
    jam, guest = room
    services.command(jam_id=jam.pk, user=user, action="play")
    services.buffering(jam_id=jam.pk, user=guest)

    settings.JAM_BUFFER_TIMEOUT_SECONDS = 60
    assert services.resume_overdue() == []
    settings.JAM_BUFFER_TIMEOUT_SECONDS = 0
    (resumed,) = services.resume_overdue()

    assert (resumed.action, resumed.playing, resumed.by) == ("resume", True, None)
    assert fresh(jam).waiting_for == []


def test_buffering_while_paused_holds_nothing(room):
    jam, member = room

    assert services.buffering(jam_id=jam.pk, user=member) is None
    assert fresh(jam).waiting_for == []


def test_the_first_report_of_a_songs_end_moves_on_once(room, user):
    jam, guest = room
    first, second, third = items(jam)
    services.command(jam_id=jam.pk, user=user, action="play")

    moved = services.ended(jam_id=jam.pk, user=guest, item_id=first.pk)
    late = services.ended(jam_id=jam.pk, user=user, item_id=first.pk)

    assert (moved.action, moved.item_id, moved.position_ms, moved.by) == (
        "ended",
        second.pk,
        0,
        None,
    )
    assert late is None
    services.command(jam_id=jam.pk, user=user, action="jump", item_id=third.pk)
    done = services.ended(jam_id=jam.pk, user=user, item_id=third.pk)
    assert (done.item_id, done.playing) == (third.pk, False)  # the queue is done


def test_the_queue_keeps_contiguous_positions_and_who_added(
    room, user, make_song, changed, django_capture_on_commit_callbacks
):
    jam, guest = room
    extra = make_song(title="Extra")

    with django_capture_on_commit_callbacks(execute=True):
        services.queue_add(jam_id=jam.pk, user=guest, song_ids=[extra.pk])
        added = items(jam)[-1]
        services.queue_move(jam_id=jam.pk, user=user, item_id=added.pk, position=0)
        services.queue_remove(jam_id=jam.pk, user=user, item_id=items(jam)[2].pk)

    after = items(jam)
    assert [item.position for item in after] == [0, 1, 2]
    assert after[0].pk == added.pk
    assert after[0].added_by_id == guest.pk
    assert changed.count(jam.pk) == 3


def test_removing_the_song_playing_moves_on_to_the_next(
    room, user, commanded, django_capture_on_commit_callbacks
):
    jam, _ = room
    first, second, _third = items(jam)
    services.command(jam_id=jam.pk, user=user, action="play")

    with django_capture_on_commit_callbacks(execute=True):
        services.queue_remove(jam_id=jam.pk, user=user, item_id=first.pk)

    assert fresh(jam).now_item_id == second.pk
    assert commanded[-1]["item_id"] == second.pk


def test_guests_add_only_when_allowed_and_move_only_with_control(room, user, make_song):
    jam, guest = room
    song = make_song(title="Another")
    services.jam_update(jam_id=jam.pk, user=user, guests_can_add=False)

    with pytest.raises(PermissionDenied, match=services.NO_ADDING):
        services.queue_add(jam_id=jam.pk, user=guest, song_ids=[song.pk])
    with pytest.raises(PermissionDenied):
        services.queue_move(jam_id=jam.pk, user=guest, item_id=items(jam)[0].pk, position=1)
    assert len(items(jam)) == 3


def test_a_bad_queue_edit_writes_nothing(room, user):
    jam, _ = room

    with pytest.raises(NotFound):
        services.queue_add(jam_id=jam.pk, user=user, song_ids=[10**9])
    with pytest.raises(Invalid):
        services.queue_move(jam_id=jam.pk, user=user, item_id=items(jam)[0].pk, position=3)
    with pytest.raises(Invalid):
        services.queue_add(jam_id=jam.pk, user=user)

    assert [item.position for item in items(jam)] == [0, 1, 2]


def test_a_member_joining_mid_song_reads_where_the_room_is(room, user, make_user):
    jam, _ = room
    play = services.command(jam_id=jam.pk, user=user, action="play", position_ms=30_000)
    later = play.at_server_ms + 12_345

    assert services.position_at(fresh(jam), later) == 42_345


def test_presence_shows_the_jam_line(room, user):
    from jams.selectors import now_playing_text

    jam, guest = room
    services.command(jam_id=jam.pk, user=user, action="play")

    text, user_ids = now_playing_text(jam.pk)

    assert text == "In a Jam: 2 listening to Track 0 by John Coltrane"
    assert sorted(user_ids) == sorted([user.pk, guest.pk])


@pytest.fixture
def activities():
    from users.signals import activity_changed

    heard: list[tuple[int, str]] = []

    def listen(sender, *, user_id, activity, **kwargs) -> None:
        heard.append((user_id, activity))

    activity_changed.connect(listen)
    yield heard
    activity_changed.disconnect(listen)


def test_presence_changes_with_the_song_and_the_listeners_not_with_every_command(
    room, user, make_user, activities, django_capture_on_commit_callbacks
):
    jam, guest = room
    newcomer = make_user()

    with django_capture_on_commit_callbacks(execute=True):
        services.command(jam_id=jam.pk, user=user, action="play")
        services.command(jam_id=jam.pk, user=user, action="seek", position_ms=9000)
    assert activities == []  # the same song, the same listeners

    with django_capture_on_commit_callbacks(execute=True):
        services.jam_join(user=newcomer, code=jam.code)
    assert set(activities) == {
        (member.pk, "In a Jam: 3 listening to Track 0 by John Coltrane")
        for member in (user, guest, newcomer)
    }

    activities.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.command(jam_id=jam.pk, user=user, action="next")
        services.member_remove(jam_id=jam.pk, user=newcomer, member_user_id=newcomer.pk)
    assert (newcomer.pk, "Idle") in activities
    assert (guest.pk, "In a Jam: 2 listening to Track 1 by John Coltrane") in activities


def test_a_jam_with_sockets_stays_open_and_one_without_closes(room, make_user, settings):
    from datetime import timedelta

    from django.utils import timezone

    jam, _ = room
    other = services.jam_create(host=make_user())
    long_ago = timezone.now() - timedelta(seconds=settings.JAM_IDLE_SECONDS + 1)
    Jam.objects.update(last_active_at=long_ago)

    services.touch([jam.pk])  # a socket is in this one
    closed = services.close_idle()

    assert closed == [other.pk]
    assert fresh(jam).closed_at is None


def test_a_hold_within_a_seeks_lead_stops_at_the_seeks_target(room, user):
    jam, guest = room
    services.command(jam_id=jam.pk, user=user, action="play")
    services.command(jam_id=jam.pk, user=user, action="seek", position_ms=60_000)

    hold = services.buffering(jam_id=jam.pk, user=guest)  # before the seek's moment

    assert hold.position_ms == 60_000


def test_a_quiet_members_old_round_trip_no_longer_stretches_the_lead(room, user, settings):
    from jams.models import JamMember

    jam, guest = room
    services.report_rtt(jam_id=jam.pk, user=guest, rtt_ms=900)
    assert services.lead_ms(fresh(jam)) == 1800
    JamMember.objects.filter(user=guest).update(
        rtt_reported_at=services.timezone.now() - services.RTT_FRESH * 2
    )

    assert services.lead_ms(fresh(jam)) == settings.JAM_MIN_LEAD_MS


def test_an_incomplete_command_does_not_use_up_the_limit(room, user, settings):
    jam, _ = room
    settings.JAM_COMMANDS_PER_10_SECONDS = 1
    with pytest.raises(Invalid):
        services.command(jam_id=jam.pk, user=user, action="seek")

    assert services.command(jam_id=jam.pk, user=user, action="play").seq == 1
