"""gunicorn's gthread worker, hardened against slow clients (SECURITY.md, "Slow clients").

- A request's head is read by the worker's main loop, not by a pool thread: a connection joins the
  pool only once its whole head (up to the blank line) has arrived, and is closed if that takes
  longer than the header timeout. Connections that trickle their head a byte at a time (slow loris)
  therefore hold no thread at all, however many there are.
- A request body must keep up a minimum rate: after a grace period the bytes received must reach
  `min_rate` per second since the body began, and no read may wait longer than the idle timeout;
  otherwise the read fails (BodyTooSlow, answered 400) and the thread is free again.
Settings come from the environment `portal serve` sets for its workers (PORTAL_HEADER_TIMEOUT, ...).
"""
from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from functools import partial

from gunicorn.http.errors import NoMoreData
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

MAX_HEAD_BYTES = 64 * 1024  # beyond gunicorn's own limits: the parser refuses such a head anyway


def _env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class BodyTooSlow(NoMoreData):
    """The client sends its body slower than the minimum rate, or paused longer than the idle timeout."""

    def __str__(self) -> str:
        return "request body too slow"


class PacedUnreader(SocketUnreader):
    """A socket reader that fails a body read falling behind `min_rate` bytes per second (after `grace`
    seconds) or waiting longer than `idle` seconds for any byte."""

    def __init__(self, sock, idle: float, min_rate: int, grace: float) -> None:
        super().__init__(sock)
        self.idle, self.min_rate, self.grace = idle, min_rate, grace
        self.restart()

    def restart(self) -> None:
        self.started, self.received = time.monotonic(), 0

    def chunk(self, size_hint=None):
        allowed = self.started + self.grace + self.received / self.min_rate - time.monotonic()
        if allowed <= 0:
            raise BodyTooSlow()
        self.sock.settimeout(min(self.idle, allowed))
        try:
            data = super().chunk(size_hint)
        except (socket.timeout, TimeoutError) as exc:
            raise BodyTooSlow() from exc
        finally:
            self.sock.settimeout(None)
        self.received += len(data)
        return data


class HeadFirstWorker(ThreadWorker):
    """gthread with request heads read by the main loop, and paced bodies (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = _env("PORTAL_HEADER_TIMEOUT", 10)
        self.body_idle = _env("PORTAL_BODY_IDLE_TIMEOUT", 30)
        self.min_rate = max(1, _env("PORTAL_MIN_BODY_RATE", 1024))
        self.grace = _env("PORTAL_BODY_RATE_GRACE", 30)
        self.heading: dict[TConn, float] = {}  # connections whose head is arriving -> deadline

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_head(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        # A kept-alive connection's next request: its head, too, is gathered here first.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _await_head(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.head = bytearray()
        self.heading[conn] = time.monotonic() + self.header_timeout
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_bytes, conn))

    def _on_head_bytes(self, conn: TConn, _sock) -> None:
        try:
            data = conn.sock.recv(MAX_HEAD_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.head += data
        if b"\r\n\r\n" in conn.head or b"\n\n" in conn.head or len(conn.head) > MAX_HEAD_BYTES:
            self.poller.unregister(conn.sock)
            del self.heading[conn]
            conn.data_ready = True  # no need to wait for data in the thread: it is here
            self.enqueue_req(conn)

    def _drop(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        del self.heading[conn]
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, deadline in self.heading.items() if deadline <= now]:
            self._drop(conn)  # the head did not arrive within the header timeout

    def handle(self, conn):
        head = getattr(conn, "head", None)
        if head is not None:
            conn.head = None
            conn.sock.setblocking(True)
            conn.init()
            unreader = conn.parser.unreader
            if type(unreader) is SocketUnreader:
                paced = PacedUnreader(unreader.sock, self.body_idle, self.min_rate, self.grace)
                paced.buf = unreader.buf
                conn.parser.unreader = unreader = paced
            if isinstance(unreader, PacedUnreader):
                unreader.restart()
            unreader.unread(bytes(head))
        return super().handle(conn)
