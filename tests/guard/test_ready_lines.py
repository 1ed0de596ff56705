"""Requests ready for a thread are taken by kind (portal/guard/slow_clients.py, ReadyLines): the
anonymous receipt check waits behind pages and sign-ins, and still gets one turn in HIGH_RUN + 1.
Counts of what is taken, in order; no times."""
from __future__ import annotations

from portal.guard.slow_clients import HIGH_RUN, ReadyLines, is_receipt_check


def test_the_receipt_check_is_recognised_by_its_request_line_only():
    assert is_receipt_check(b"POST /status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert is_receipt_check(b"GET /status?lang=mi HTTP/1.1\r\n\r\n")
    for head in (b"GET / HTTP/1.1\r\n\r\n", b"POST /console/login HTTP/1.1\r\n\r\n",
                 b"POST /disclose HTTP/1.1\r\n\r\n", b"GET /status/thread HTTP/1.1\r\n\r\n",
                 b"GET /x HTTP/1.1\r\nReferer: /status\r\n\r\n", b"", b"garbage"):
        assert not is_receipt_check(head)


def test_pages_go_first_and_a_waiting_receipt_check_gets_a_turn_in_every_run():
    lines = ReadyLines()
    for i in range(20):
        lines.put(f"guess-{i}", receipt_check=True)
    for i in range(3 * HIGH_RUN):
        lines.put(f"page-{i}", receipt_check=False)
    taken = [lines.take() for _ in range(3 * HIGH_RUN + 3)]
    # HIGH_RUN pages, then one guess, three times over: 128 guesses cannot hold the threads.
    run = ["page"] * HIGH_RUN + ["guess"]
    assert [t.split("-")[0] for t in taken] == run * 3
    assert [t for t in taken if t.startswith("page")] == [f"page-{i}" for i in range(3 * HIGH_RUN)]
    assert [t for t in taken if t.startswith("guess")] == ["guess-0", "guess-1", "guess-2"]
    # With no page waiting, guesses are taken one after another, in arrival order.
    assert [lines.take() for _ in range(3)] == ["guess-3", "guess-4", "guess-5"]
    assert lines.taken == [3 * HIGH_RUN, 6]
