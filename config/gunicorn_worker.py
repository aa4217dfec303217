"""gunicorn's sync worker, without waiting for the client to hang up after each answer.

A sync worker answers one request per connection (`Connection: close`), then closes it with
`gunicorn.util.close_graceful` (gunicorn 27): it sends its FIN and keeps reading until the
client closes its side too, up to 2 s, so that unread request bytes in the kernel's buffer
cannot make the close a reset that cuts the answer short (RFC 9112, section 9.6). The worker
takes no other request meanwhile: under load a third of its time went to that wait
(docs/PERFORMANCE.md, "A sync worker's close").

When the request's body was read whole (a GET has none) and nothing more waits in the
kernel's buffer, which is the usual case, a plain close sends the same FIN and no reset, so
this worker makes the read side report the end at once and `close_graceful` returns without
waiting. A body not read to its end (a 413 before an upload arrived: more may still be on
its way), a chunked one, or bytes waiting (a pipelined request) keep gunicorn's lingering
close.

    gunicorn config.wsgi:application -k config.gunicorn_worker.SyncWorker  (deploy/gunicorn.conf.py)
"""

import socket

from gunicorn.http.body import EOFReader, LengthReader
from gunicorn.http.message import Request
from gunicorn.workers import sync


def body_read_whole(req: Request) -> bool:
    """True when the request declared a length and all of it was read, or declared none."""
    reader = req.body.reader if req.body is not None else None
    if isinstance(reader, LengthReader):
        return reader.length == 0
    return isinstance(reader, EOFReader)  # no length and not chunked: a request without a body


def nothing_left_to_read(client: socket.socket) -> bool:
    """True when the client has sent nothing that was not read (nor closed its side)."""
    try:
        client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True  # the buffer is empty and the connection open
    except OSError:
        return False  # reset or gone: gunicorn's own close deals with it
    return False  # a byte waits, or the client closed first (b""): linger as gunicorn does


class SyncWorker(sync.SyncWorker):
    def handle_request(self, listener, req, client, addr) -> None:  # type: ignore[no-untyped-def]
        super().handle_request(listener, req, client, addr)
        if body_read_whole(req) and nothing_left_to_read(client):
            # Ends the read side: `close_graceful`'s read returns at once, then it closes.
            client.shutdown(socket.SHUT_RD)
