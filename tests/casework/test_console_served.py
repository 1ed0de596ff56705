"""The console session against `portal serve` run as its own process: it lives in the database, so every
gunicorn worker finds it and it survives a restart of the server."""
from __future__ import annotations

import hashlib
import http.client
import os
import re
from pathlib import Path

import pytest

from tests.conftest import MARKER
from tests.support import HttpClient, csrf_token, disclosure_fields, start_server

pytestmark = pytest.mark.slow


def test_officer_session_works_in_every_worker_and_survives_a_restart(installation):
    server = start_server(installation.data_dir, workers=2)
    try:
        discloser = HttpClient("127.0.0.1", server.port)
        token = csrf_token(discloser.get("/disclose").text)
        assert discloser.post_multipart("/disclose", disclosure_fields(token, MARKER)).status == 200

        officer = HttpClient("127.0.0.1", server.port)
        token = csrf_token(officer.get("/console/login").text)
        person = installation.officer
        response = officer.post_form("/console/login", {"csrf_token": token, "email": person.email,
                                                        "passphrase": person.passphrase, "totp": person.code()})
        assert response.status == 303
        [case_url] = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)
        # Each request is a new connection, handed to whichever worker accepts it.
        for _ in range(8):
            assert MARKER in officer.get(case_url).text
    finally:
        server.stop()

    restarted = start_server(installation.data_dir, workers=2)
    try:
        officer.port = restarted.port
        for _ in range(4):
            page = officer.get(case_url)
            assert page.status == 200 and MARKER in page.text
    finally:
        restarted.stop()


def _worker_peak_rss_kib(server_pid: int) -> int:
    """VmHWM of the single gunicorn worker (the server process's only child)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid:
            children.append(stat.parent)
    [worker] = children
    for line in (worker / "status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_large_download_streams_without_growing_the_workers_memory(installation):
    size = 64 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    server = start_server(installation.data_dir, workers=1)
    try:
        discloser = HttpClient("127.0.0.1", server.port)
        token = csrf_token(discloser.get("/disclose").text)
        response = discloser.post_multipart("/disclose", disclosure_fields(token, "large file"),
                                            [("attachments", "big.bin", block * (size // len(block)))])
        assert response.status == 200
        officer = HttpClient("127.0.0.1", server.port)
        token = csrf_token(officer.get("/console/login").text)
        person = installation.officer
        officer.post_form("/console/login", {"csrf_token": token, "email": person.email,
                                             "passphrase": person.passphrase, "totp": person.code()})
        [case_url] = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)
        [download_url] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', officer.get(case_url).text)

        before = _worker_peak_rss_kib(server.process.pid)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        conn.request("GET", download_url, headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in officer.cookies.items())})
        response = conn.getresponse()
        assert response.status == 200
        received, digest = 0, hashlib.sha256()
        while chunk := response.read(1024 * 1024):
            received += len(chunk)
            digest.update(chunk)
        conn.close()
        growth_mib = (_worker_peak_rss_kib(server.process.pid) - before) / 1024
        assert received == size
        assert digest.digest() == hashlib.sha256(block * (size // len(block))).digest()
        # Buffering the file would raise the peak by at least its 64 MiB.
        assert growth_mib < 16, f"worker peak memory grew by {growth_mib:.1f} MiB during a 64 MiB download"
    finally:
        server.stop()
