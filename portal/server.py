"""`portal serve`: gunicorn with gthread workers, no access log, and no client address in any log line."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

# IPv4 and IPv6 literals (a loose match on purpose: over-scrubbing a log line costs nothing).
_ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\[?\b(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b\]?")
_INVALID_REQUEST = re.compile(r"Invalid request from ip=\S*: ")


class _ScrubAddresses(logging.Filter):
    """Removes client addresses from every record; the server's own listening address is kept."""

    def __init__(self, own_host: str) -> None:
        super().__init__()
        self._own_host = own_host

    def filter(self, record: logging.LogRecord) -> bool:
        message = _INVALID_REQUEST.sub("Invalid request: ", record.getMessage())
        record.msg = _ADDRESS.sub(lambda m: m.group(0) if m.group(0) == self._own_host else "[address]", message)
        record.args = ()
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
    def __init__(self, data_dir: Path, options: dict) -> None:
        self._data_dir = data_dir
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from portal.app import create_app
        return create_app(self._data_dir)


def serve(data_dir: Path, host: str, port: int, workers: int = 2, threads: int = 8) -> None:
    options = {
        "bind": [f"{host}:{port}"],
        "worker_class": "gthread",
        "workers": workers,
        "threads": threads,
        # gthread workers keep beating while a thread reads a long upload, so this only ends hung
        # workers; a slow 2 GiB upload over Tor is not cut off by it.
        "timeout": 300,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": AnonymousLogger,
        "control_socket_disable": True,
        "forwarded_allow_ips": "",
        "proxy_allow_ips": "",
    }
    PortalServer(data_dir, options).run()
