"""Raw-socket uploads against a served portal, for the served upload tests: a disclosure's head and
body sent at a chosen pace while the answer is read, as a browser still sending would."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

from tests.support import HttpClient, csrf_token, disclosure_fields, multipart


def disclosure_request(port: int, details: str, files=()) -> tuple[bytes, bytes]:
    """A fresh client's disclosure: (head, body), with its own session and form token."""
    client = HttpClient("127.0.0.1", port)
    token = csrf_token(client.get("/disclose").text)
    body, content_type = multipart(disclosure_fields(token, details), files)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (f"POST /disclose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n").encode()
    return head, body


@dataclass
class Sending:
    """One upload in flight: a thread sends its body at `rate` bytes a second while `answer`
    collects what the server says, until it closes the connection."""

    sock: socket.socket
    body: bytes
    rate: float
    sent: int = 0
    send_error: str = ""
    read_error: str = ""
    answer: bytearray = field(default_factory=bytearray)
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "Sending":
        self._threads = [threading.Thread(target=self._send, daemon=True),
                         threading.Thread(target=self._read, daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def _send(self) -> None:
        step = max(1, int(self.rate / 20))  # twenty pieces a second
        started = time.monotonic()
        try:
            while self.sent < len(self.body) and not self.stop.is_set():
                piece = self.body[self.sent:self.sent + step]
                self.sock.sendall(piece)
                self.sent += len(piece)
                pause = started + self.sent / self.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        except OSError as exc:
            self.send_error = type(exc).__name__

    def _read(self) -> None:
        # Until the whole answer is in, not until the server closes: a kept-alive connection stays
        # open for the server's keep-alive seconds after it. A reset before the answer's last byte
        # is still a read_error.
        try:
            while not self.answered and (chunk := self.sock.recv(65536)):
                self.answer += chunk
        except OSError as exc:
            self.read_error = type(exc).__name__

    @property
    def answered(self) -> bool:
        """The answer's head and as many body bytes as its Content-Length says have arrived."""
        head, end, body = bytes(self.answer).partition(b"\r\n\r\n")
        if not end:
            return False
        length = self.headers.get("content-length")
        return length is not None and len(body) >= int(length)

    def wait(self, timeout: float) -> "Sending":
        """Until the server has answered and the body is sent (or it stopped); then the connection
        is closed, as the client is done with it."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.stop.set()
        if not any(thread.is_alive() for thread in self._threads):
            self.close()
        return self

    def close(self) -> None:
        """End the connection now. shutdown() first: close() alone leaves it open while a thread
        is blocked in recv() on it, and the server's thread would wait out its body idle timeout
        (and a stopping server its graceful timeout) for a client that is gone."""
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    @property
    def status(self) -> int:
        line = bytes(self.answer).split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 else 0

    @property
    def headers(self) -> dict[str, str]:
        head = bytes(self.answer).split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}

    @property
    def page(self) -> str:
        return bytes(self.answer).split(b"\r\n\r\n", 1)[-1].decode(errors="replace")


def send_upload(port: int, details: str, files, rate: float) -> Sending:
    """Start a disclosure with `files` whose head goes at once and whose body goes at `rate`."""
    head, body = disclosure_request(port, details, files)
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    sock.sendall(head)
    return Sending(sock, body, rate).start()
