"""Test helpers: a multipart encoder that writes bodies the way browsers do, and a small HTTP client
for servers run as separate processes (it keeps Secure cookies on loopback, which http.cookiejar drops)."""
from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, Iterable
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent.parent


def multipart(fields: Iterable[tuple[str, str]], files: Iterable[tuple[str, str, bytes]] = ()) -> tuple[bytes, str]:
    """Encode a form as multipart/form-data exactly as a browser does (CRLF before every boundary)."""
    boundary = "----PortalTestBoundary" + secrets.token_hex(8)
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, data in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def post_multipart(client, path: str, fields, files=(), **kwargs):
    """POST a browser-style multipart body through a Flask test client."""
    body, content_type = multipart(fields, files)
    return client.post(path, data=body, content_type=content_type, **kwargs)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no csrf_token field on the page"
    return m.group(1)


# The code's text, wherever its groups are marked up (`<span class="receipt-group">`).
RECEIPT_RE = re.compile(r'<code id="receipt">(.+?)</code>')


def receipt_from(html: str) -> str:
    m = RECEIPT_RE.search(html)
    assert m, "no receipt on the page"
    return re.sub(r"<[^>]+>", "", m.group(1))


def disclosure_fields(token: str, details: str, channel: str = "Audit and Risk", **overrides) -> list[tuple[str, str]]:
    values = {"csrf_token": token, "channel": channel, "category": "public_funds",
              "summary": "Payments to a director's company", "details": details,
              "disclosed_elsewhere": "no", "contact": ""}
    values.update(overrides)
    return list(values.items())


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class HttpClient:
    """A browser-like client over real HTTP: keeps cookies by name (Secure ones too, on loopback)."""
    host: str
    port: int
    source_address: str | None = None
    user_agent: str = "PortalTest/1.0"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | BinaryIO | None = None,
                headers: dict[str, str] | None = None, timeout: float = 120) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=(self.source_address, 0) if self.source_address else None)
        all_headers = {"User-Agent": self.user_agent}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in header.lower() or "max-age=0" in header.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        return Response(resp.status, resp.headers, data)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, fields, files=()) -> Response:
        body, content_type = multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int
    output_path: Path

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.output()


def start_server(data_dir: Path, *, env: dict[str, str] | None = None, argv_prefix: list[str] | None = None,
                 workers: int = 2, output_dir: Path | None = None) -> ServerProcess:
    """Run `portal serve` as its own process on loopback and wait until it answers. Its output goes
    beside the data directory, or into `output_dir` (when that disk is full, for instance)."""
    port = free_port()
    output_path = (output_dir or data_dir.parent) / f"server-{port}.log"
    command = (argv_prefix or [sys.executable, "-m", "portal"]) + [
        "--data", str(data_dir), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return _started(command, port, output_path, env)


def start_service_server(service_dir: Path, *, workers: int = 1) -> ServerProcess:
    """Run `portal service serve DIR` as its own process on loopback and wait until it answers."""
    port = free_port()
    command = [sys.executable, "-m", "portal", "service", "serve", str(service_dir), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    return _started(command, port, service_dir.parent / f"server-{port}.log", None)


def _started(command: list[str], port: int, output_path: Path, env: dict[str, str] | None) -> ServerProcess:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(output_path, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)
    server = ServerProcess(process, port, output_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited early:\n" + server.output())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not start:\n" + server.output())


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(path)
    return hits


def raw_request(host: str, port: int, data: bytes, *, source_address: str | None = None,
                timeout: float = 10) -> bytes:
    """Send bytes as they are (malformed requests included), close the sending side, and return whatever
    the server answers until it closes the connection."""
    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=(source_address, 0) if source_address else None) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may answer and close before it has read everything
            pass
        answer = bytearray()
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        return bytes(answer)


class _FormReader(HTMLParser):
    """Collects each form of a page: its action and the fields a browser would send by default."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "enctype": a.get("enctype", ""), "fields": [],
                               "files": [], "selects": {}})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") == "file":
                self.forms[-1]["files"].append(a["name"])
            elif a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.forms[-1]["fields"].append((a["name"], a.get("value", "on")))
            else:
                self.forms[-1]["fields"].append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.forms[-1]["fields"].append((self._textarea, ""))
            self.forms[-1].setdefault("textareas", []).append(len(self.forms[-1]["fields"]) - 1)
        elif tag == "select":
            self._select = a.get("name")
            self.forms[-1]["selects"][self._select] = []
        elif tag == "option" and self._select:
            self.forms[-1]["selects"][self._select].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, value = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def page_forms(html: str) -> list[dict]:
    """Each form on the page: {'action', 'enctype', 'fields': [(name, value)], 'files': [names],
    'selects': {name: [(value, selected)]}}. Textareas lose the one leading newline HTML drops."""
    reader = _FormReader()
    reader.feed(html)
    for form in reader.forms:
        for i in form.pop("textareas", []):
            name, value = form["fields"][i]
            form["fields"][i] = (name, value.removeprefix("\r\n") if value.startswith("\r\n") else value.removeprefix("\n"))
    return reader.forms


def form_for(html: str, action: str) -> dict:
    """The form on the page that posts to `action`."""
    matches = [f for f in page_forms(html) if f["action"] == action]
    assert matches, f"no form posting to {action}"
    return matches[0]


# --- strace: what a process tree writes, at the system-call level --------------------------------

_SYSCALL = re.compile(r"^(\d+)\s+(\w+)\((.*)")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WRITE_FLAG = re.compile(r"\bO_(WRONLY|RDWR|CREAT|TRUNC|APPEND|TMPFILE)\b")
TRACED = ("open", "openat", "openat2", "creat", "rename", "renameat", "renameat2", "link", "linkat",
          "symlink", "symlinkat", "mkdir", "mkdirat", "truncate")


def strace_writes(trace: str) -> list[tuple[str, str, str]]:
    """(pid, syscall, path) of every write-mode open, rename or link target, created dir, truncation."""
    writes = []
    for line in trace.splitlines():
        m = _SYSCALL.match(line)
        if not m or m.group(2) not in TRACED or "resumed>" in line:
            continue
        pid, call, rest = m.groups()
        paths = [bytes(p, "ascii").decode("unicode_escape") for p in _QUOTED.findall(rest)]
        if not paths:
            writes.append((pid, call, rest))  # a path strace could not show: flag it
        elif call in ("open", "openat", "openat2"):
            if _WRITE_FLAG.search(rest):
                writes.append((pid, call, paths[0]))
        elif call in ("creat", "mkdir", "mkdirat", "truncate"):
            writes.append((pid, call, paths[0]))
        else:  # rename*, link*, symlink*: the new name is the last path
            writes.append((pid, call, paths[-1]))
    return writes
