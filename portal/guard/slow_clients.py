"""gunicorn's gthread worker, hardened against slow clients (SECURITY.md, "Slow clients").

- A request's head is read by the worker's main loop, not by a pool thread: a connection joins the
  pool only once its whole head (up to the blank line) has arrived, and is closed if that takes
  longer than the header timeout. Connections that trickle their head a byte at a time (slow loris)
  therefore hold no thread at all, however many there are.
- So is a small body (a declared Content-Length up to SMALL_BODY_BYTES: every form without files,
  sign-in included), within the header timeout, the grace period and the minimum rate: slow forms
  hold no thread either. A larger or chunked body is read by a thread, and the application lets at
  most a few of those run at once (work_slots.upload, 503 beyond), so some threads are always left
  for pages and sign-in.
- A request body must keep up a minimum rate: after a grace period the bytes received must reach
  `min_rate` per second since the body began, and no read may wait longer than the idle timeout;
  otherwise the read fails (BodyTooSlow, answered 400) and the thread is free again.
- The anonymous receipt check (`/status`, GET, and POST with a small body already read), the one
  form a flood can send without limit, is handled by threads of its own (half the worker's
  threads) at the lowest CPU priority (PORTAL_RECEIPT_NICE, 19; set once per thread, as an
  unprivileged server cannot raise it back). A flood of guesses then never holds the threads
  pages, sign-ins and disclosures use, and gets only the CPU they leave over.
Settings come from the environment `portal serve` sets for its workers (PORTAL_HEADER_TIMEOUT, ...).
"""

from __future__ import annotations

import errno
import os
import queue
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from gunicorn.http.body import LengthReader
from gunicorn.http.errors import NoMoreData
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from portal.guard.work_slots import (  # a body up to SMALL_BODY_BYTES is read by the main loop
    SMALL_BODY_BYTES,
    lower_this_thread,
)

LINGER_SECONDS = 2.0  # as gunicorn's graceful close: time for the client to read the answer
LINGER_BYTES = 64 * 1024


class _Lingerer:
    """Closes connections gracefully (RFC 9112 section 9.6: FIN, then read and drop what the client
    still sends for a moment, so the kernel sends no RST that could destroy the answer) without
    blocking anyone.

    gunicorn does this on the worker's main loop, up to 2 s per connection: twenty clients still
    sending the body of a refused request would stop the worker for 40 s. Here one thread lingers on
    all of them at once."""

    def __init__(self) -> None:
        self.incoming: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def close(self, sock: socket.socket, unread: int = 0, min_rate: int = 1024) -> None:
        """Close `sock` once the client has sent what it still had to send: the `unread` rest of
        the body it declared (up to the discard bound), as long as it keeps up `min_rate` bytes a
        second after LINGER_SECONDS, or LINGER_BYTES when nothing more is declared."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        self.incoming.put((sock, max(unread, LINGER_BYTES), max(1, min_rate)))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="portal-linger", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        # sock -> [started, bytes drained, bytes to drain, minimum rate]
        lingering: dict[socket.socket, list] = {}
        while True:
            while not self.incoming.empty():
                sock, limit, rate = self.incoming.get()
                lingering[sock] = [time.monotonic(), 0, limit, rate]
                selector.register(sock, selectors.EVENT_READ)
            for key, _ in selector.select(timeout=0.1):
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                lingering[sock][1] += len(data)
                if not data:
                    lingering[sock][2] = 0  # the client closed: done
            now = time.monotonic()
            for sock in [
                s
                for s, (started, drained, limit, rate) in lingering.items()
                if drained >= limit or now > started + LINGER_SECONDS + drained / rate
            ]:
                selector.unregister(sock)
                del lingering[sock]
                sock.close()


_LINGERER = _Lingerer()


class LingeringConn(TConn):
    """A connection whose graceful close lingers off the main loop (_Lingerer), long enough to
    take the rest of a body the application did not read (a refused or pre-empted upload), up to
    the discard bound, so that a client still sending sees the answer instead of a reset."""

    discard_bytes = 32 * 1024 * 1024
    min_rate = 1024

    def close(self, graceful=False):
        if graceful:
            _LINGERER.close(self.sock, min(self.unread_body(), self.discard_bytes), self.min_rate)
        else:
            super().close()

    def unread_body(self) -> int:
        """What the client declared it would still send of the current body (the discard bound
        for a chunked one)."""
        body = getattr(getattr(self.parser, "mesg", None), "body", None)
        reader = getattr(body, "reader", None)
        if reader is None:
            return 0
        if isinstance(reader, LengthReader):
            return max(0, reader.length)
        return self.discard_bytes


MAX_HEAD_BYTES = 64 * 1024  # beyond gunicorn's own limits: the parser refuses such a head anyway


def small_body_length(head: bytes) -> int | None:
    """The Content-Length a complete request head declares, when the main loop should read that
    body: 1 to SMALL_BODY_BYTES, not chunked, no `Expect: 100-continue` (that client waits to be
    asked). None otherwise (no body, a large or chunked one, or a head the parser will refuse
    anyway)."""
    length = None
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in (b"transfer-encoding", b"expect"):
            return None
        if name == b"content-length":
            value = value.strip()
            if length is not None or not value.isdigit() or len(value) > 9:
                return None
            length = int(value)
    return length if length and length <= SMALL_BODY_BYTES else None


def _env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class BodyTooSlow(NoMoreData):
    """The client sends its body slower than the minimum rate, or paused longer than the idle
    timeout."""

    def __str__(self) -> str:
        return "request body too slow"


class PacedUnreader(SocketUnreader):
    """A socket reader that fails a body read falling behind `min_rate` bytes per second (after
    `grace` seconds) or waiting longer than `idle` seconds for any byte."""

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


def is_receipt_check(head: bytes) -> bool:
    """Whether a request head asks for the receipt check (`GET` or `POST /status`, any query)."""
    line = bytes(head[: head.find(b"\n")]) if b"\n" in head else bytes(head)
    parts = line.split()
    if len(parts) < 2 or parts[0] not in (b"GET", b"HEAD", b"POST"):
        return False
    return parts[1].split(b"?", 1)[0] == b"/status"


def _head_end(data: bytes) -> int | None:
    """Where a request head ends (just past its blank line), or None if it has not yet."""
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
    return min(ends) if ends else None


class HeadFirstWorker(ThreadWorker):
    """gthread with request heads read by the main loop, and paced bodies (see the module
    docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = _env("PORTAL_HEADER_TIMEOUT", 10)
        self.body_idle = _env("PORTAL_BODY_IDLE_TIMEOUT", 30)
        self.min_rate = max(1, _env("PORTAL_MIN_BODY_RATE", 1024))
        self.grace = _env("PORTAL_BODY_RATE_GRACE", 30)
        LingeringConn.discard_bytes = _env("PORTAL_DISCARD_BODY_BYTES", 32 * 1024 * 1024)
        LingeringConn.min_rate = self.min_rate
        self.heading: dict[TConn, float] = {}  # connections whose head is arriving -> deadline
        self.receipt_nice = _env("PORTAL_RECEIPT_NICE", 19)
        self.receipt_pool: ThreadPoolExecutor | None = None
        self.receipt_checks = 0  # handed to the receipt checks' own threads, for tests

    def init_process(self):
        # Made in the worker (after the fork): threads do not survive one.
        self.receipt_pool = ThreadPoolExecutor(
            max(1, self.cfg.threads // 2),
            thread_name_prefix="receipt-check",
            initializer=lower_this_thread,
            initargs=(self.receipt_nice,),
        )
        super().init_process()

    def enqueue_req(self, conn):
        head = getattr(conn, "head", None) or b""
        # A check's form is small, read here already (`needed`); a large or chunked body sent to
        # /status takes a common thread and an upload slot, as any other, not a receipt thread.
        whole = not head.startswith(b"POST") or bool(getattr(conn, "needed", 0))
        if self.receipt_pool is None or not (is_receipt_check(head) and whole):
            super().enqueue_req(conn)
            return
        self.receipt_checks += 1
        task = self.receipt_pool.submit(self.handle, conn)
        task.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def handle_quit(self, sig, frame):
        if self.receipt_pool is not None:
            self.receipt_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_head(LingeringConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        # A kept-alive connection's next request: its head, too, is gathered here first.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _await_head(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.head = bytearray()
        conn.needed = (
            None  # bytes to gather before a thread takes it: head, and a small body if any
        )
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
        if conn.needed is None:
            end = _head_end(conn.head)
            if end is None and len(conn.head) <= MAX_HEAD_BYTES:
                return
            body = small_body_length(conn.head[:end]) if end is not None else None
            if body is not None:
                # Wait here for the small body too, as long as the minimum rate allows for it.
                conn.needed = end + body
                self.heading[conn] = (
                    time.monotonic() + self.header_timeout + self.grace + body / self.min_rate
                )
            else:
                conn.needed = 0
        if len(conn.head) >= conn.needed:
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

    def _keepalive_after(self, conn, keepalive):
        # gunicorn would read the rest of a body the application left unread (a refused upload, a
        # 413) in this thread, for seconds, to keep the connection alive; and it ignores an
        # application's "Connection: close". Close instead: the lingerer takes what the client still
        # sends, off-thread.
        body = getattr(getattr(conn.parser, "mesg", None), "body", None)
        reader = getattr(body, "reader", None)
        if (
            keepalive
            and reader is not None
            and not (isinstance(reader, LengthReader) and reader.length == 0)
        ):
            return False
        return super()._keepalive_after(conn, keepalive)
