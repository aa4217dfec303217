"""What the catalog announces about songs' audio, for the media pipeline (processing/, which
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
