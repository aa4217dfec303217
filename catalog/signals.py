"""What the catalog announces: about songs' audio, for the media pipeline (processing/, which
subscribes in its AppConfig.ready) without the catalog importing it.

Both are sent inside the transaction that makes the change, so that a receiver which enqueues
a job enqueues it in that same transaction: committed with the row or not at all.
"""

from django.dispatch import Signal

# A song's audio is new (created) or replaced. Arguments: `song_id` (int).
audio_changed = Signal()
# Albums gained or lost a song (created into one, moved, deleted): their loudness as a whole
# is to be measured again. Arguments: `album_ids` (a set of int, never empty).
album_tracks_changed = Signal()

# A listener's plays were recorded (the REST play, Subsonic `scrobble`), sent inside the
# transaction that writes them: scrobbling/ queues their submission in it, so a rolled-back
# play is never sent. Arguments: `user_id` (int), `play_ids` (a list of int, never empty).
plays_recorded = Signal()
# A listener's player started a song ("now playing", library's `now_playing_set`), sent
# inside its transaction. Arguments: `user_id` (int), `song_id` (int).
now_playing_changed = Signal()
