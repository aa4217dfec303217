"""A small demo catalog with real, playable audio and cover images, made on the spot.

Each song is a short melody of sine tones (a WAV file written with the standard library's
`wave` module) and each cover a two-colour gradient drawn with Pillow, so `make run` gives a
player something to stream without shipping media files.
"""

import io
import math
import wave
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFont

SAMPLE_RATE = 16_000
NOTE_SECONDS = 1.25
# A major pentatonic scale over two octaves from A3: every melody below stays in tune.
_SCALE = [220.0 * 2 ** (step / 12) for step in (0, 2, 4, 7, 9, 12, 14, 16, 19, 21)]


@dataclass(frozen=True)
class DemoSong:
    title: str
    artist: str
    melody: tuple[int, ...]  # indexes into the scale, one per note
    # A single's own; an album's songs are of its genre and year, numbered in its order.
    genre: str | None = None
    year: int | None = None


@dataclass(frozen=True)
class DemoAlbum:
    title: str
    artist: str
    release_year: int
    genre: str
    colors: tuple[str, str]
    songs: tuple[DemoSong, ...]


DEMO_ALBUMS = (
    DemoAlbum(
        "Morning Sines",
        "The Oscillators",
        2021,
        "Ambient",
        ("#f6d365", "#fda085"),
        (
            DemoSong("First Light", "The Oscillators", (0, 2, 4, 5)),
            DemoSong("Coffee at Dawn", "The Oscillators", (4, 3, 2, 0)),
            DemoSong("Open Window", "The Oscillators", (1, 3, 5, 7)),
            DemoSong("Long Shadows", "The Oscillators", (7, 5, 4, 2)),
        ),
    ),
    DemoAlbum(
        "Low Frequencies",
        "Bass Theory",
        2019,
        "Electronic",
        ("#1e3c72", "#2a5298"),
        (
            DemoSong("Deep Water", "Bass Theory", (0, 0, 2, 1)),
            DemoSong("Undertow", "Bass Theory", (2, 1, 0, 1)),
            DemoSong("Tidal", "Bass Theory", (0, 3, 0, 4)),
            DemoSong("Sea Floor", "Bass Theory", (1, 0, 1, 3)),
        ),
    ),
    DemoAlbum(
        "Square One",
        "Nina Hertz",
        2023,
        "Synth-pop",
        ("#43e97b", "#38f9d7"),
        (
            DemoSong("Hello, World", "Nina Hertz", (5, 7, 9, 7)),
            DemoSong("Loop Forever", "Nina Hertz", (9, 8, 7, 6)),
            DemoSong("Off by One", "Nina Hertz", (6, 7, 6, 8)),
            DemoSong("Green Build", "Nina Hertz", (4, 6, 8, 9)),
        ),
    ),
)

DEMO_SINGLES = (
    DemoSong("Night Drive", "Mono Mira", (3, 5, 6, 5), "Synth-pop", 2022),
    DemoSong("Paper Planes", "Mono Mira", (8, 6, 4, 6), "Synth-pop", 2024),
    DemoSong("Cassette", "Tape Hiss", (2, 4, 2, 6), "Lo-fi", 2020),
    DemoSong("Rewind", "Tape Hiss", (6, 4, 3, 1), "Lo-fi", 2021),
    DemoSong("Northern Lights", "Aurora Signal", (0, 4, 7, 9), "Ambient", 2018),
    DemoSong("Static", "Aurora Signal", (9, 7, 4, 0), "Ambient", 2019),
    DemoSong("Slow Motion", "Kilo Cycle", (1, 2, 3, 4), "Electronic", 2023),
    DemoSong("Last Train", "Kilo Cycle", (5, 3, 1, 0), "Electronic", 2025),
)
SINGLE_COLORS = (("#a18cd1", "#fbc2eb"), ("#ff9a9e", "#fecfef"), ("#84fab0", "#8fd3f4"))

# The audio files docs/songs.sample.csv names, by file name, and the tune of each: written
# into storage's songs/ folder (manage.py seed_sample_audio, and with the demo catalog), as
# an operator copies audio in before importing. Short, to keep them small (~64 KB each).
SAMPLE_IMPORT_FOLDER = "songs/"
SAMPLE_IMPORT_AUDIO = {
    "blue-hour.wav": (2, 4, 5, 4),
    "second-wind.wav": (5, 6, 8, 9),
    "guest-verse.wav": (3, 1, 3, 5),
    "birdsong.wav": (9, 8, 9, 7),
    "a-single.wav": (0, 2, 0, 4),
}
SAMPLE_NOTE_SECONDS = 0.5


def melody_wav(melody: Sequence[int], *, note_seconds: float = NOTE_SECONDS) -> bytes:
    """A mono 16-bit WAV playing `melody`, each note with a soft attack and release."""
    samples = array("h")
    per_note = int(SAMPLE_RATE * note_seconds)
    fade = int(SAMPLE_RATE * 0.03)  # 30 ms: no clicks between notes
    for index in melody:
        frequency = _SCALE[index % len(_SCALE)]
        step = 2 * math.pi * frequency / SAMPLE_RATE
        for n in range(per_note):
            envelope = min(1.0, n / fade, (per_note - n) / fade)
            # The fundamental with a quiet octave above it: rounder than a bare sine.
            value = math.sin(step * n) + 0.25 * math.sin(2 * step * n)
            samples.append(int(value * envelope * 0.6 * 32767 / 1.25))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples.tobytes())
    return buffer.getvalue()


def cover_jpeg(title: str, colors: tuple[str, str], *, size: int = 400) -> bytes:
    """A square cover: a diagonal gradient between two colours with the title on it."""
    vertical = Image.linear_gradient("L").resize((size, size))
    mask = ImageChops.add(vertical, vertical.rotate(90), scale=2)  # corner to corner
    image = Image.composite(
        Image.new("RGB", (size, size), colors[1]), Image.new("RGB", (size, size), colors[0]), mask
    )
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size // 12)
    draw.text((size // 2, size // 2), title, fill="white", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
