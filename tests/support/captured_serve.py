"""Run the `portal` command with every request body captured at the WSGI layer, as gunicorn hands
it to the portal: the outermost WSGI application records each byte of `wsgi.input` the portal
reads, and then the rest of the body it left unread, into a file of its own per request.

    python tests/support/captured_serve.py FOLDER PORTAL_ARGS...

FOLDER (outside the data directory) gets one file per request, PID-N.body, written once the
portal has answered it. gunicorn's forked workers inherit the wrapping (portal.web.server's
harden_app, which each worker calls on the app it loads), so the capture covers every worker.
"""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path


class _Recorded:
    """`stream` as the portal reads it, keeping a copy of every byte read."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.taken: list[bytes] = []

    def _keep(self, data: bytes) -> bytes:
        self.taken.append(bytes(data))
        return data

    def read(self, *args) -> bytes:
        return self._keep(self._stream.read(*args))

    def readline(self, *args) -> bytes:
        return self._keep(self._stream.readline(*args))

    def rest(self) -> bytes:
        """The rest of the body, unread by the portal (gunicorn's body reads to its end)."""
        return self._stream.read()

    def __iter__(self):
        return (self._keep(line) for line in self._stream)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def capturing(wsgi_app, folder: Path):
    """`wsgi_app`, writing each request's whole body into `folder` once it has answered."""
    count = itertools.count()

    def app(environ, start_response):
        recorded = _Recorded(environ["wsgi.input"])
        environ["wsgi.input"] = recorded
        try:
            return wsgi_app(environ, start_response)
        finally:
            try:  # what the portal did not read still reached the server
                recorded.taken.append(recorded.rest())
            except Exception:  # a body cut off on the way: what arrived is kept
                pass
            name = folder / f"{os.getpid()}-{next(count)}.body"
            name.write_bytes(b"".join(recorded.taken))

    return app


def main(argv: list[str]) -> None:
    folder, portal_args = Path(argv[0]).resolve(), argv[1:]
    folder.mkdir(parents=True, exist_ok=True)
    from portal.web import server

    harden = server.harden_app

    def harden_and_capture(app, own_host):
        app = harden(app, own_host)
        app.wsgi_app = capturing(app.wsgi_app, folder)
        return app

    server.harden_app = harden_and_capture
    from portal.cli import main as portal_main
    portal_main(portal_args, prog_name="portal")


if __name__ == "__main__":
    main(sys.argv[1:])
