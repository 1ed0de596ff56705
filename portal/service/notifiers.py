"""The notifiers of a service's organisations (issue 29): each organisation with an SMTP server set
has its own `portal notify --keep-running` (portal.web.server.start_notifier), as a single
installation's `portal serve` has. `portal service serve` starts one keeper, `portal service
notify DIR`, beside gunicorn; the keeper reads the registry every few seconds, so an organisation
made (or given an SMTP server) while the service runs gets its notifier then, not at the next
start, and an organisation erased has its notifier stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from portal.core.config import load_settings
from portal.service.registry import data_dir_of, organisations
from portal.web.server import start_notifier

# How often the keeper reads the registry again: a new organisation's notifier starts within it.
EVERY_SECONDS = 5.0


class Notifiers:
    """The notifiers this process started, one per organisation that wants one."""

    def __init__(self, service_dir: Path) -> None:
        self.service_dir = Path(service_dir)
        self.running: dict[str, subprocess.Popen] = {}

    def refresh(self) -> list[str]:
        """Start a notifier for each registered organisation with an SMTP server set that has
        none running (made since the last refresh, or its notifier ended), and stop those of
        organisations no longer registered; returns the slugs started now. ServiceError if the
        service directory is not one."""
        known = {org.slug: data_dir_of(self.service_dir, org.slug) for org in
                 organisations(self.service_dir)}  # fmt: skip
        for slug in list(self.running):
            if slug not in known or self.running[slug].poll() is not None:
                self._stop(self.running.pop(slug))
        started = []
        for slug, data_dir in known.items():
            if slug not in self.running and load_settings(data_dir).smtp_host:
                self.running[slug] = start_notifier(data_dir)
                started.append(slug)
        return started

    def stop(self) -> None:
        """Stop every notifier this process started."""
        while self.running:
            self._stop(self.running.popitem()[1])

    @staticmethod
    def _stop(notifier: subprocess.Popen) -> None:
        if notifier.poll() is None:
            notifier.terminate()
        try:
            notifier.wait(10)
        except subprocess.TimeoutExpired:
            notifier.kill()
            notifier.wait()


def keep_running(service_dir: Path, parent_pid: int) -> None:
    """`portal service notify DIR`: refresh every EVERY_SECONDS until `parent_pid` is no longer
    this process's parent (the server is gone) or it is told to stop; then stop the notifiers."""
    notifiers = Notifiers(service_dir)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        while os.getppid() == parent_pid:
            notifiers.refresh()
            time.sleep(EVERY_SECONDS)
    finally:
        notifiers.stop()


def start_keeper(service_dir: Path) -> subprocess.Popen:
    """`portal service notify DIR` beside the server, as this process's child."""
    return subprocess.Popen(
        [sys.executable, "-m", "portal", "service", "notify", str(service_dir),
         "--parent-pid", str(os.getpid())],
        stdin=subprocess.DEVNULL,
        close_fds=True,
    )  # fmt: skip
