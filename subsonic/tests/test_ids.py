import pytest

from subsonic import ids
from subsonic.errors import SubsonicError
from subsonic.ids import Kind, Ref


def test_each_kind_round_trips():
    assert ids.parse(ids.artist_id(7)) == Ref(Kind.ARTIST, 7)
    assert ids.parse(ids.album_id(12)) == Ref(Kind.ALBUM, 12)
    assert ids.parse(ids.song_id(42)) == Ref(Kind.SONG, 42)
    assert ids.parse(ids.playlist_id(3)) == Ref(Kind.PLAYLIST, 3)
    assert ids.album_id(12) == "al-12"


def test_a_bare_number_is_a_song():
    assert ids.parse("42") == Ref(Kind.SONG, 42)


@pytest.mark.parametrize(
    "text", ["", "-", "al-", "al-x", "xx-3", "al-0", "al--3", "al-3.0", "al-٣", f"al-{2**63}", "0"]
)
def test_anything_else_is_not_found(text):
    with pytest.raises(SubsonicError) as refused:
        ids.parse(text)

    assert refused.value.code == 70


def test_parse_as_refuses_another_kind():
    assert ids.parse_as("al-5", Kind.ALBUM) == Ref(Kind.ALBUM, 5)
    with pytest.raises(SubsonicError) as refused:
        ids.parse_as("ar-5", Kind.ALBUM, Kind.SONG)

    assert refused.value.code == 70
