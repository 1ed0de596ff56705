"""Run the `portal` command under a Python audit hook that records every file opened for writing.

    python tests/support/audited_serve.py LOG_FILE PORTAL_ARGS...

Each line of LOG_FILE is a JSON list [pid, event, path]: a file opened for writing (`open` with a
writing mode or writing flags), a database connected to (`sqlite3.connect`: SQLite opens its files and
journals in C, beyond the reach of the hook, so the connection stands for them), the target of a
rename, a created directory or link, a truncated file. The hook is installed before the portal is
imported, and gunicorn's forked workers inherit it, so the log covers the whole server.

The log is written with os.write to a descriptor opened before the hook, which raises no audit
event of its own; the log file is left out all the same. A failed attempt is logged too (the event
comes before the system call), which only makes the check stricter.
"""
from __future__ import annotations

import json
import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {"os.mkdir": 0, "os.symlink": 1, "os.link": 1, "os.truncate": 0}


def _writes(mode, flags) -> bool:
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def install(log_path: str) -> None:
    log_path = os.path.abspath(log_path)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def record(event: str, path) -> None:
        if isinstance(path, int):  # an already open descriptor (os.fdopen): its opening was recorded
            return
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        path = os.path.abspath(os.fspath(path))
        if path == log_path:
            return
        os.write(fd, (json.dumps([os.getpid(), event, path]) + "\n").encode())

    def hook(event: str, args: tuple) -> None:
        try:
            if event == "open":
                path, mode, flags = (tuple(args) + (None, None, None))[:3]
                if _writes(mode, flags):
                    record(event, path)
            elif event == "sqlite3.connect":
                record(event, args[0])
            elif event in ("os.rename", "os.replace"):
                record(event, args[1])
            elif event in _PATH_EVENTS:
                record(event, args[_PATH_EVENTS[event]])
        except Exception as exc:  # never break the server; make the failure visible in the log instead
            os.write(fd, (json.dumps([os.getpid(), "hook-error", repr(exc)]) + "\n").encode())

    sys.addaudithook(hook)


def main(argv: list[str]) -> None:
    log_path, portal_args = argv[0], argv[1:]
    install(log_path)
    from portal.cli import main as portal_main
    portal_main(portal_args, prog_name="portal")


if __name__ == "__main__":
    main(sys.argv[1:])
