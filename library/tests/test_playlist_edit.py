"""The whole-playlist writes Subsonic makes (library.services.playlist_create with songs and
playlist_edit): all at once or nothing, positions 0..n-1 after every change."""

import pytest

from catalog.selectors.songs import SONG_NOT_FOUND
from core.errors import Invalid, NotFound, PermissionDenied
from library import selectors, services
from library.models import Playlist, PlaylistItem
from library.selectors import PLAYLIST_NOT_FOUND
from library.services import NOT_YOUR_PLAYLIST, PLAYLIST_FULL, no_item_at_message


@pytest.fixture
def songs(make_song):
    return [make_song(f"Song {n}") for n in range(4)]


def order_of(playlist: Playlist) -> list[tuple[int, int]]:
    """(position, song id) of each item, by position."""
    return list(
        PlaylistItem.objects.filter(playlist=playlist)
        .order_by("position")
        .values_list("position", "song_id")
    )


def test_a_playlist_is_made_with_its_songs_in_order_repeats_kept(user, songs):
    a, _, c, _ = songs

    playlist = services.playlist_create(owner=user, name="Mix", song_ids=[c.pk, a.pk, c.pk])

    assert order_of(playlist) == [(0, c.pk), (1, a.pk), (2, c.pk)]


def test_an_unknown_song_makes_no_playlist(user, songs):
    with pytest.raises(NotFound, match=SONG_NOT_FOUND):
        services.playlist_create(owner=user, name="Mix", song_ids=[songs[0].pk, 999_999])

    assert not Playlist.objects.exists()


def test_too_many_songs_make_no_playlist(user, songs, monkeypatch):
    monkeypatch.setattr(services, "MAX_ITEMS", 2)

    with pytest.raises(Invalid) as refused:
        services.playlist_create(owner=user, name="Mix", song_ids=[s.pk for s in songs[:3]])

    assert refused.value.detail == PLAYLIST_FULL
    assert not Playlist.objects.exists()


def test_removing_and_appending_keep_positions_contiguous(user, songs):
    a, b, c, d = songs
    playlist = services.playlist_create(owner=user, name="Mix", song_ids=[a.pk, b.pk, c.pk])

    # Positions count before the change; a position named twice is taken out once.
    services.playlist_edit(
        playlist_id=playlist.pk,
        user=user,
        remove_positions=[2, 0, 0],
        append_song_ids=[d.pk, a.pk],
        name="Renamed",
        is_public=True,
    )

    playlist.refresh_from_db()
    assert order_of(playlist) == [(0, b.pk), (1, d.pk), (2, a.pk)]
    assert (playlist.name, playlist.is_public) == ("Renamed", True)


def test_replacing_the_songs(user, songs):
    a, b, c, d = songs
    playlist = services.playlist_create(owner=user, name="Mix", song_ids=[a.pk, b.pk, c.pk])

    services.playlist_edit(playlist_id=playlist.pk, user=user, song_ids=[d.pk, d.pk])

    assert order_of(playlist) == [(0, d.pk), (1, d.pk)]


def test_a_change_moves_the_changed_time(user, songs):
    playlist = services.playlist_create(owner=user, name="Mix", song_ids=[songs[0].pk])
    before = selectors.playlist_get(playlist_id=playlist.pk, user=user).updated_at

    services.playlist_edit(playlist_id=playlist.pk, user=user, append_song_ids=[songs[1].pk])

    assert selectors.playlist_get(playlist_id=playlist.pk, user=user).updated_at > before


@pytest.mark.parametrize(
    ("change", "error", "sentence"),
    [
        ({"remove_positions": [1, 3]}, Invalid, no_item_at_message(3)),
        ({"append_song_ids": [999_999]}, NotFound, SONG_NOT_FOUND),
        ({"song_ids": [999_999]}, NotFound, SONG_NOT_FOUND),
    ],
)
def test_a_refused_change_writes_nothing(user, songs, change, error, sentence):
    a, b, c, _ = songs
    playlist = services.playlist_create(owner=user, name="Mix", song_ids=[a.pk, b.pk, c.pk])
    stamp = Playlist.objects.get(pk=playlist.pk).updated_at

    with pytest.raises(error) as refused:
        services.playlist_edit(
            playlist_id=playlist.pk, user=user, name="Renamed", is_public=True, **change
        )

    assert refused.value.detail == sentence
    after = Playlist.objects.get(pk=playlist.pk)
    assert (after.name, after.is_public, after.updated_at) == ("Mix", False, stamp)
    assert order_of(playlist) == [(0, a.pk), (1, b.pk), (2, c.pk)]


def test_a_change_past_the_limit_writes_nothing(user, songs, monkeypatch):
    a, b, c, d = songs
    playlist = services.playlist_create(owner=user, name="Mix", song_ids=[a.pk, b.pk])
    monkeypatch.setattr(services, "MAX_ITEMS", 3)

    with pytest.raises(Invalid):
        services.playlist_edit(playlist_id=playlist.pk, user=user, append_song_ids=[c.pk, d.pk])
    # Taking one out first makes room: the limit counts what the playlist ends with.
    services.playlist_edit(
        playlist_id=playlist.pk, user=user, remove_positions=[0], append_song_ids=[c.pk, d.pk]
    )

    assert order_of(playlist) == [(0, b.pk), (1, c.pk), (2, d.pk)]


def test_only_the_owner_changes_a_playlist(user, make_user, songs):
    other = make_user()
    public = services.playlist_create(
        owner=other, name="Theirs", is_public=True, song_ids=[songs[0].pk]
    )
    private = services.playlist_create(owner=other, name="Hidden", song_ids=[songs[0].pk])

    with pytest.raises(PermissionDenied, match=NOT_YOUR_PLAYLIST):
        services.playlist_edit(playlist_id=public.pk, user=user, song_ids=[])
    with pytest.raises(NotFound, match=PLAYLIST_NOT_FOUND):
        services.playlist_edit(playlist_id=private.pk, user=user, song_ids=[])

    assert order_of(public) == [(0, songs[0].pk)]
    assert order_of(private) == [(0, songs[0].pk)]


def test_the_listing_is_your_own_then_others_public_newest_first(user, make_user, songs):
    other = make_user()
    mine_old = services.playlist_create(owner=user, name="Mine, old")
    theirs_public = services.playlist_create(owner=other, name="Theirs", is_public=True)
    services.playlist_create(owner=other, name="Theirs, hidden")
    mine_new = services.playlist_create(owner=user, name="Mine, new", is_public=True)

    listed = selectors.playlists_visible(user=user, limit=10)
    capped = selectors.playlists_visible(user=user, limit=2)

    assert [p.pk for p in listed] == [mine_new.pk, mine_old.pk, theirs_public.pk]
    assert [p.pk for p in capped] == [mine_new.pk, mine_old.pk]
