"""Every write to a Jam: rooms and members, the shared queue, and playback.

Each write locks the Jam's row first (`SELECT ... FOR UPDATE`), so the writes to one room
run one after the other whichever server process takes them, and the queue's positions stay
0..n-1 (items shift through a parking range, as playlists' do: library/services.py).
What changed is announced after commit (jams/signals.py); nothing here knows Socket.IO.

Playback is a reference point (`Jam.now_item`, `position_ms`, `playing`, `at_server_ms`): a
command sets where the room will be at a moment a little ahead, so that every member hears of
it before it happens (`lead_ms`).
"""

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone

from catalog.models import Album, Song
from catalog.selectors.albums import ALBUM_NOT_FOUND, TRACK_ORDER
from catalog.selectors.songs import SONG_NOT_FOUND
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.throttle import Rate, hit_or_refuse
from jams.models import CODE_LENGTH, MAX_MEMBERS, Jam, JamItem, JamMember, Role
from jams.selectors import JAM_NOT_FOUND, now_playing_text
from jams.signals import jam_changed, jam_commanded, jam_ended
from library.selectors import playlist_song_ids
from users.models import User
from users.signals import activity_changed

ALREADY_IN_A_JAM = "You are already in a Jam: leave it first."
CODE_UNKNOWN = "No open Jam has this code."
JAM_FULL = f"This Jam is full ({MAX_MEMBERS} listeners)."
REMOVED = "The host removed you from this Jam."
HOST_ONLY = "Only the Jam's host may do this."
HOSTS_ONLY = "Only the Jam's host or a co-host may do this."
NO_CONTROL = "Only the host and co-hosts control playback in this Jam."
NO_ADDING = "Only the host and co-hosts add songs in this Jam."
NOT_A_MEMBER = "No member of this Jam has this id."
HOST_ROLE = "The host's role cannot change: close the Jam instead."
ITEM_NOT_FOUND = "No item of this Jam's queue has this id."
NO_NEXT = "There is no next song in the queue."
QUEUE_EMPTY = "The queue is empty: add a song first."
QUEUE_FULL = "A Jam's queue holds at most {limit:,} songs."
ONE_SOURCE = "Give at most one of song_ids, album_id and playlist_id."
NOTHING_TO_ADD = "Give song_ids, album_id or playlist_id."
POSITION_PAST_END = "The queue has {count} songs: an item can go at positions 0 to {last}."
TOO_FAST = "You are changing the Jam too fast. Wait a moment and try again."

MAX_QUEUE = 1000
MAX_ADD = 500
# Code letters without look-alikes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Far above any position, far below the column's limit (as library/services.py).
SHIFT = 1_000_000_000
# How long a member's reported round trip counts for scheduling (members sync every ten
# seconds: docs/API.md section 8).
RTT_FRESH = timedelta(seconds=60)
# "previous" restarts the song past this point, as players do; before it, the song before.
RESTART_AFTER_MS = 3000

# A listener's activity when not doing anything in particular (docs/API.md section 8).
IDLE = "Idle"

ACTIONS = ("play", "pause", "seek", "next", "previous", "jump")


def server_ms() -> int:
    """The server's clock, Unix milliseconds: the clock of every `at_server_ms`."""
    return int(time.time() * 1000)


def _commands_rate() -> Rate:
    return Rate("jam_commands", settings.JAM_COMMANDS_PER_10_SECONDS, 10)


# --- rooms and members -------------------------------------------------------------------


def _open_jam_of(user: User) -> Jam | None:
    return (
        Jam.objects.filter(
            closed_at__isnull=True, members__user=user, members__removed_at__isnull=True
        )
        .order_by("-id")
        .first()
    )


def _refuse_if_in_a_jam(user: User, *, except_jam_id: int | None = None) -> None:
    current = _open_jam_of(user)
    if current is not None and current.pk != except_jam_id:
        if _close_if_idle(current):
            return
        raise Conflict(ALREADY_IN_A_JAM)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _songs_of_source(
    *,
    user: User,
    song_ids: Sequence[int] | None,
    album_id: int | None,
    playlist_id: int | None,
) -> list[int]:
    """The song ids a queue starts from or grows by, in order; NotFound for an unknown one."""
    if sum(source is not None for source in (song_ids, album_id, playlist_id)) > 1:
        raise Invalid.of_items({"loc": ["body"], "msg": ONE_SOURCE, "type": "value_error"})
    if song_ids is not None:
        known = set(Song.objects.filter(pk__in=set(song_ids)).values_list("pk", flat=True))
        if len(known) != len(set(song_ids)):
            raise NotFound(SONG_NOT_FOUND)
        return list(song_ids)
    if album_id is not None:
        if not Album.objects.filter(pk=album_id).exists():
            raise NotFound(ALBUM_NOT_FOUND)
        return list(
            Song.objects.filter(album_id=album_id)
            .order_by(*TRACK_ORDER)
            .values_list("pk", flat=True)[:MAX_ADD]
        )
    if playlist_id is not None:  # NotFound unless visible; a smart one's songs as of now
        return playlist_song_ids(playlist_id=playlist_id, user=user, limit=MAX_ADD)
    return []


def jam_create(
    *,
    host: User,
    song_ids: Sequence[int] | None = None,
    album_id: int | None = None,
    playlist_id: int | None = None,
    guests_can_control: bool = False,
    guests_can_add: bool = True,
) -> Jam:
    """A new Jam hosted by `host`, its queue started from the source given (if any), paused
    at the start of the first song."""
    songs = _songs_of_source(
        user=host, song_ids=song_ids, album_id=album_id, playlist_id=playlist_id
    )
    with transaction.atomic():
        _refuse_if_in_a_jam(host)
        for _attempt in range(5):  # a code already taken: draw again
            try:
                with transaction.atomic():
                    jam = Jam.objects.create(
                        code=_new_code(),
                        host=host,
                        guests_can_control=guests_can_control,
                        guests_can_add=guests_can_add,
                        at_server_ms=server_ms(),
                    )
                break
            except IntegrityError:
                continue
        else:
            raise Conflict("No free Jam code was found; try again.")
        JamMember.objects.create(jam=jam, user=host, role=Role.HOST)
        _append(jam, songs, start=0, added_by=host)
        if songs:
            jam.now_item = JamItem.objects.get(jam=jam, position=0)
            jam.save(update_fields=["now_item"])
    return jam


def normalized_code(code: str) -> str:
    return "".join(code.split()).upper()


def jam_join(*, user: User, code: str) -> Jam:
    """`user` joins the open Jam with `code` as a guest (a member already: nothing changes)."""
    with transaction.atomic():
        jam = (
            Jam.objects.select_for_update()
            .filter(code=normalized_code(code), closed_at__isnull=True)
            .first()
        )
        if jam is None or _close_if_idle(jam):
            raise NotFound(CODE_UNKNOWN)
        member = JamMember.objects.filter(jam=jam, user=user).first()
        if member is not None and member.removed_at is not None:
            raise PermissionDenied(REMOVED)
        if member is not None:
            return jam
        _refuse_if_in_a_jam(user, except_jam_id=jam.pk)
        if JamMember.objects.filter(jam=jam, removed_at__isnull=True).count() >= MAX_MEMBERS:
            raise Conflict(JAM_FULL)
        JamMember.objects.create(jam=jam, user=user, role=Role.GUEST)
        _announce_state(jam, members_changed=True)
    return jam


def _locked(jam_id: int, user: User) -> tuple[Jam, JamMember]:
    """The open Jam `jam_id` locked until the transaction ends, and the caller's
    membership; NotFound for an unknown or closed Jam or one the caller is not in."""
    jam = Jam.objects.select_for_update().filter(pk=jam_id, closed_at__isnull=True).first()
    member = (
        JamMember.objects.filter(jam_id=jam_id, user=user, removed_at__isnull=True).first()
        if jam is not None
        else None
    )
    if jam is None or member is None:
        raise NotFound(JAM_NOT_FOUND)
    return jam, member


def _require_host(member: JamMember) -> None:
    if member.role != Role.HOST:
        raise PermissionDenied(HOST_ONLY)


def _require_hosts(member: JamMember) -> None:
    if member.role not in (Role.HOST, Role.COHOST):
        raise PermissionDenied(HOSTS_ONLY)


def _require_control(jam: Jam, member: JamMember) -> None:
    if member.role == Role.GUEST and not jam.guests_can_control:
        raise PermissionDenied(NO_CONTROL)


def _require_adding(jam: Jam, member: JamMember) -> None:
    if member.role == Role.GUEST and not jam.guests_can_add:
        raise PermissionDenied(NO_ADDING)


@transaction.atomic
def jam_update(
    *,
    jam_id: int,
    user: User,
    guests_can_control: bool | None = None,
    guests_can_add: bool | None = None,
) -> Jam:
    jam, member = _locked(jam_id, user)
    _require_hosts(member)
    if guests_can_control is not None:
        jam.guests_can_control = guests_can_control
    if guests_can_add is not None:
        jam.guests_can_add = guests_can_add
    jam.save(update_fields=["guests_can_control", "guests_can_add"])
    _announce_state(jam)
    return jam


def _present_member(jam: Jam, user_id: int) -> JamMember:
    """The member `user_id` is in `jam` (not removed); NotFound otherwise."""
    target = JamMember.objects.filter(jam=jam, user_id=user_id, removed_at__isnull=True).first()
    if target is None:
        raise NotFound(NOT_A_MEMBER)
    return target


@transaction.atomic
def member_set_role(*, jam_id: int, user: User, member_user_id: int, role: str) -> Jam:
    jam, member = _locked(jam_id, user)
    _require_host(member)
    target = _present_member(jam, member_user_id)
    if target.role == Role.HOST:
        raise Conflict(HOST_ROLE)
    target.role = role
    target.save(update_fields=["role"])
    _announce_state(jam)
    return jam


@transaction.atomic
def member_remove(*, jam_id: int, user: User, member_user_id: int) -> None:
    """A member leaves (`member_user_id` is the caller), or the host removes one, who may
    not join again. The host leaving closes the Jam."""
    jam, member = _locked(jam_id, user)
    if member_user_id != user.pk:
        _require_host(member)
    target = _present_member(jam, member_user_id)
    if target.role == Role.HOST:
        _close(jam, reason="host_left")
        return
    if member_user_id == user.pk:
        target.delete()
    else:
        target.removed_at = timezone.now()
        target.save(update_fields=["removed_at"])
    _forget_waiting(jam, member_user_id)
    transaction.on_commit(
        lambda: jam_ended.send(
            sender=Jam, jam_id=jam.pk, reason="removed", user_ids=[member_user_id]
        )
    )
    _announce_idle([member_user_id])
    _announce_state(jam, members_changed=True)


@transaction.atomic
def jam_close(*, jam_id: int, user: User) -> None:
    jam, member = _locked(jam_id, user)
    _require_host(member)
    _close(jam, reason="closed")


@transaction.atomic
def jam_close_by_staff(*, jam_id: int) -> bool:
    """A moderator closes a Jam (the admin); whether it was open."""
    jam = Jam.objects.select_for_update().filter(pk=jam_id, closed_at__isnull=True).first()
    if jam is None:
        return False
    _close(jam, reason="closed")
    return True


def _close(jam: Jam, *, reason: str) -> None:
    jam.closed_at = timezone.now()
    jam.playing = False
    jam.save(update_fields=["closed_at", "playing"])
    user_ids = list(
        JamMember.objects.filter(jam=jam, removed_at__isnull=True).values_list("user_id", flat=True)
    )
    transaction.on_commit(
        lambda: jam_ended.send(sender=Jam, jam_id=jam.pk, reason=reason, user_ids=user_ids)
    )
    _announce_idle(user_ids)


def _idle_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.JAM_IDLE_SECONDS)


def _close_if_idle(jam: Jam) -> bool:
    """Close `jam` if no socket was in it for JAM_IDLE_SECONDS; whether it was."""
    if jam.closed_at is None and jam.last_active_at < _idle_before():
        _close(jam, reason="idle")
        return True
    return jam.closed_at is not None


def touch(jam_ids: Sequence[int]) -> None:
    """Sockets are in these Jams now: they stay open. A row is written at most once in a
    tenth of the idle time, not at every sweep."""
    if jam_ids:
        now = timezone.now()
        Jam.objects.filter(
            pk__in=jam_ids,
            closed_at__isnull=True,
            last_active_at__lt=now - timedelta(seconds=settings.JAM_IDLE_SECONDS / 10),
        ).update(last_active_at=now)


def close_idle() -> list[int]:
    """Close every open Jam no socket was in for JAM_IDLE_SECONDS; their ids."""
    closed = []
    for jam_id in Jam.objects.filter(
        closed_at__isnull=True, last_active_at__lt=_idle_before()
    ).values_list("pk", flat=True):
        with transaction.atomic():
            jam = Jam.objects.select_for_update().get(pk=jam_id)
            if _close_if_idle(jam) and jam.closed_at is not None:
                closed.append(jam_id)
    return closed


def report_rtt(*, jam_id: int, user: User, rtt_ms: int) -> None:
    """A member's round trip to the server, which commands are scheduled by; written when it
    moved by more than a few ms or its last report is aging, so a member syncing every few
    seconds writes seldom."""
    now = timezone.now()
    JamMember.objects.filter(jam_id=jam_id, user=user, removed_at__isnull=True).filter(
        Q(rtt_ms__isnull=True)
        | Q(rtt_ms__lt=rtt_ms - 5)
        | Q(rtt_ms__gt=rtt_ms + 5)
        | Q(rtt_reported_at__lt=now - RTT_FRESH / 2)
    ).update(rtt_ms=rtt_ms, rtt_reported_at=now)


# --- the queue ------------------------------------------------------------------------------


def _move(jam: Jam, low: int, high: int, position: Combinable) -> None:
    """Give the items at positions low..high the new `position` (an expression of their own
    F("position")), through the parking range above SHIFT."""
    if low > high:
        return
    items = JamItem.objects.filter(jam=jam)
    items.filter(position__gte=low, position__lte=high).update(position=position + SHIFT)
    items.filter(position__gte=SHIFT).update(position=F("position") - SHIFT)


def _append(jam: Jam, song_ids: Sequence[int], *, start: int, added_by: User) -> None:
    if start + len(song_ids) > MAX_QUEUE:
        raise Invalid("song_ids", QUEUE_FULL.format(limit=MAX_QUEUE))
    JamItem.objects.bulk_create(
        JamItem(jam=jam, song_id=song_id, position=start + offset, added_by=added_by)
        for offset, song_id in enumerate(song_ids)
    )


def _count(jam: Jam) -> int:
    return JamItem.objects.filter(jam=jam).count()


def _hit(user: User) -> None:
    hit_or_refuse(_commands_rate(), str(user.pk), detail=TOO_FAST)


@transaction.atomic
def queue_add(
    *,
    jam_id: int,
    user: User,
    song_ids: Sequence[int] | None = None,
    album_id: int | None = None,
    playlist_id: int | None = None,
) -> Jam:
    """Append the source's songs, in order, at the end of the queue."""
    jam, member = _locked(jam_id, user)
    _require_adding(jam, member)
    _hit(user)
    songs = _songs_of_source(
        user=user, song_ids=song_ids, album_id=album_id, playlist_id=playlist_id
    )
    if not songs:
        raise Invalid.of_items({"loc": ["body"], "msg": NOTHING_TO_ADD, "type": "value_error"})
    _append(jam, songs, start=_count(jam), added_by=user)
    if jam.now_item_id is None:
        jam.now_item = JamItem.objects.get(jam=jam, position=0)
        jam.position_ms, jam.playing, jam.at_server_ms = 0, False, server_ms()
        jam.save(update_fields=["now_item", "position_ms", "playing", "at_server_ms"])
    _announce_state(jam)
    return jam


def _item(jam: Jam, item_id: int) -> JamItem:
    item = JamItem.objects.filter(jam=jam, pk=item_id).first()
    if item is None:
        raise NotFound(ITEM_NOT_FOUND)
    return item


@transaction.atomic
def queue_remove(*, jam_id: int, user: User, item_id: int) -> Jam:
    """Take out an item; the ones after it move up. The song playing moves on to the next."""
    jam, member = _locked(jam_id, user)
    _require_control(jam, member)
    _hit(user)
    item = _item(jam, item_id)
    count = _count(jam)
    was_playing_it = jam.now_item_id == item.pk
    item.delete()
    _move(jam, item.position + 1, count - 1, F("position") - 1)
    if was_playing_it:
        following = (
            JamItem.objects.filter(jam=jam, position=min(item.position, count - 2)).first()
            if count > 1
            else None
        )
        _schedule(jam, "next", by=user, item=following, position_ms=0, playing=jam.playing)
    _announce_state(jam)
    return jam


@transaction.atomic
def queue_move(*, jam_id: int, user: User, item_id: int, position: int) -> Jam:
    jam, member = _locked(jam_id, user)
    _require_control(jam, member)
    _hit(user)
    item = _item(jam, item_id)
    count = _count(jam)
    if position >= count:
        raise Invalid("position", POSITION_PAST_END.format(count=count, last=max(count - 1, 0)))
    if position != item.position:
        step = -1 if item.position < position else 1
        new_position = Case(
            When(position=item.position, then=Value(position)),
            default=F("position") + step,
        )
        _move(jam, min(item.position, position), max(item.position, position), new_position)
        _announce_state(jam)
    return jam


# --- playback -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """Where the room will be at `at_server_ms`: what `jam_command` carries."""

    jam_id: int
    seq: int
    action: str
    by: int | None
    item_id: int | None
    position_ms: int
    playing: bool
    at_server_ms: int
    waiting_for: list[int]

    def as_payload(self) -> dict[str, Any]:
        return dict(self.__dict__)


def position_at(jam: Jam, moment_ms: int) -> int:
    """Where `jam` is (ms into its item) at the server's `moment_ms`. A moment before the
    reference point counts as that point: the command is given, every member will be there
    (a hold or a pause within a seek's lead stops at the seek's target, not short of it)."""
    if not jam.playing:
        return jam.position_ms
    return jam.position_ms + max(0, moment_ms - jam.at_server_ms)


def lead_ms(jam: Jam) -> int:
    """How far ahead a command is scheduled: twice the slowest member's recent round trip
    (a member gone quiet no longer counts), at least JAM_MIN_LEAD_MS, at most
    JAM_MAX_LEAD_MS."""
    slowest = (
        JamMember.objects.filter(
            jam=jam, removed_at__isnull=True, rtt_reported_at__gte=timezone.now() - RTT_FRESH
        ).aggregate(Max("rtt_ms"))["rtt_ms__max"]
        or 0
    )
    return min(settings.JAM_MAX_LEAD_MS, max(settings.JAM_MIN_LEAD_MS, 2 * slowest))


def _schedule(
    jam: Jam,
    action: str,
    *,
    by: User | None,
    item: JamItem | bool | None = True,
    position_ms: int,
    playing: bool,
    at_ms: int | None = None,
) -> Command:
    """Set the room's reference point (`item` True: the same item) and announce it."""
    item_before = jam.now_item_id
    if item is not True:
        jam.now_item = item or None
    jam.position_ms = max(0, position_ms)
    jam.playing = playing and jam.now_item_id is not None
    jam.at_server_ms = at_ms if at_ms is not None else server_ms() + lead_ms(jam)
    jam.seq += 1
    jam.save(
        update_fields=[
            "now_item",
            "position_ms",
            "playing",
            "at_server_ms",
            "seq",
            "waiting_for",
            "held_since_ms",
        ]
    )
    command = Command(
        jam_id=jam.pk,
        seq=jam.seq,
        action=action,
        by=by.pk if by is not None else None,
        item_id=jam.now_item_id,
        position_ms=jam.position_ms,
        playing=jam.playing,
        at_server_ms=jam.at_server_ms,
        waiting_for=list(jam.waiting_for),
    )
    transaction.on_commit(
        lambda: jam_commanded.send(sender=Jam, jam_id=jam.pk, command=command.as_payload())
    )
    if jam.now_item_id != item_before:  # presence names the song
        _announce_activity(jam)
    return command


def _item_at(jam: Jam, position: int) -> JamItem | None:
    return JamItem.objects.filter(jam=jam, position=position).first()


def _current_position(jam: Jam) -> int | None:
    if jam.now_item_id is None:
        return None
    return JamItem.objects.filter(pk=jam.now_item_id).values_list("position", flat=True).first()


@transaction.atomic
def command(
    *,
    jam_id: int,
    user: User,
    action: str,
    position_ms: int | None = None,
    item_id: int | None = None,
) -> Command:
    """play, pause, seek, next, previous or jump, scheduled `lead_ms` ahead."""
    jam, member = _locked(jam_id, user)
    _require_control(jam, member)
    if action == "seek" and position_ms is None:
        raise Invalid("position_ms", "A seek needs position_ms.")
    if action == "jump" and item_id is None:
        raise Invalid("item_id", "A jump needs item_id.")
    if jam.now_item_id is None and action != "jump":
        raise Invalid.of_items({"loc": ["body"], "msg": QUEUE_EMPTY, "type": "value_error"})
    _hit(user)
    at = server_ms() + lead_ms(jam)
    here = position_at(jam, at)
    jam.waiting_for, jam.held_since_ms = [], None  # a command ends any hold
    if action == "play":
        return _schedule(
            jam, action, by=user, position_ms=_given(position_ms, here), playing=True, at_ms=at
        )
    if action == "pause":
        return _schedule(
            jam, action, by=user, position_ms=_given(position_ms, here), playing=False, at_ms=at
        )
    if action == "seek":
        return _schedule(
            jam, action, by=user, position_ms=position_ms or 0, playing=jam.playing, at_ms=at
        )
    if action == "jump":
        return _schedule(
            jam,
            action,
            by=user,
            item=_item(jam, item_id),
            position_ms=position_ms or 0,
            playing=jam.playing,
            at_ms=at,
        )
    current = _current_position(jam) or 0
    if action == "next":
        following = _item_at(jam, current + 1)
        if following is None:
            raise Invalid.of_items({"loc": ["body"], "msg": NO_NEXT, "type": "value_error"})
        return _schedule(
            jam, action, by=user, item=following, position_ms=0, playing=jam.playing, at_ms=at
        )
    # previous: the song before, unless this one has played a few seconds (then its start).
    earlier = _item_at(jam, current - 1) if current > 0 and here <= RESTART_AFTER_MS else None
    return _schedule(
        jam,
        action,
        by=user,
        item=earlier or True,
        position_ms=0,
        playing=jam.playing,
        at_ms=at,
    )


def _given(position_ms: int | None, here: int) -> int:
    return here if position_ms is None else position_ms


@transaction.atomic
def ended(*, jam_id: int, user: User, item_id: int) -> Command | None:
    """A member's player finished `item_id`: the first such report moves the room on; a
    report for an item no longer playing changes nothing (None)."""
    jam, _member = _locked(jam_id, user)
    if jam.now_item_id != item_id or not jam.playing:
        return None
    current = _current_position(jam) or 0
    following = _item_at(jam, current + 1)
    jam.waiting_for, jam.held_since_ms = [], None
    if following is None:  # the queue is done: stop at the start of the last song
        return _schedule(jam, "ended", by=None, position_ms=0, playing=False)
    return _schedule(jam, "ended", by=None, item=following, position_ms=0, playing=True)


@transaction.atomic
def buffering(*, jam_id: int, user: User) -> Command | None:
    """A member waits for data. While playing, the room holds where it is, at once, until
    every member waited for is ready (or JAM_BUFFER_TIMEOUT_SECONDS pass)."""
    jam, _member = _locked(jam_id, user)
    if user.pk in jam.waiting_for:
        return None
    if not jam.playing and jam.held_since_ms is None:
        return None  # paused: nothing to hold
    jam.waiting_for = [*jam.waiting_for, user.pk]
    if jam.held_since_ms is not None:  # held already: one more to wait for
        jam.save(update_fields=["waiting_for"])
        return None
    now = server_ms()
    jam.held_since_ms = now
    return _schedule(
        jam, "hold", by=user, position_ms=position_at(jam, now), playing=False, at_ms=now
    )


@transaction.atomic
def ready(*, jam_id: int, user: User) -> Command | None:
    """A member that was buffering can play: the last one waited for resumes the room."""
    jam, _member = _locked(jam_id, user)
    if user.pk not in jam.waiting_for:
        return None
    jam.waiting_for = [waiting for waiting in jam.waiting_for if waiting != user.pk]
    if jam.waiting_for:
        jam.save(update_fields=["waiting_for"])
        return None
    return _resume(jam, by=user)


def _resume(jam: Jam, *, by: User | None) -> Command:
    jam.waiting_for, jam.held_since_ms = [], None
    return _schedule(jam, "resume", by=by, position_ms=jam.position_ms, playing=True)


def _forget_waiting(jam: Jam, user_id: int) -> None:
    if user_id in jam.waiting_for:
        jam.waiting_for = [waiting for waiting in jam.waiting_for if waiting != user_id]
        if jam.waiting_for:
            jam.save(update_fields=["waiting_for"])
        else:
            _resume(jam, by=None)


def resume_overdue(*, jam_id: int | None = None) -> list[Command]:
    """Resume the held rooms (one, or all) whose hold is past JAM_BUFFER_TIMEOUT_SECONDS,
    without the members still buffering."""
    overdue_since = server_ms() - int(settings.JAM_BUFFER_TIMEOUT_SECONDS * 1000)
    held = Jam.objects.filter(closed_at__isnull=True, held_since_ms__lte=overdue_since)
    if jam_id is not None:
        held = held.filter(pk=jam_id)
    resumed = []
    for pk in held.values_list("pk", flat=True):
        with transaction.atomic():
            jam = (
                Jam.objects.select_for_update()
                .filter(pk=pk, held_since_ms__lte=overdue_since)
                .first()
            )
            if jam is not None:
                resumed.append(_resume(jam, by=None))
    return resumed


# --- announcements --------------------------------------------------------------------------


def _announce_state(jam: Jam, *, members_changed: bool = False) -> None:
    transaction.on_commit(lambda: jam_changed.send(sender=Jam, jam_id=jam.pk))
    if members_changed:  # presence counts the listeners
        _announce_activity(jam)


def _announce_idle(user_ids: Sequence[int]) -> None:
    """Those who left a Jam (or whose Jam closed) show "Idle" again, as a new socket does."""

    def announce() -> None:
        for user_id in user_ids:
            activity_changed.send(sender=Jam, user_id=user_id, activity=IDLE)

    transaction.on_commit(announce)


def _announce_activity(jam: Jam) -> None:
    """Members' presence reads "In a Jam: N listening to X" (users/signals.py)."""
    jam_id = jam.pk

    def announce() -> None:
        text, user_ids = now_playing_text(jam_id)
        for user_id in user_ids:
            activity_changed.send(sender=Jam, user_id=user_id, activity=text)

    transaction.on_commit(announce)


def announce_presence(jam_id: int) -> None:
    """Show the Jam's line in its members' presence again (a member's socket came)."""
    _announce_activity(Jam(pk=jam_id))


def members_present(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of these (jam, user) pairs, those of members present in open Jams: one query."""
    if not pairs:
        return set()
    found = JamMember.objects.filter(
        jam_id__in={jam_id for jam_id, _ in pairs},
        user_id__in={user_id for _, user_id in pairs},
        removed_at__isnull=True,
        jam__closed_at__isnull=True,
    ).values_list("jam_id", "user_id")
    return set(found) & set(pairs)
