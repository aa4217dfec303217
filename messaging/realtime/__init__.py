"""Real-time chat and presence over Socket.IO at `/socket.io/` (API.md, "Real time").

- `server`: the `AsyncServer`, its rooms and the presence store, chosen by `REDIS_URL` and
  built on first use (by `events`).
- `presence`: who is online (several tabs count once) and what they are doing.
- `events`: the Socket.IO events, and the startup and shutdown hooks of the ASGI app
  (`config.asgi` mounts the server beside Django).
- `push`: how synchronous Django code reaches open sockets; it listens to
  `messaging.signals.message_committed` (connected in `MessagingConfig.ready`).
"""
