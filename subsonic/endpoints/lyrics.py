"""getLyricsBySongId (the songLyrics extension, versions 1 and 2): a song's lyrics as
`structuredLyrics`, from the lyrics stored for it (catalog/lyrics.py parsed them once).

The stored times already include the file's `[offset:]`, so `offset` is 0 here: a client
that applied the file's offset again would show every line twice shifted. A song without
lyrics answers an empty list, as the specification's "all structured lyrics" of none. With
`enhanced=true` (version 2) a synced song whose file gave word timings adds `kind` and a
`cueLine` per such line: each word's start, its end (the next word's start, the next
line's for the last), and its byte offsets in the line's UTF-8 text (0-based, inclusive).
"""

from typing import Any

from catalog.lyrics import word_positions
from catalog.models import Lyrics, Song
from catalog.selectors.lyrics import lyrics_of
from catalog.selectors.songs import song_get
from subsonic import ids
from subsonic.ids import Kind
from subsonic.registry import Body, Call, endpoint

ENHANCED_NOT_BOOLEAN = "enhanced must be true or false."
# ISO 639's "undetermined": what the specification asks for when the language is unknown.
UNKNOWN_LANGUAGE = "und"


def _cues(text: str, words: list[dict[str, Any]], end_ms: int | None) -> list[dict[str, Any]]:
    """Each word's cue; none when the words do not lie in the line's text as parsed."""
    starts = word_positions(text, [word["text"] for word in words])
    if starts is None:
        return []
    cues = []
    for index, (word, start) in enumerate(zip(words, starts, strict=True)):
        byte_start = len(text[:start].encode())
        following = words[index + 1]["start_ms"] if index + 1 < len(words) else end_ms
        cue = {"start": word["start_ms"], "value": word["text"]}
        if following is not None:
            cue["end"] = following
        cue["byteStart"] = byte_start
        cue["byteEnd"] = byte_start + len(word["text"].encode()) - 1
        cues.append(cue)
    return cues


def _cue_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cue_lines = []
    for index, line in enumerate(lines):
        if not line.get("words"):
            continue
        end_ms = lines[index + 1]["start_ms"] if index + 1 < len(lines) else None
        cues = _cues(line["text"], line["words"], end_ms)
        if not cues:
            continue
        cue_line = {"index": index, "start": line["start_ms"], "value": line["text"]}
        if end_ms is not None:
            cue_line["end"] = end_ms
        cue_lines.append({**cue_line, "cue": cues})
    return cue_lines


def structured_lyrics(song: Song, lyrics: Lyrics, *, enhanced: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "displayArtist": song.artist_name,
        "displayTitle": song.title,
        "lang": lyrics.lang or UNKNOWN_LANGUAGE,
        "offset": 0,
        "synced": lyrics.synced,
        "line": [
            {"start": line["start_ms"], "value": line["text"]}
            if lyrics.synced
            else {"value": line["text"]}
            for line in lyrics.lines
        ],
    }
    if enhanced:
        entry["kind"] = "main"
        if lyrics.synced and (cue_lines := _cue_lines(lyrics.lines)):
            entry["cueLine"] = cue_lines
    return entry


@endpoint("getLyricsBySongId")
def get_lyrics_by_song_id(call: Call) -> Body:
    ref = ids.parse_as(call.params.required("id"), Kind.SONG)
    enhanced = call.params.boolean("enhanced", default=False, invalid=ENHANCED_NOT_BOOLEAN)
    song = song_get(song_id=ref.pk)  # error 70 for an unknown song
    lyrics = lyrics_of(song_id=song.pk)
    found = [] if lyrics is None else [structured_lyrics(song, lyrics, enhanced=enhanced)]
    return {"lyricsList": {"structuredLyrics": found}}
