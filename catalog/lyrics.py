"""Lyrics files read into lines: plain text, LRC, and enhanced LRC (word timing).

Pure functions, no database: `decode_lyrics` turns an uploaded file's bytes into text,
`parse_lyrics` turns text into `ParsedLyrics`, `to_lrc` writes `ParsedLyrics` back as LRC.
What they refuse raises `Invalid("lyrics_file", <sentence>)`, a 422; the sentences are the
constants below (their `{line}` is the 1-based line number in the text).

Decoding (`decode_lyrics`)
- At most `MAX_LYRICS_BYTES` (256 KiB): a lyrics file is a few KiB, more is something else.
- UTF-8 with or without a BOM; UTF-16 (LE/BE) and UTF-32 only with their BOM, as a BOM is
  the one sure sign of them. Anything else that is not valid UTF-8 is refused, asking for
  UTF-8: guessing Latin-1 or CP1252 would store mojibake without anyone noticing.
- Not text (refused): NUL bytes (in a file without a UTF-16/32 BOM), a UTF-16/32 file that
  does not decode, or more than `MAX_CONTROL_SHARE` of the characters being control
  characters. A trailing DOS end-of-file mark (Ctrl-Z) is dropped, and the few other control
  characters an otherwise textual file may hold are removed, as clients would print them.
- Newlines become "\\n" (from "\\r\\n" and "\\r").

Parsing (`parse_lyrics`)
- Lines are stripped of surrounding whitespace; blank lines are ignored (in plain lyrics too).
- ID tags are read when a line is one tag whose name is known (`ar ti al au by length re ve
  tool # la lang offset`, any case); `[la:]`/`[lang:]` give `lang` (None when empty; at most
  `MAX_LANG_CHARS` characters, what the database keeps), `[offset:]` gives `offset_ms`, the
  last one winning; the others are read and not kept. A bracketed line with any other name
  (`[Chorus]`, `[Intro: Drake]`) is lyrics text.
- A line's times are the timestamps it starts with: `[mm:ss]`, `[mm:ss.x]`, `[mm:ss.xx]`,
  `[mm:ss.xxx]` and `[mm:ss:xx]` (the digits after the dot or colon are a decimal fraction of
  a second: `.5` is 500 ms, `.05` 50 ms, `:05` 50 ms), several in a row for a repeated line.
  Minutes have any number of digits; seconds must be below 60 and the fraction at most 3
  digits, or the file is refused.
- Text with no line time anywhere is plain lyrics: `synced=False`, a line per non-blank
  line, `start_ms` and `words` None.
- A file with line times is synced, and every lyrics line in it must have a time: an untimed
  line in a synced file is refused (naming it) rather than dropped, as it is text the admin
  meant to show and cannot be placed; adding a time or removing it is an easy fix.
- Empty timed lines (an instrumental gap) are kept, with text "".
- Several times on one line: the line is given once per time. When some line has several,
  the file is the compressed kind whose lines are not in order by design: all lines are then
  sorted by start (stable: equal starts keep the file's order). When every line has one
  time, the times must not go backwards down the file: such a file is broken (lines pasted
  in the wrong place), not sorted, and is refused naming the line. Equal times are allowed.
- Enhanced LRC: `<mm:ss.xx>` tags in a line's text time the text that follows each tag, up to
  the next tag; each such piece, stripped, is a `LyricWord` (pieces with no text, like a
  closing tag after the last word that marks its end, are not kept: only starts are). The
  line's text is the line without the tags, stripped; text before the first tag stays in it
  untimed. Word times must not go backwards within a line nor start before the line's
  (first written) time; on a line with several times, the word times are for its first
  written time and move with each repeat. A line with word tags and no line time is refused.
  `words` is None on a line without word tags.
- The offset: in LRC a positive `[offset:]` shows the lyrics sooner. `offset_ms` keeps the
  tag's value as written (0 without one), and the offset is ALSO applied to every line and
  word time: `start_ms = max(0, written time - offset)`, the time to show, so no reader
  applies it again. The clamp at 0 keeps times valid when an offset moves the first lines
  before the song starts. An offset beyond ±`MAX_OFFSET_MS` is refused as a typo.
- Refused as well: more than `MAX_LINES` lines (after repeats), a line of more than
  `MAX_LINE_CHARS` characters (its text without the tags; tag lines as written), text over
  `MAX_LYRICS_CHARS`, and a file with no lyrics: only tags, blank lines, or timed lines with
  no text.

Writing (`to_lrc`)
- `[lang:]` and `[offset:]` tags when set, then a line each, one time per line, times with
  milliseconds (`[mm:ss.xxx]`), written as `start_ms + offset_ms` so that reading the file
  back gives the same times (clamped at 0). Plain lyrics are written as their lines.
- Word tags are written before each word, the spaces between words kept: this needs the words
  to lie in the line's text in order with only whitespace between them, as `parse_lyrics`
  gives them; a line whose words do not is written without word tags rather than with text
  that would read back differently.
- `parse_lyrics(to_lrc(parsed)) == parsed` for whatever `parse_lyrics` returned.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from core.errors import Invalid

FIELD = "lyrics_file"

MAX_LYRICS_BYTES = 256 * 1024
MAX_LYRICS_CHARS = MAX_LYRICS_BYTES  # text given as text (JSON, tags), not as a file
MAX_LINES = 5_000
MAX_LINE_CHARS = 1_000
MAX_LANG_CHARS = 16  # catalog.models.Lyrics.lang
MAX_OFFSET_MS = 10 * 60 * 1000
# More control characters than this (as a share of all) is a binary file, not text.
MAX_CONTROL_SHARE = 0.05

LYRICS_TOO_LARGE = (
    f"The lyrics file is larger than {MAX_LYRICS_BYTES // 1024} KiB, the most it may be."
)
LYRICS_TOO_LONG = (
    f"The lyrics are longer than {MAX_LYRICS_CHARS:,} characters, the most they may be."
)
LYRICS_NOT_TEXT = "The lyrics file is not text: send the lyrics as an .lrc or .txt file."
LYRICS_NOT_UTF8 = (
    "The lyrics file is not in UTF-8 (its encoding is unknown): save it as UTF-8 in a text "
    "editor and send it again."
)
LYRICS_EMPTY = "The lyrics have no text: the file holds only tags, times or blank lines."
TOO_MANY_LINES = f"The lyrics have more than {MAX_LINES:,} lines, the most they may have."
LINE_TOO_LONG = (
    f"Line {{line}} is longer than {MAX_LINE_CHARS:,} characters, the most a line may have."
)
TIME_NOT_UNDERSTOOD = (
    "Line {line}: {time} is not a time: write it as [mm:ss], [mm:ss.xx] or [mm:ss.xxx]."
)
SECONDS_OUT_OF_RANGE = (
    "Line {line}: the time {time} has {seconds} seconds; seconds go from 00 to 59."
)
LINE_GOES_BACKWARDS = (
    "Line {line} starts at {time}, before the line above it ({previous}): the lines' times "
    "must not go backwards."
)
WORD_BEFORE_LINE = "Line {line}: the word time {time} comes before the line's own time {line_time}."
WORD_GOES_BACKWARDS = (
    "Line {line}: the word time {time} comes before the word time {previous} ahead of it: "
    "word times must not go backwards."
)
UNTIMED_LINE = (
    "Line {line} has no time, but other lines have one: start every line with a time such "
    "as [01:23.45], or give none for plain lyrics."
)
WORDS_WITHOUT_LINE_TIME = (
    "Line {line} has word times but no line time: start it with a time such as [01:23.45]."
)
OFFSET_NOT_A_NUMBER = (
    'Line {line}: the offset "{value}" is not a whole number of milliseconds, such as '
    "[offset:+250]."
)
OFFSET_TOO_LARGE = (
    f"Line {{line}}: the offset is beyond ±{MAX_OFFSET_MS:,} ms "
    f"({MAX_OFFSET_MS // 60_000} minutes), more than any lyrics need."
)
LANG_TOO_LONG = (
    f"Line {{line}}: the language is longer than {MAX_LANG_CHARS} characters: give a "
    "language code such as eng."
)


@dataclass(frozen=True)
class LyricWord:
    start_ms: int
    text: str


@dataclass(frozen=True)
class LyricLine:
    start_ms: int | None  # None in plain lyrics
    text: str
    words: list[LyricWord] | None  # None without word timing


@dataclass(frozen=True)
class ParsedLyrics:
    synced: bool
    lang: str | None
    offset_ms: int  # the file's [offset:], as written; already applied to every start_ms
    lines: list[LyricLine]


# --- decoding ------------------------------------------------------------------------------

# Longest first: UTF-32 LE's BOM starts with UTF-16 LE's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Control characters a text file may hold without being binary.
_TEXT_CONTROLS = frozenset("\t\n\r\f")
_DOS_END_OF_FILE = "\x1a"


def decode_lyrics(data: bytes) -> str:
    """The text of an uploaded lyrics file, with "\\n" newlines; `Invalid` when it is too
    large, not text, or in an encoding other than UTF-8 (or UTF-16/32 with a BOM)."""
    if len(data) > MAX_LYRICS_BYTES:
        raise Invalid(FIELD, LYRICS_TOO_LARGE)
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding in (None, "utf-8-sig") and b"\x00" in data:
        raise Invalid(FIELD, LYRICS_NOT_TEXT)
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        if encoding not in (None, "utf-8-sig"):
            raise Invalid(FIELD, LYRICS_NOT_TEXT) from None
        if _control_byte_share(data) > MAX_CONTROL_SHARE:
            raise Invalid(FIELD, LYRICS_NOT_TEXT) from None
        raise Invalid(FIELD, LYRICS_NOT_UTF8) from None
    text = text.removeprefix("\ufeff").rstrip(_DOS_END_OF_FILE)
    if "\x00" in text or _control_share(text) > MAX_CONTROL_SHARE:
        raise Invalid(FIELD, LYRICS_NOT_TEXT)
    return _normalize_newlines(_without_stray_controls(text))


def _is_stray_control(character: str) -> bool:
    return character not in _TEXT_CONTROLS and unicodedata.category(character) == "Cc"


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for character in text if _is_stray_control(character)) / len(text)


# C0 controls and DEL only: 0x80-0x9F are letters and quotes in CP1252, not signs of binary.
_CONTROL_BYTES = (frozenset(range(0x20)) - {ord(character) for character in _TEXT_CONTROLS}) | {
    0x7F
}


def _control_byte_share(data: bytes) -> float:
    return sum(1 for byte in data if byte in _CONTROL_BYTES) / len(data)


def _without_stray_controls(text: str) -> str:
    return "".join(character for character in text if not _is_stray_control(character))


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- parsing -------------------------------------------------------------------------------

_KNOWN_TAGS = frozenset(
    {"ar", "ti", "al", "au", "by", "length", "re", "ve", "tool", "#", "la", "lang", "offset"}
)
_LANG_TAGS = frozenset({"la", "lang"})
_ID_TAG = re.compile(r"\[([A-Za-z#]+):(.*)\]")
_OFFSET = re.compile(r"[+-]?\d+")
# Loose on purpose (any digit counts): a near-miss is refused with a reason, not read as text.
_TIME = r"(\d+):(\d+)(?:[.:](\d+))?"
_LINE_TIME = re.compile(r"\s*\[" + _TIME + r"\]")
_WORD_TIME = re.compile(r"<" + _TIME + r">")


@dataclass(frozen=True)
class _Time:
    ms: int
    written: str  # as in the file, for the sentences


@dataclass(frozen=True)
class _TimedLine:
    number: int
    times: list[_Time]
    text: str
    words: list[tuple[_Time, str]] | None


def parse_lyrics(text: str) -> ParsedLyrics:
    """The lines of plain lyrics, LRC or enhanced LRC (see the module's docstring for the
    rules); `Invalid` naming the line when the text breaks one."""
    if len(text) > MAX_LYRICS_CHARS:
        raise Invalid(FIELD, LYRICS_TOO_LONG)
    lang: str | None = None
    offset_ms = 0
    timed: list[_TimedLine] = []
    untimed: list[tuple[int, str]] = []
    line_count = 0
    lines = _normalize_newlines(text.removeprefix("\ufeff")).split("\n")
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line:
            continue
        tag = _ID_TAG.fullmatch(line)
        if tag and tag.group(1).lower() in _KNOWN_TAGS:
            if len(line) > MAX_LINE_CHARS:
                raise Invalid(FIELD, LINE_TOO_LONG.format(line=number))
            name, value = tag.group(1).lower(), tag.group(2).strip()
            if name in _LANG_TAGS:
                lang = _lang(value, number)
            elif name == "offset":
                offset_ms = _offset(value, number)
            continue
        times, rest = _leading_times(line, number)
        line_text, words = _words(rest, number)
        if len(line_text) > MAX_LINE_CHARS:
            raise Invalid(FIELD, LINE_TOO_LONG.format(line=number))
        if words is not None and not times:
            raise Invalid(FIELD, WORDS_WITHOUT_LINE_TIME.format(line=number))
        # Counted as read, so that a line repeated 100,000 times is refused before it is built.
        line_count += max(len(times), 1)
        if line_count > MAX_LINES:
            raise Invalid(FIELD, TOO_MANY_LINES)
        if times:
            _check_words(number, times[0], words or [])
            timed.append(_TimedLine(number, times, line_text, words))
        else:
            untimed.append((number, line_text))

    if not timed:
        if not untimed:
            raise Invalid(FIELD, LYRICS_EMPTY)
        plain = [LyricLine(start_ms=None, text=line_text, words=None) for _, line_text in untimed]
        return ParsedLyrics(synced=False, lang=lang, offset_ms=offset_ms, lines=plain)
    if untimed:
        raise Invalid(FIELD, UNTIMED_LINE.format(line=untimed[0][0]))
    if not any(line.text for line in timed):
        raise Invalid(FIELD, LYRICS_EMPTY)
    return ParsedLyrics(
        synced=True, lang=lang, offset_ms=offset_ms, lines=_synced_lines(timed, offset_ms)
    )


def _lang(value: str, number: int) -> str | None:
    if len(value) > MAX_LANG_CHARS:
        raise Invalid(FIELD, LANG_TOO_LONG.format(line=number))
    return value or None


def _offset(value: str, number: int) -> int:
    if not _OFFSET.fullmatch(value):
        raise Invalid(FIELD, OFFSET_NOT_A_NUMBER.format(line=number, value=value))
    offset_ms = int(value)
    if abs(offset_ms) > MAX_OFFSET_MS:
        raise Invalid(FIELD, OFFSET_TOO_LARGE.format(line=number))
    return offset_ms


def _time(match: re.Match[str], number: int) -> _Time:
    minutes, seconds, fraction = match.group(1, 2, 3)
    written = match.group(0).strip()
    if fraction is not None and len(fraction) > 3:
        raise Invalid(FIELD, TIME_NOT_UNDERSTOOD.format(line=number, time=written))
    if int(seconds) >= 60:
        raise Invalid(
            FIELD, SECONDS_OUT_OF_RANGE.format(line=number, time=written, seconds=seconds)
        )
    # A decimal fraction of a second: ".5" is 500 ms, ".05" 50 ms, ".005" 5 ms.
    fraction_ms = int(fraction.ljust(3, "0")) if fraction else 0
    return _Time(ms=(int(minutes) * 60 + int(seconds)) * 1000 + fraction_ms, written=written)


def _leading_times(line: str, number: int) -> tuple[list[_Time], str]:
    times = []
    position = 0
    while match := _LINE_TIME.match(line, position):
        times.append(_time(match, number))
        position = match.end()
    return times, line[position:]


def _words(text: str, number: int) -> tuple[str, list[tuple[_Time, str]] | None]:
    """The text without its word tags, and each tag's time with the stripped text after it
    (empty pieces included here, for the order checks); None without word tags."""
    tags = list(_WORD_TIME.finditer(text))
    if not tags:
        return text.strip(), None
    pieces = [text[: tags[0].start()]]
    words = []
    for index, tag in enumerate(tags):
        end = tags[index + 1].start() if index + 1 < len(tags) else len(text)
        piece = text[tag.end() : end]
        pieces.append(piece)
        words.append((_time(tag, number), piece.strip()))
    return "".join(pieces).strip(), words


def _check_words(number: int, line_time: _Time, words: list[tuple[_Time, str]]) -> None:
    previous: _Time | None = None
    for word_time, _ in words:
        if word_time.ms < line_time.ms:
            raise Invalid(
                FIELD,
                WORD_BEFORE_LINE.format(
                    line=number, time=word_time.written, line_time=line_time.written
                ),
            )
        if previous is not None and word_time.ms < previous.ms:
            raise Invalid(
                FIELD,
                WORD_GOES_BACKWARDS.format(
                    line=number, time=word_time.written, previous=previous.written
                ),
            )
        previous = word_time


def _synced_lines(timed: list[_TimedLine], offset_ms: int) -> list[LyricLine]:
    repeats = any(len(line.times) > 1 for line in timed)
    if not repeats:
        for above, below in pairwise(timed):
            if below.times[0].ms < above.times[0].ms:
                raise Invalid(
                    FIELD,
                    LINE_GOES_BACKWARDS.format(
                        line=below.number,
                        time=below.times[0].written,
                        previous=above.times[0].written,
                    ),
                )
    lines = [line for timed_line in timed for line in _expanded(timed_line, offset_ms)]
    if repeats:
        lines.sort(key=lambda line: line.start_ms or 0)  # stable: ties keep the file's order
    return lines


def _expanded(line: _TimedLine, offset_ms: int) -> Iterator[LyricLine]:
    """The line once per time, its words moved with each (timed for its first time)."""
    first_ms = line.times[0].ms
    for time in line.times:
        shift = time.ms - first_ms
        words = None
        if line.words is not None:
            words = [
                LyricWord(start_ms=_shown(word_time.ms + shift, offset_ms), text=text)
                for word_time, text in line.words
                if text
            ] or None
        yield LyricLine(start_ms=_shown(time.ms, offset_ms), text=line.text, words=words)


def _shown(written_ms: int, offset_ms: int) -> int:
    # LRC: a positive offset shows the lyrics sooner.
    return max(0, written_ms - offset_ms)


# --- writing -------------------------------------------------------------------------------


def to_lrc(parsed: ParsedLyrics) -> str:
    """`parsed` as an LRC file (plain lines when not synced), which `parse_lyrics` reads back
    as `parsed`."""
    out = []
    if parsed.lang:
        out.append(f"[lang:{parsed.lang}]")
    if parsed.offset_ms:
        out.append(f"[offset:{parsed.offset_ms:+d}]")
    for line in parsed.lines:
        if not parsed.synced or line.start_ms is None:
            out.append(line.text)
            continue
        time = _lrc_time(line.start_ms + parsed.offset_ms)
        out.append(f"[{time}]{_text_with_word_times(line, parsed.offset_ms)}")
    return "\n".join(out) + "\n"


def _lrc_time(written_ms: int) -> str:
    minutes, rest_ms = divmod(max(0, written_ms), 60_000)
    seconds, milliseconds = divmod(rest_ms, 1000)
    return f"{minutes:02d}:{seconds:02d}.{milliseconds:03d}"


def _text_with_word_times(line: LyricLine, offset_ms: int) -> str:
    if not line.words:
        return line.text
    starts = word_positions(line.text, [word.text for word in line.words])
    if starts is None:
        return line.text
    pieces = [line.text[: starts[0]]]
    for index, word in enumerate(line.words):
        end = starts[index + 1] if index + 1 < len(starts) else len(line.text)
        pieces.append(f"<{_lrc_time(word.start_ms + offset_ms)}>{line.text[starts[index] : end]}")
    return "".join(pieces)


def word_positions(text: str, words: list[str]) -> list[int] | None:
    """Where each word starts in `text`, found from the end: parse_lyrics's words end the text
    and have only whitespace between them (searching from the start could find a word in the
    untimed text ahead of the first one). None when the words do not lie so."""
    starts: list[int] = []
    end = len(text)
    for word in reversed(words):
        if not word or not text[:end].endswith(word):
            return None
        start = end - len(word)
        starts.append(start)
        end = len(text[:start].rstrip())
    return starts[::-1]
