"""catalog/lyrics.py: decoding lyrics files, parsing plain/LRC/enhanced LRC, writing LRC.

Plain functions, no database. Every expected time is worked out by hand in a comment.
"""

import pytest

from catalog.lyrics import (
    LANG_TOO_LONG,
    LINE_GOES_BACKWARDS,
    LINE_TOO_LONG,
    LYRICS_EMPTY,
    LYRICS_NOT_TEXT,
    LYRICS_NOT_UTF8,
    LYRICS_TOO_LARGE,
    LYRICS_TOO_LONG,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_LYRICS_BYTES,
    MAX_LYRICS_CHARS,
    OFFSET_NOT_A_NUMBER,
    OFFSET_TOO_LARGE,
    SECONDS_OUT_OF_RANGE,
    TIME_NOT_UNDERSTOOD,
    TOO_MANY_LINES,
    UNTIMED_LINE,
    WORD_BEFORE_LINE,
    WORD_GOES_BACKWARDS,
    WORDS_WITHOUT_LINE_TIME,
    LyricLine,
    LyricWord,
    ParsedLyrics,
    decode_lyrics,
    parse_lyrics,
    to_lrc,
)
from core.errors import Invalid

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # not a dev dependency: the property test is skipped without it
    HAVE_HYPOTHESIS = False
else:
    HAVE_HYPOTHESIS = True


def refusal(call, *args) -> str:
    """The sentence `call(*args)` refuses with, checked to be about the lyrics file."""
    with pytest.raises(Invalid) as caught:
        call(*args)
    assert caught.value.items[0]["loc"] == ["body", "lyrics_file"]
    return caught.value.detail


def timed(*pairs: tuple[int, str]) -> list[LyricLine]:
    return [LyricLine(start_ms=ms, text=text, words=None) for ms, text in pairs]


# --- decode_lyrics -------------------------------------------------------------------------

LYRICS = "[00:01.00]Grüße\n[00:02.00]日本語"


def test_utf8_is_decoded():
    assert decode_lyrics(LYRICS.encode()) == LYRICS


def test_utf8_with_a_bom_loses_the_bom():
    assert decode_lyrics(b"\xef\xbb\xbf" + LYRICS.encode()) == LYRICS


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_decoded(encoding):
    assert decode_lyrics("\ufeff".encode(encoding) + LYRICS.encode(encoding)) == LYRICS


def test_utf32_with_a_bom_is_decoded_not_read_as_utf16():
    # UTF-32 LE's BOM (FF FE 00 00) starts with UTF-16 LE's (FF FE).
    assert decode_lyrics(LYRICS.encode("utf-32")) == LYRICS


def test_utf16_without_a_bom_is_not_text():
    assert refusal(decode_lyrics, LYRICS.encode("utf-16-le")) == LYRICS_NOT_TEXT


def test_newlines_are_normalized():
    assert decode_lyrics(b"a\r\nb\rc\n") == "a\nb\nc\n"


def test_latin1_is_refused_not_guessed():
    assert refusal(decode_lyrics, "[00:01.00]Grüße".encode("latin-1")) == LYRICS_NOT_UTF8
    assert "save it as UTF-8" in LYRICS_NOT_UTF8


def test_cp1252_quotes_are_refused():
    # CP1252's right quote is 0x92, a C1 control in Latin-1: not a sign of binary.
    assert refusal(decode_lyrics, "It\u2019s me".encode("cp1252")) == LYRICS_NOT_UTF8


def test_nul_bytes_are_not_text():
    assert refusal(decode_lyrics, b"[00:01.00]a\x00b") == LYRICS_NOT_TEXT


def test_a_binary_file_without_nul_is_not_text():
    binary = bytes(range(1, 32)) * 20 + b"\xff\xfe\xfd"  # control bytes, not UTF-8
    assert refusal(decode_lyrics, binary) == LYRICS_NOT_TEXT


def test_valid_utf8_full_of_control_characters_is_not_text():
    assert refusal(decode_lyrics, b"\x01\x02\x03\x04lyrics") == LYRICS_NOT_TEXT


def test_a_utf16_file_that_does_not_decode_is_not_text():
    # A lone high surrogate (D800) after the BOM.
    assert refusal(decode_lyrics, b"\xff\xfe\x00\xd8a\x00") == LYRICS_NOT_TEXT


def test_a_dos_end_of_file_mark_and_a_stray_control_character_are_dropped():
    text = "line one\x07 of many words here\nline two\n"
    assert decode_lyrics(text.encode() + b"\x1a") == "line one of many words here\nline two\n"


def test_the_size_limit():
    assert decode_lyrics(b"a" * MAX_LYRICS_BYTES) == "a" * MAX_LYRICS_BYTES
    assert refusal(decode_lyrics, b"a" * (MAX_LYRICS_BYTES + 1)) == LYRICS_TOO_LARGE
    assert "256 KiB" in LYRICS_TOO_LARGE


# --- parse_lyrics: plain -------------------------------------------------------------------


def test_plain_lyrics_one_line_per_non_blank_line():
    parsed = parse_lyrics("  First line  \n\n\nSecond line\t\n[Chorus]\n[Intro: Drake]\n")
    assert parsed == ParsedLyrics(
        synced=False,
        lang=None,
        offset_ms=0,
        lines=[
            LyricLine(start_ms=None, text="First line", words=None),
            LyricLine(start_ms=None, text="Second line", words=None),
            LyricLine(start_ms=None, text="[Chorus]", words=None),
            LyricLine(start_ms=None, text="[Intro: Drake]", words=None),
        ],
    )


def test_plain_lyrics_keep_their_tags():
    parsed = parse_lyrics("[ar:Someone]\n[la:eng]\nHello\r\nWorld")
    assert parsed.lang == "eng"
    assert [line.text for line in parsed.lines] == ["Hello", "World"]


# --- parse_lyrics: LRC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "ms"),
    [
        ("[00:05]", 5_000),
        ("[00:05.5]", 5_500),  # a tenth: .5 s
        ("[00:05.05]", 5_050),  # hundredths
        ("[00:05.005]", 5_005),  # milliseconds
        ("[00:05:05]", 5_050),  # hundredths after a colon
        ("[01:02.34]", 62_340),  # 60 s + 2.34 s
        ("[12:34.567]", 754_567),  # 12 * 60 + 34 = 754 s
        ("[1:02.34]", 62_340),  # one minute digit
        ("[100:00.00]", 6_000_000),  # 100 minutes
        ("[00:59.999]", 59_999),
    ],
)
def test_timestamp_forms(stamp, ms):
    assert parse_lyrics(f"{stamp}Hello").lines == timed((ms, "Hello"))


def test_a_synced_file_with_tags():
    text = (
        "\ufeff[ar:Muse]\n[ti:Hysteria]\n[al:Absolution]\n[by:someone]\n[length: 03:47]\n"
        "[re:editor][ve:1.0]\n[lang:eng]\n\n"
        "[00:00.00] It's bugging me   \n[00:02.00]Grating me\n[00:03.001]And twisting me\n"
    )
    assert parse_lyrics(text) == ParsedLyrics(
        synced=True,
        lang="eng",
        offset_ms=0,
        lines=timed((0, "It's bugging me"), (2_000, "Grating me"), (3_001, "And twisting me")),
    )


def test_la_and_lang_give_the_language_and_an_empty_one_is_none():
    assert parse_lyrics("[la:fra]\n[00:01.00]a").lang == "fra"
    assert parse_lyrics("[LANG: deu ]\n[00:01.00]a").lang == "deu"
    assert parse_lyrics("[la:]\n[00:01.00]a").lang is None


def test_empty_timed_lines_are_kept_as_gaps():
    parsed = parse_lyrics("[00:01.00]Sing\n[00:05.00]\n[00:09.00]Again")
    assert parsed.lines == timed((1_000, "Sing"), (5_000, ""), (9_000, "Again"))


def test_equal_times_keep_the_files_order():
    parsed = parse_lyrics("[00:01.00]Original\n[00:01.00]Translation\n[00:02.00]Next")
    assert parsed.lines == timed((1_000, "Original"), (1_000, "Translation"), (2_000, "Next"))


def test_a_repeated_chorus_is_given_once_per_time_and_sorted():
    text = "[00:10.00]Verse\n[00:20.00][01:20.00]Chorus\n[00:50.00]Bridge\n"
    assert parse_lyrics(text).lines == timed(
        (10_000, "Verse"), (20_000, "Chorus"), (50_000, "Bridge"), (80_000, "Chorus")
    )


def test_a_compressed_file_is_sorted_stably():
    # A is first in the file, so A@10 s comes before B@10 s.
    text = "[00:30.00][00:10.00]A\n[00:10.00] [00:05.00]B"
    assert parse_lyrics(text).lines == timed(
        (5_000, "B"), (10_000, "A"), (10_000, "B"), (30_000, "A")
    )


def test_text_after_the_times_that_looks_like_a_tag_is_text():
    assert parse_lyrics("[00:01.00][ar:x] <3").lines == timed((1_000, "[ar:x] <3"))


# --- offset --------------------------------------------------------------------------------


def test_a_positive_offset_shows_the_lyrics_sooner_and_clamps_at_zero():
    parsed = parse_lyrics("[offset:+500]\n[00:00.20]Early\n[00:10.00]Later")
    assert parsed.offset_ms == 500
    # 200 - 500 < 0 -> 0; 10,000 - 500 = 9,500.
    assert parsed.lines == timed((0, "Early"), (9_500, "Later"))


def test_a_negative_offset_shows_the_lyrics_later():
    parsed = parse_lyrics("[00:10.00]Line\n[offset:-250]")
    assert parsed.offset_ms == -250
    assert parsed.lines == timed((10_250, "Line"))  # 10,000 + 250


def test_an_unsigned_offset_and_the_last_one_wins():
    parsed = parse_lyrics("[offset:100]\n[offset: 300 ]\n[00:01.00]a")
    assert parsed.offset_ms == 300
    assert parsed.lines == timed((700, "a"))  # 1,000 - 300


def test_the_offset_moves_word_times_too():
    parsed = parse_lyrics("[offset:1000]\n[00:05.00]<00:05.00>one <00:05.40>two")
    # 5,000 - 1,000 = 4,000 and 5,400 - 1,000 = 4,400.
    assert parsed.lines == [
        LyricLine(
            start_ms=4_000,
            text="one two",
            words=[LyricWord(start_ms=4_000, text="one"), LyricWord(start_ms=4_400, text="two")],
        )
    ]


# --- enhanced LRC --------------------------------------------------------------------------


def test_word_times():
    text = "[00:12.00]<00:12.00>Remember <00:12.50>when <00:13.25>you<00:14.00>\n"
    # The closing tag (14.00) has no text after it: read, checked, not kept.
    assert parse_lyrics(text).lines == [
        LyricLine(
            start_ms=12_000,
            text="Remember when you",
            words=[
                LyricWord(start_ms=12_000, text="Remember"),
                LyricWord(start_ms=12_500, text="when"),
                LyricWord(start_ms=13_250, text="you"),
            ],
        )
    ]


def test_syllables_and_untimed_text_before_the_first_word():
    parsed = parse_lyrics("[00:01.00]Oh <00:01.50>lo<00:01.70>ve")
    assert parsed.lines == [
        LyricLine(
            start_ms=1_000,
            text="Oh love",
            words=[LyricWord(start_ms=1_500, text="lo"), LyricWord(start_ms=1_700, text="ve")],
        )
    ]


def test_word_times_move_with_a_repeated_line():
    parsed = parse_lyrics("[00:10.00][01:10.00]<00:10.00>la <00:10.50>da")
    # The second copy is 60 s later: 70,000 and 70,500.
    assert parsed.lines == [
        LyricLine(
            start_ms=10_000,
            text="la da",
            words=[LyricWord(start_ms=10_000, text="la"), LyricWord(start_ms=10_500, text="da")],
        ),
        LyricLine(
            start_ms=70_000,
            text="la da",
            words=[LyricWord(start_ms=70_000, text="la"), LyricWord(start_ms=70_500, text="da")],
        ),
    ]


def test_a_line_with_only_empty_word_tags_has_no_words():
    assert parse_lyrics("[00:01.00]a\n[00:02.00]<00:02.00> <00:03.00>").lines == timed(
        (1_000, "a"), (2_000, "")
    )


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n \n\t\n", "[ar:Muse]\n[ti:Hysteria]\n", "[00:01.00]\n"])
def test_no_lyrics_is_refused(text):
    assert refusal(parse_lyrics, text) == LYRICS_EMPTY


def test_seconds_of_60_or_more_are_refused():
    assert refusal(parse_lyrics, "[00:01.00]a\n[01:60.00]b") == SECONDS_OUT_OF_RANGE.format(
        line=2, time="[01:60.00]", seconds="60"
    )
    assert refusal(parse_lyrics, "[00:01.00]<00:75.00>a") == SECONDS_OUT_OF_RANGE.format(
        line=1, time="<00:75.00>", seconds="75"
    )


def test_a_fraction_of_more_than_three_digits_is_refused():
    assert refusal(parse_lyrics, "\n[00:01.1234]a") == TIME_NOT_UNDERSTOOD.format(
        line=2, time="[00:01.1234]"
    )


def test_lines_going_backwards_are_refused():
    text = "[00:05.00]a\n\n[00:09.00]b\n[00:08.99]c"
    assert refusal(parse_lyrics, text) == LINE_GOES_BACKWARDS.format(
        line=4, time="[00:08.99]", previous="[00:09.00]"
    )


def test_a_word_before_its_lines_time_is_refused():
    assert refusal(parse_lyrics, "[00:05.00]<00:04.99>a") == WORD_BEFORE_LINE.format(
        line=1, time="<00:04.99>", line_time="[00:05.00]"
    )


def test_word_times_going_backwards_are_refused():
    text = "[00:01.00]a\n[00:05.00]<00:05.00>b <00:06.00>c <00:05.50>d"
    assert refusal(parse_lyrics, text) == WORD_GOES_BACKWARDS.format(
        line=2, time="<00:05.50>", previous="<00:06.00>"
    )


def test_an_untimed_line_in_a_synced_file_is_refused():
    text = "[ar:x]\nLyrics by someone\n[00:01.00]a\n[00:02.00]b"
    assert refusal(parse_lyrics, text) == UNTIMED_LINE.format(line=2)


def test_word_times_without_a_line_time_are_refused():
    assert refusal(parse_lyrics, "plain\n<00:01.00>word") == WORDS_WITHOUT_LINE_TIME.format(line=2)


@pytest.mark.parametrize("value", ["abc", "1.5", "1_000", "+", ""])
def test_an_offset_that_is_not_a_whole_number_is_refused(value):
    assert refusal(parse_lyrics, f"[offset:{value}]\n[00:01.00]a") == OFFSET_NOT_A_NUMBER.format(
        line=1, value=value
    )


def test_an_offset_beyond_ten_minutes_is_refused():
    assert parse_lyrics("[offset:-600000]\n[00:01.00]a").offset_ms == -600_000
    assert refusal(parse_lyrics, "[offset:+600001]\n[00:01.00]a") == OFFSET_TOO_LARGE.format(line=1)


def test_a_language_too_long_to_keep_is_refused():
    assert refusal(parse_lyrics, "[la:English (United Kingdom)]\na") == LANG_TOO_LONG.format(line=1)


def test_the_line_length_limit_counts_the_text_without_tags():
    words = "".join(f"<00:01.{index:02d}>x" for index in range(MAX_LINE_CHARS // 10))
    assert len(parse_lyrics(f"[00:01.00]{words}").lines[0].text) == MAX_LINE_CHARS // 10
    assert parse_lyrics("a" * MAX_LINE_CHARS).lines[0].text == "a" * MAX_LINE_CHARS
    too_long = "ok\n[00:01.00]" + "a" * (MAX_LINE_CHARS + 1)
    assert refusal(parse_lyrics, too_long) == LINE_TOO_LONG.format(line=2)
    assert refusal(parse_lyrics, "[ti:" + "t" * MAX_LINE_CHARS + "]") == LINE_TOO_LONG.format(
        line=1
    )


def test_the_line_count_limit_counts_repeats():
    assert len(parse_lyrics("a\n" * MAX_LINES).lines) == MAX_LINES
    assert refusal(parse_lyrics, "a\n" * (MAX_LINES + 1)) == TOO_MANY_LINES
    repeated = "[00:01.00]" * (MAX_LINES + 1) + "chorus"
    assert refusal(parse_lyrics, repeated) == TOO_MANY_LINES


def test_text_longer_than_the_limit_is_refused():
    assert refusal(parse_lyrics, "a" * (MAX_LYRICS_CHARS + 1)) == LYRICS_TOO_LONG


# --- to_lrc --------------------------------------------------------------------------------


def test_to_lrc_writes_times_with_the_offset_put_back():
    parsed = parse_lyrics(
        "[la:eng]\n[offset:+250]\n[00:10.00][01:05.5]<00:10.00>Hey <00:10.50>you\n[00:20.00]"
    )
    # Shown 9,750 (10,000 - 250) is written back as 10,000; the repeat, shown at 65,250
    # (65,500 - 250), as 65,500, its words moved by 55,500: 10,500 -> 66,000.
    assert to_lrc(parsed) == (
        "[lang:eng]\n[offset:+250]\n"
        "[00:10.000]<00:10.000>Hey <00:10.500>you\n"
        "[00:20.000]\n"
        "[01:05.500]<01:05.500>Hey <01:06.000>you\n"
    )


def test_to_lrc_of_plain_lyrics():
    assert to_lrc(parse_lyrics("Hello\n\n[Chorus]\n")) == "Hello\n[Chorus]\n"


def test_to_lrc_drops_word_times_that_do_not_lie_in_the_text():
    parsed = ParsedLyrics(
        synced=True,
        lang=None,
        offset_ms=0,
        lines=[LyricLine(start_ms=1_000, text="a b", words=[LyricWord(1_000, "zzz")])],
    )
    assert to_lrc(parsed) == "[00:01.000]a b\n"


ROUND_TRIP_INPUTS = [
    "Just\nplain\n[Chorus]\n",
    "[la:eng]\n[offset:-120]\nplain with tags",
    "[00:01.00]a\n[00:02.5]b\n[00:03:07]c\n[00:03.071]\n",
    "[offset:+500]\n[00:00.10]clamped\n[00:10.00]fine",
    "[00:20.00][01:20.00]Chorus\n[00:10.00]Verse\n[00:50.00]Bridge",
    "[00:01.00]Oh <00:01.50>lo<00:01.70>ve  <00:02.00>me\t<00:02.10>x<00:03.00>",
    # The untimed text ahead of the first word holds the first word again.
    "[00:01.00]love <00:01.50>love <00:02.00>me",
    "[00:10.00][01:10.00]<00:10.00>la <00:10.50>da\n[00:30.00]日本語 <00:31.00>です",
    "[00:01.00][ar:x] <3 [1:2:3]",
    "[100:00.00]late",
]


@pytest.mark.parametrize("text", ROUND_TRIP_INPUTS)
def test_to_lrc_round_trips(text):
    parsed = parse_lyrics(text)
    assert parse_lyrics(to_lrc(parsed)) == parsed


if HAVE_HYPOTHESIS:
    # Text with no tags or brackets in it: the property is about times, words and spacing.
    _TEXT_ALPHABET = "abcxyzABC019 ,.'!?-éü日本"
    _word = st.text(alphabet="abcxyzé日'!", min_size=1, max_size=6)

    @st.composite
    def synced_lyrics(draw) -> ParsedLyrics:
        offset_ms = draw(st.sampled_from([0, 0, 250, -1_500, 600_000]))
        lowest = max(0, -offset_ms)  # a shown time the offset cannot have clamped
        starts = sorted(draw(st.lists(st.integers(lowest, 20 * 60_000), min_size=1, max_size=8)))
        lines = []
        for start_ms in starts:
            if draw(st.booleans()):
                words_text = draw(st.lists(_word, min_size=1, max_size=5))
                gaps = draw(st.lists(st.sampled_from([" ", "  ", "\t", ""]), min_size=5))
                steps = draw(st.lists(st.integers(0, 2_000), min_size=5, max_size=5))
                word_starts = [start_ms + sum(steps[: index + 1]) for index in range(5)]
                words = [
                    LyricWord(start_ms=word_starts[index], text=word)
                    for index, word in enumerate(words_text)
                ]
                # A gap between words must not glue them into one when it is "".
                text = "".join(
                    word + (gaps[index] or " ") for index, word in enumerate(words_text)
                ).strip()
                lines.append(LyricLine(start_ms=start_ms, text=text, words=words))
            else:
                text = draw(st.text(alphabet=_TEXT_ALPHABET, max_size=30)).strip()
                lines.append(LyricLine(start_ms=start_ms, text=text, words=None))
        if not any(line.text for line in lines):
            lines[0] = LyricLine(start_ms=lines[0].start_ms, text="la", words=None)
        lang = draw(st.sampled_from([None, "eng", "ko-Latn"]))
        return ParsedLyrics(synced=True, lang=lang, offset_ms=offset_ms, lines=lines)

    # No example database: the test leaves no .hypothesis folder in the checkout.
    @settings(max_examples=150, deadline=None, database=None)
    @given(synced_lyrics())
    def test_random_synced_lyrics_survive_to_lrc_and_back(lyrics):
        assert parse_lyrics(to_lrc(lyrics)) == lyrics

    # Text made mostly of LRC's own signs, to reach the odd corners of the syntax.
    _lrc_like = st.text(alphabet="[]<>:.+-0123456789 \t\nabla#é", max_size=200)

    @settings(max_examples=300, deadline=None, database=None)
    @given(_lrc_like)
    def test_any_text_parses_or_is_refused_and_what_parses_round_trips(text):
        try:
            parsed = parse_lyrics(text)
        except Invalid:
            return
        assert parse_lyrics(to_lrc(parsed)) == parsed

else:

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_random_synced_lyrics_survive_to_lrc_and_back():
        pass

    @pytest.mark.skip(reason="hypothesis is not installed")
    def test_any_text_parses_or_is_refused_and_what_parses_round_trips():
        pass
