"""getLyricsBySongId (songLyrics 1 and 2): the stored lyrics as structuredLyrics, checked
against the specification's schema, with word cues and their UTF-8 byte offsets."""

from django.test import Client

from catalog import services as catalog_services
from subsonic import ids
from subsonic.spec import XML_NAMESPACE
from subsonic.tests.calls import answer, api_key, assert_as_specified, call, error_of, xml_root

LRC = "[la:eng]\n[00:01.00]<00:01.00>Café <00:01.80>au <00:02.20>lait\n[00:04.00]Plain line\n"


def lyrics_of(client: Client, secret: str, song_id: int, **params) -> dict:
    response = call(client, "getLyricsBySongId", api_key(secret), id=ids.song_id(song_id), **params)
    assert_as_specified(response, "getLyricsBySongId")
    return answer(response)["lyricsList"]


def test_version_1_lines_with_their_starts(client: Client, secret, make_song):
    song = make_song(title="Morning", artist="Ada")
    catalog_services.lyrics_set(song_id=song.pk, text=LRC)

    (entry,) = lyrics_of(client, secret, song.pk)["structuredLyrics"]

    assert entry == {
        "displayArtist": "Ada",
        "displayTitle": "Morning",
        "lang": "eng",
        "offset": 0,
        "synced": True,
        "line": [{"start": 1000, "value": "Café au lait"}, {"start": 4000, "value": "Plain line"}],
    }


def test_version_2_cues_with_utf8_byte_offsets(client: Client, secret, make_song):
    song = make_song()
    catalog_services.lyrics_set(song_id=song.pk, text=LRC)

    (entry,) = lyrics_of(client, secret, song.pk, enhanced="true")["structuredLyrics"]

    assert entry["kind"] == "main"
    (cue_line,) = entry["cueLine"]  # only the line with word timings
    assert (cue_line["index"], cue_line["start"], cue_line["end"]) == (0, 1000, 4000)
    assert cue_line["cue"] == [
        {"start": 1000, "end": 1800, "value": "Café", "byteStart": 0, "byteEnd": 4},
        {"start": 1800, "end": 2200, "value": "au", "byteStart": 6, "byteEnd": 7},
        {"start": 2200, "end": 4000, "value": "lait", "byteStart": 9, "byteEnd": 12},
    ]
    encoded = cue_line["value"].encode()
    for cue in cue_line["cue"]:
        assert encoded[cue["byteStart"] : cue["byteEnd"] + 1].decode() == cue["value"]


def test_plain_lyrics_have_no_starts_and_an_unknown_language(client: Client, secret, make_song):
    song = make_song()
    catalog_services.lyrics_set(song_id=song.pk, text="Just words\nMore words")

    (entry,) = lyrics_of(client, secret, song.pk, enhanced="true")["structuredLyrics"]

    assert entry["synced"] is False
    assert entry["lang"] == "und"
    assert entry["line"] == [{"value": "Just words"}, {"value": "More words"}]
    assert "cueLine" not in entry


def test_a_song_without_lyrics_has_an_empty_list(client: Client, secret, make_song):
    song = make_song()

    assert lyrics_of(client, secret, song.pk) == {"structuredLyrics": []}


def test_the_xml_form_puts_each_line_in_an_element(client: Client, secret, make_song):
    song = make_song()
    catalog_services.lyrics_set(song_id=song.pk, text=LRC)

    root = xml_root(
        call(
            client,
            "getLyricsBySongId",
            api_key(secret),
            id=ids.song_id(song.pk),
            f="xml",
        )
    )

    lines = root.findall(f".//{{{XML_NAMESPACE}}}line")
    assert [(line.get("start"), line.text) for line in lines] == [
        ("1000", "Café au lait"),
        ("4000", "Plain line"),
    ]


def test_refusals(client: Client, secret, make_song):
    song = make_song()

    unknown = error_of(call(client, "getLyricsBySongId", api_key(secret), id=ids.song_id(10**6)))
    bad_flag = error_of(
        call(
            client,
            "getLyricsBySongId",
            api_key(secret),
            id=ids.song_id(song.pk),
            enhanced="maybe",
        )
    )
    missing = error_of(call(client, "getLyricsBySongId", api_key(secret)))

    assert unknown["code"] == 70
    assert bad_flag["code"] == 0
    assert missing["code"] == 10


def test_a_word_repeated_in_the_untimed_text_points_at_its_timed_place(
    client: Client, secret, make_song
):
    song = make_song()
    catalog_services.lyrics_set(song_id=song.pk, text="[00:01.00]love <00:01.50>love\n")

    (entry,) = lyrics_of(client, secret, song.pk, enhanced="true")["structuredLyrics"]

    (cue,) = entry["cueLine"][0]["cue"]
    assert (cue["byteStart"], cue["byteEnd"]) == (5, 8)
