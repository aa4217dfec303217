"""A TCP proxy a test controls, to make a database unreachable in the two ways networks do.

- `refuse()`: nothing listens any more (connection refused at once), and every open link is
  cut, as when the database's host is up but PostgreSQL is not.
- `blackhole()`: new connections are accepted and never answered, and every open link is
  cut (a host gone from the network behind a load balancer that resets what it had).
- `stall()`: new connections are accepted and never answered, and open links stay open but
  carry nothing more (a database host that froze, or a network that silently drops): the
  proxy's kernel still acknowledges every packet, so only the application can give up.
- `restore()`: forwards again; the connections held or stalled are closed.
"""

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "pass"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was shut
            with self._lock:
                self._sockets.append(client)
                if self.mode in ("blackhole", "stall"):
                    continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.mode != "stall":
                    sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def _cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _stop_listening(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._listener.close()
            self._listener = None

    def refuse(self) -> None:
        self.mode = "refuse"
        self._stop_listening()
        self._cut()

    def blackhole(self) -> None:
        self.mode = "blackhole"
        self._cut()

    def stall(self) -> None:
        self.mode = "stall"

    def restore(self) -> None:
        self.mode = "pass"
        self._cut()
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._stop_listening()
        self._cut()
