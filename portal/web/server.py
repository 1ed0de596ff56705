"""`portal serve`: gunicorn with gthread workers hardened against slow clients
(portal/guard/slow_clients.py), no access log, and no client address in any log line."""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from werkzeug.exceptions import ClientDisconnected

from portal.core.config import load_settings
from portal.hidden_details import sandbox
from portal.store.blobs import blob_store

# IPv4 and IPv6 literals (a loose match on purpose: over-scrubbing a log line costs nothing).
_ADDRESS = re.compile(
    r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\[?\b(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b\]?"
)
_INVALID_REQUEST = re.compile(r"Invalid request from ip=\S*: ")
# gunicorn's warnings about malformed requests quote what the client sent (its request line, header
# names and values, a transfer coding), which may be its user agent or anything else that identifies
# it. Only the kind of error is kept: the text before the first colon, quote or bracket.
_CLIENT_TEXT = re.compile(r"[:'\"(\[{<]")

# deploy/nginx/portal-proxy.conf carries the same numbers (tests/operations/test_served_nginx.py
# checks them).
DEFAULT_WORKER_TIMEOUT = 300
KEEPALIVE_SECONDS = 5


class _ScrubAddresses(logging.Filter):
    """Removes client addresses from every record, and what the client sent from gunicorn's warnings
    about malformed requests; the server's own listening address is kept."""

    def __init__(self, own_host: str) -> None:
        super().__init__()
        self._own_host = own_host

    def _scrub(self, text: str) -> str:
        return _ADDRESS.sub(
            lambda m: m.group(0) if m.group(0) == self._own_host else "[address]", text
        )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        invalid = _INVALID_REQUEST.search(message)
        if invalid:
            kind = _CLIENT_TEXT.split(message[invalid.end() :], 1)[0].strip() or "malformed request"
            message = f"Invalid request: {kind} (what the client sent is not logged)"
        record.msg = self._scrub(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._scrub(logging.Formatter().formatException(record.exc_info))
        return True


class AnonymousLogger(Logger):
    """gunicorn's logger without an access log and with addresses scrubbed from its error log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        own_host = cfg.bind[0].rsplit(":", 1)[0] if cfg.bind else ""
        self.error_log.addFilter(_ScrubAddresses(own_host))

    def access(self, resp, req, environ, request_time) -> None:
        return None


class PortalServer(BaseApplication):
    """gunicorn running the WSGI application `load(harden)` gives, in each worker: `harden` is to
    be applied to each Flask app it serves (harden_app). `data_dirs()` names every data directory
    served, for the sweep after a worker ends."""

    def __init__(self, load, data_dirs, options: dict) -> None:
        self._load = load
        self.data_dirs = data_dirs
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        own_host = self.cfg.bind[0].rsplit(":", 1)[0] if self.cfg.bind else ""
        return self._load(lambda app: harden_app(app, own_host))


def harden_app(app, own_host: str):
    """A Flask app made ready to be served by gunicorn: addresses scrubbed from its log, an
    unreadable or cut-off body answered 400. Returns the app."""
    from flask import render_template
    from gunicorn.http.errors import NoMoreData, ParseException

    # Flask logs unhandled exceptions with their traceback on its own logger, outside gunicorn's.
    app.logger.addFilter(_ScrubAddresses(own_host))

    def unreadable_body(exc):
        # A body gunicorn cannot parse (bad chunked encoding) or that ends early is the client's
        # fault: answer 400, not 500, and log no traceback: the exception quotes what was sent.
        logging.getLogger("gunicorn.error").warning("Invalid request body: %s", type(exc).__name__)
        return (
            render_template(
                "error.html",
                title="The request could not be read",
                message=(
                    "What your browser sent was incomplete or malformed. "
                    "Nothing was stored. Please try again."
                ),
            ),
            400,
        )

    app.register_error_handler(ParseException, unreadable_body)
    app.register_error_handler(NoMoreData, unreadable_body)
    app.wsgi_app = _whole_body_or_400(app.wsgi_app)
    return app


def _whole_body_or_400(wsgi_app):
    """gunicorn marks every request body as terminated, and a body whose client vanished before
    sending all of its Content-Length then reads as if it had simply ended: a cut-off upload would
    look complete. So a body with a Content-Length is read through _WholeBody, which raises
    ClientDisconnected (400) when fewer bytes arrive, and the upload is refused and its blobs
    discarded. Chunked bodies are read as they are: gunicorn itself raises on one cut short."""

    def app(environ, start_response):
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit() and environ.get("wsgi.input_terminated"):
            environ["wsgi.input"] = _WholeBody(environ["wsgi.input"], int(length))
        return wsgi_app(environ, start_response)

    return app


class _WholeBody:
    """A request body of `length` bytes as werkzeug reads it (still marked terminated, so given
    as it is): never read past its length, and ClientDisconnected if it ends before or its read
    fails, as werkzeug's LimitedStream reads it. That one reads each piece into a fresh
    bytearray and copies it out again (io.RawIOBase.read): two copies of every byte uploaded
    (issue 23); here the form reader gets the very bytes gunicorn read."""

    def __init__(self, stream, length: int) -> None:
        self._stream, self._left = stream, length

    def _take(self, read, size: int | None) -> bytes:
        if self._left <= 0:
            return b""
        try:
            data = read(self._left if size is None or size < 0 else min(size, self._left))
        except (OSError, ValueError) as exc:  # as LimitedStream: a stall past the idle timeout
            raise ClientDisconnected() from exc  # (slow_clients.BodyTooSlow), a reset connection
        if not data:
            raise ClientDisconnected()
        self._left -= len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._take(self._stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._take(self._stream.readline, size)

    def __iter__(self):
        return iter(self.readline, b"")


def port_taken(host: str, port: int) -> str | None:
    """A plain sentence if `host:port` cannot be listened on (taken by another program, or not an
    address of this machine), else None. Checked before gunicorn starts, which would otherwise retry
    five times and print a traceback."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As gunicorn binds: SO_REUSEADDR, so a port whose last connections are in TIME_WAIT is
            # free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"Port {port} on {host} is already in use by another program."
        return f"Cannot listen on {host} port {port}: {exc.strerror or exc}."
    return None


def _steady_malloc() -> None:
    """Fixed glibc malloc thresholds, inherited by the workers. By default every large temporary
    buffer of an upload (gunicorn reads up to 1 MiB at a time) is mmap()ed and munmap()ed, or the
    heap is trimmed after it, so each one costs page faults and zeroing: a quarter of a worker's CPU
    time.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(
            -3, 16 * 1024 * 1024
        )  # M_MMAP_THRESHOLD (setting it also stops the dynamic threshold)
        libc.mallopt(-1, 64 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def _no_server_header() -> None:
    """gunicorn names itself in a `Server` header on every response and has no setting to stop it;
    the portal sends none (a version on the wire only helps an attacker pick an exploit)."""
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers
    if getattr(original, "portal_no_server", False):
        return

    def default_headers(self):
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.portal_no_server = True
    wsgi.Response.default_headers = default_headers


def serve(data_dir: Path, host: str, port: int, workers: int = 2, threads: int = 8) -> None:
    """`portal serve`: one installation's portal, and its notifier while an SMTP server is set."""

    def load(harden):
        from portal.web.app import create_app  # in the worker, as gunicorn loads it

        return harden(create_app(data_dir))

    run(
        load,
        lambda: [data_dir],
        load_settings(data_dir),
        [data_dir],
        host,
        port,
        workers=workers,
        threads=threads,
    )


def run(
    load,
    data_dirs,
    settings,
    notified: list[Path],
    host: str,
    port: int,
    workers: int = 2,
    threads: int = 8,
) -> None:
    """Run gunicorn on `host:port` until it is stopped: `load(harden)` gives the WSGI application
    (PortalServer), `data_dirs()` every data directory it serves, `settings` the slow-client
    limits, and each of `notified` (data directories with an SMTP server set) gets its `portal
    notify --keep-running` beside the server."""
    options = {
        "bind": [f"{host}:{port}"],
        # gthread, with request heads read by the main loop and paced bodies
        # (portal/guard/slow_clients.py): slow-loris connections hold no thread. Still threads, not
        # an event loop, because Argon2id and encryption are CPU-bound C calls that would stall
        # every connection of an event loop.
        "worker_class": "portal.guard.slow_clients.HeadFirstWorker",
        "workers": workers,
        "threads": threads,
        # gthread workers keep beating while a thread reads a long upload, so this only ends hung
        # workers; a slow 2 GiB upload over Tor is not cut off by it
        # (tests/guard/test_served_slow_upload.py).
        "timeout": int(os.environ.get("PORTAL_WORKER_TIMEOUT", str(DEFAULT_WORKER_TIMEOUT))),
        "graceful_timeout": 30,
        "keepalive": KEEPALIVE_SECONDS,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": AnonymousLogger,
        "control_socket_disable": True,
        # Each worker's heartbeat file (created with mkstemp, unlinked at once, never written to,
        # only its times touched) lives in memory, not on disk, and works when TMPDIR is unusable.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "forwarded_allow_ips": "",
        "proxy_allow_ips": "",
        "child_exit": _sweep_after_worker,
        "when_ready": _say_how_files_are_checked,
    }
    # The workers read these (portal/guard/slow_clients.py); deploy/nginx/portal-proxy.conf matches
    # them.
    os.environ.setdefault("PORTAL_HEADER_TIMEOUT", str(settings.header_timeout_seconds))
    os.environ.setdefault("PORTAL_BODY_IDLE_TIMEOUT", str(settings.body_idle_timeout_seconds))
    os.environ.setdefault("PORTAL_MIN_BODY_RATE", str(settings.min_body_bytes_per_second))
    os.environ.setdefault("PORTAL_BODY_RATE_GRACE", str(settings.body_rate_grace_seconds))
    _steady_malloc()
    _no_server_header()
    notifiers = [
        start_notifier(data_dir) for data_dir in notified if load_settings(data_dir).smtp_host
    ]
    try:
        PortalServer(load, data_dirs, options).run()
    finally:
        for notifier in notifiers:
            notifier.terminate()
            notifier.wait(10)


def _say_how_files_are_checked(arbiter) -> None:
    """gunicorn's when_ready hook: one line on how discloser files are parsed here (under
    bubblewrap, or in a plain child with resource limits only: SECURITY.md)."""
    arbiter.log.info(sandbox.describe())


def _sweep_after_worker(arbiter, worker) -> None:
    """gunicorn's child_exit hook, in the master: a worker ended (killed by the out-of-memory
    killer, its timeout, or a signal), so remove the `.part` files of uploads it left unfinished.
    Only files no live writer holds are removed (BlobStore.sweep_unfinished); counts only."""
    try:
        removed = sum(
            blob_store(load_settings(data_dir).blob_dir).sweep_unfinished()
            for data_dir in arbiter.app.data_dirs()
        )
    except OSError as exc:
        arbiter.log.warning("Could not remove unfinished uploads: %s", exc.strerror)
        return
    if removed:
        arbiter.log.info("A worker ended: removed %d unfinished upload file(s).", removed)


def start_notifier(data_dir: Path) -> subprocess.Popen:
    """`portal notify --keep-running` beside the server: digests go out at the digest time with no
    cron or timer to set up. It is a child of gunicorn's master, which reaps it like a worker: it
    never exits with gunicorn's boot-error codes (3, 4), and it stops by itself if the master is
    killed."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal",
            "--data",
            str(data_dir),
            "notify",
            "--keep-running",
            "--parent-pid",
            str(os.getpid()),
        ],
        stdin=subprocess.DEVNULL,
        close_fds=True,
    )
