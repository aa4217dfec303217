"""What the Jam services announce after commit; the Socket.IO side (jams/push.py) pushes it.

- `jam_changed(jam_id)`: members, rights or queue changed: the room gets `jam_state`.
- `jam_commanded(jam_id, command)`: playback changed: the room gets `jam_command`.
- `jam_ended(jam_id, reason, user_ids)`: the Jam closed, or (reason "removed") these members
  were put out: their sockets get `jam_closed` and leave its room.
"""

from django.dispatch import Signal

jam_changed = Signal()
jam_commanded = Signal()
jam_ended = Signal()
