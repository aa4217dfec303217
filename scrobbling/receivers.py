"""The catalog's and library's announcements (catalog/signals.py), turned into jobs."""

from typing import Any

from scrobbling import services


def on_plays_recorded(sender: Any, *, user_id: int, play_ids: list[int], **kwargs: Any) -> None:
    services.plays_submit_queue(user_id=user_id, play_ids=list(play_ids))


def on_now_playing_changed(sender: Any, *, user_id: int, song_id: int, **kwargs: Any) -> None:
    services.now_playing_queue(user_id=user_id, song_id=song_id)
