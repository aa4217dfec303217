"""A TCP proxy in front of the test bucket (moto's server) that can make it misbehave.

Real sockets, nothing patched: boto3 talks HTTP to the proxy, which relays to moto, or

- `refuse()`: stops listening, so connections are refused (ECONNREFUSED), as from a host
  whose server is down;
- `hang()`: accepts connections and reads what comes, but never answers, as a bucket that
  is stuck (or a firewall that swallows packets after the handshake);
- `cut_after(n, then=...)`: relays, but resets a connection once the client has sent more than
  `n` bytes on it (an upload's part dies midway); `then="refuse"` refuses everything after the
  first cut, as a bucket that went down in the middle of an upload;
- `stall_after(n)`: relays, but once a connection has sent more than `n` bytes stops relaying
  it (reading and dropping what comes, answering nothing), and hangs every connection from
  then on: a bucket that gets stuck in the middle of an upload;
- `relay()`: back to normal.

Switching mode closes the connections already open, so a pooled keep-alive connection does
not outlive the fault.
"""

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

BUFFER = 64 * 1024


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").rsplit(":", 1)
        self._upstream = (host, int(port))
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._mode = "relay"
        self._cut_bytes = 0
        self._then = "relay"
        self.cuts = 0
        self._listener: socket.socket | None = None
        self.port = self._listen(0)
        self.url = f"http://127.0.0.1:{self.port}"

    # --- modes -------------------------------------------------------------------------

    def relay(self) -> None:
        self._switch("relay")

    def refuse(self) -> None:
        self._switch("refuse")

    def hang(self) -> None:
        self._switch("hang")

    def cut_after(self, size: int, *, then: str = "relay") -> None:
        self._cut_bytes, self._then = size, then
        self._switch("cut")

    def stall_after(self, size: int) -> None:
        self._cut_bytes, self._then = size, "hang"
        self._switch("stall")

    def close(self) -> None:
        self._switch("closed")

    @property
    def mode(self) -> str:
        return self._mode

    # --- machinery ---------------------------------------------------------------------

    def _switch(self, mode: str) -> None:
        with self._lock:
            self._mode = mode
            for sock in list(self._sockets):
                _reset(sock)
            self._sockets.clear()
            if mode in ("refuse", "closed"):
                if self._listener is not None:
                    with suppress(OSError):  # wakes the thread blocked in accept()
                        self._listener.shutdown(socket.SHUT_RDWR)
                    self._listener.close()
                    self._listener = None
            elif self._listener is None:
                self._listen(self.port)

    def _listen(self, port: int) -> int:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener.getsockname()[1]

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: refusing now
            with self._lock:
                mode = self._mode
                self._sockets.add(client)
            if mode == "hang":
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self._upstream)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._sockets.add(server)
            limit = self._cut_bytes if mode in ("cut", "stall") else None
            for source, target, cap in ((client, server, limit), (server, client, None)):
                threading.Thread(
                    target=self._pump, args=(source, target, cap, mode), daemon=True
                ).start()

    def _swallow(self, client: socket.socket) -> None:
        try:
            while client.recv(BUFFER):
                pass
        except OSError:
            pass

    def _pump(
        self, source: socket.socket, target: socket.socket, limit: int | None, mode: str
    ) -> None:
        sent = 0
        try:
            while data := source.recv(BUFFER):
                sent += len(data)
                if limit is not None and sent > limit:
                    if mode == "stall":
                        self._stall(source)
                    else:
                        self._cut(source, target)
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _stall(self, client: socket.socket) -> None:
        self.cuts += 1
        with self._lock:
            self._mode = self._then  # new connections hang; this one is swallowed
        self._swallow(client)

    def _cut(self, client: socket.socket, server: socket.socket) -> None:
        _reset(client)
        _reset(server)
        self.cuts += 1
        if self._then != "relay":
            self._switch(self._then)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0): the peer sees the connection die, not end."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
    except OSError:
        pass
    sock.close()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
