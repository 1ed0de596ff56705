"""A throwaway PostgreSQL server for tests: Debian's own binaries, a cluster made in a temporary
directory, listening on a Unix socket only (no TCP port), stopped and removed at the end.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user that Debian's
package makes. fsync is off unless asked for: a test cluster holds nothing worth a crash.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/install-system-packages")
    return Path(found[-1]).parent


class PostgresServer:
    """`start()` then `database(name)` for a fresh empty database's URL; `stop()` at the end."""

    def __init__(self) -> None:
        self.place = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.user = "portal"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.place, "postgres")
        self._bin = _bindir()

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, timeout=120)

    def start(self, fsync: bool = False) -> "PostgresServer":
        """Make the cluster and start it; `fsync` on for a benchmark that compares commits with
        SQLite's, which waits for the disk (synchronous=FULL)."""
        data = self.place / "data"
        self._run(
            str(self._bin / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user,
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )
        options = f"-c listen_addresses='' -k {self.place} -c fsync={'on' if fsync else 'off'}"
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(data), "-l", str(self.place / "log"), "-w",
            "-o", options, "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"host={self.place} user={self.user} dbname={database}"

    def database(self, name: str, template: str | None = None) -> str:
        """A new empty database (dropped first if a test before made it), or a copy of the
        database `template` (one migrated once: faster than migrating each); its URL."""
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            # FORCE: a connection a node kept (portal.store.shared_state's) does not hold it.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self._bin / "pg_ctl"), "-D", str(self.place / "data"), "-m", "immediate",
                      "stop")
        finally:
            shutil.rmtree(self.place, ignore_errors=True)
