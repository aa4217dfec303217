"""What any app may announce about a user, for whoever listens (the Socket.IO transport,
subscribed in `MessagingConfig.ready`). Defined here, below both library and messaging, so
that the app that announces and the one that listens need not import each other."""

from django.dispatch import Signal

# Sent after commit when a user starts doing something others may see (library's now playing:
# "Playing <title> by <artist>"). Arguments: `user_id` (int) and `activity` (str), the text
# the `activity_updated` Socket.IO event carries.
activity_changed = Signal()
