"""Receipt checks are handled by threads of their own at the lowest CPU priority (issue 22,
portal/guard/slow_clients.py): against `portal serve`, count the worker threads whose nice is 19
(Linux's /proc), before and after a receipt check. Counts only, no times."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import HttpClient, start_server
from tests.support.proofs import challenge_from

from portal.guard.slow_clients import is_receipt_check

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice per thread is Linux's"),
]


def test_the_receipt_check_is_recognised_by_its_request_line_only():
    assert is_receipt_check(b"POST /status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert is_receipt_check(b"GET /status?lang=mi HTTP/1.1\r\n\r\n")
    for head in (b"GET / HTTP/1.1\r\n\r\n", b"POST /console/login HTTP/1.1\r\n\r\n",
                 b"POST /disclose HTTP/1.1\r\n\r\n", b"GET /status/thread HTTP/1.1\r\n\r\n",
                 b"GET /x HTTP/1.1\r\nReferer: /status\r\n\r\n", b"", b"garbage"):
        assert not is_receipt_check(head)


def _workers(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found + [w for child in found for w in _workers(child)]


def _nice_threads(pid: int) -> tuple[int, int]:
    """(threads at nice 19, threads at any other nice) over the server's worker processes."""
    low = other = 0
    for worker in _workers(pid):
        for stat in Path(f"/proc/{worker}/task").glob("*/stat"):
            try:
                nice = int(stat.read_text().rsplit(")", 1)[1].split()[16])
            except OSError:
                continue
            low, other = (low + 1, other) if nice == 19 else (low, other + 1)
    return low, other


def test_receipt_checks_run_in_low_priority_threads_and_pages_do_not(installation):
    server = start_server(installation.data_dir)
    try:
        http = HttpClient("127.0.0.1", server.port)
        for _ in range(3):
            assert http.get("/").status == 200
            assert http.get("/disclose").status == 200
        low_before, other = _nice_threads(server.process.pid)
        assert low_before == 0 and other > 0  # pages ran, none at low priority
        for _ in range(3):
            page = HttpClient("127.0.0.1", server.port).get("/status")
            assert page.status == 200 and challenge_from(page.text)
        low_after, _ = _nice_threads(server.process.pid)
        assert 1 <= low_after <= 2 * 4  # a receipt check's own threads: half a worker's, per worker
    finally:
        server.stop()
