"""A new operator's first run: `make run PORT=N` in a fresh copy of the repository serves the demo, prints
both demo accounts, `portal demo code` gives codes that sign each of them in, and a taken port gets one
plain line instead of gunicorn's retries."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import ROOT, HttpClient, csrf_token, free_port

pytestmark = pytest.mark.slow

IGNORED = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
                                 ".pytest_cache", ".hypothesis", "node_modules", "instance", "bench", "tests")


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    """The repository as a new operator gets it, with this run's virtual environment standing in for the
    one `make run` would create (so the test does not download and install every dependency again)."""
    copy = tmp_path_factory.mktemp("clone") / "portal"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    stamp = ROOT / ".venv" / ".installed"
    assert stamp.exists(), "run `make venv` first"
    # make must find the environment up to date, never reinstall the shared one from this copy.
    older = stamp.stat().st_mtime - 60
    os.utime(copy / "pyproject.toml", (older, older))
    return copy


def _port() -> int:
    """18080 as the issue asks, unless another program on this shared machine holds it."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 18080))
            return 18080
        except OSError:
            return free_port()


def _sign_in(client: HttpClient, email: str, passphrase: str, code: str):
    token = csrf_token(client.get("/console/login").text)
    return client.post_form("/console/login", {"csrf_token": token, "email": email, "passphrase": passphrase,
                                               "totp": code})


def test_make_run_serves_the_demo_and_the_printed_codes_sign_both_accounts_in(fresh_copy):
    port = _port()
    log = fresh_copy / "make-run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "VIRTUAL_ENV", "MAKE"))}
    with open(log, "wb") as out:
        make = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=fresh_copy, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert make.poll() is None, "make run ended:\n" + log.read_text()
            assert time.monotonic() < deadline, "make run did not serve:\n" + log.read_text()
            if f"http://127.0.0.1:{port}/console/login" in log.read_text():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.3)
        printed = log.read_text()
        accounts = {role: (email, passphrase) for role, email, passphrase in
                    re.findall(r"(Officer|Administrator): (\S+@\S+)\n\s+passphrase:\s+(\S+)", printed)}
        assert set(accounts) == {"Officer", "Administrator"}, printed
        command = re.search(r"run `(\S+ --data \S+ demo code)`", printed).group(1).split()

        codes = subprocess.run(command, cwd=fresh_copy, capture_output=True, text=True, timeout=60, env=env)
        assert codes.returncode == 0, codes.stderr
        by_email = dict(re.findall(r"^\w+ (\S+@\S+): (\d{6})\b", codes.stdout, re.M))

        admin_email, admin_passphrase = accounts["Administrator"]
        admin = HttpClient("127.0.0.1", port)
        answer = _sign_in(admin, admin_email, admin_passphrase, by_email[admin_email])
        assert answer.status == 303, answer.text
        assert admin.get("/console/admin/").status == 200

        officer_email, officer_passphrase = accounts["Officer"]
        officer = HttpClient("127.0.0.1", port)
        answer = _sign_in(officer, officer_email, officer_passphrase, by_email[officer_email])
        assert answer.status == 303, answer.text
        landing = answer.headers["Location"]
        assert "/console/login" not in landing
        # Signed in: the next page (the inbox, or the first sign-in's own set-up step) opens.
        assert officer.get(landing).status == 200
        # Nothing else failed on the way: no traceback from the server while it ran.
        assert "Traceback" not in log.read_text()
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()


def test_a_taken_port_is_one_plain_line(fresh_copy):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "VIRTUAL_ENV", "MAKE"))}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(["make", "run", f"PORT={port}"], cwd=fresh_copy, capture_output=True, text=True,
                                timeout=120, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in output
    assert f"PORT={port + 1}" in output  # and how to choose another
    assert "Traceback" not in output and "gunicorn" not in output.lower()
    # make adds a single line of its own; nothing else beyond the portal's message.
    lines = [line for line in output.splitlines() if line.strip()]
    assert len([line for line in lines if line.startswith("make")]) <= 1, output
    assert len(lines) <= 2, output
