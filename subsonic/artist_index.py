"""The artist index (getArtists, getIndexes, the music folder) built once per catalog change,
not once per request: at a million songs it is 5,000 artists and their album counts, about
100 ms of query and as much again of sorting and shaping, the same for every listener.

What is built is kept in this process, under the index's generation: a token in the shared
cache (Redis) that every committed write able to change the index replaces (subsonic/signals.py:
an artist, an album or a song's artist added, changed or deleted). Each read asks the cache
for the generation (one round trip, a few bytes) and rebuilds when it is not the one it built
under. A read that was building while a write committed keeps the generation it started
under, so the next read builds again.

Writes no signal reports (queryset.update(), SQL) and, without Redis, the other processes'
writes (each process has its own cache then) show after at most MAX_AGE_SECONDS.
"""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

GENERATION_KEY = "subsonic:artist-index:generation"
# At most this long between two builds in a process, whatever the generation says.
MAX_AGE_SECONDS = 60


@dataclass
class _Built:
    generation: str
    built_at: float
    # What was built under this generation, by name (the sorted artists, getArtists' index).
    parts: dict[str, Any] = field(default_factory=dict)


_current: _Built | None = None
_lock = threading.Lock()


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:  # first read, or evicted: any new generation will do
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    # Still None only when the cache keeps nothing (the dummy backend): build every time.
    return generation or uuid.uuid4().hex


def invalidate() -> None:
    """Make the next read of every process build the index again (after commit)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def cached(name: str, build: Callable[[], Any]) -> Any:
    """What `build()` answers, built once per generation of the index (and MAX_AGE_SECONDS)
    in this process. Shared by every request: never change what it answers."""
    global _current
    generation = _generation()
    now = time.monotonic()
    current = _current
    if (
        current is None
        or current.generation != generation
        or now - current.built_at > MAX_AGE_SECONDS
    ):
        current = _Built(generation=generation, built_at=now)
        with _lock:
            _current = current
    if name not in current.parts:
        current.parts[name] = build()
    return current.parts[name]
