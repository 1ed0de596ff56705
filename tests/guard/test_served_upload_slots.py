"""Upload slots on a served portal (issue 22, issue 24 item 5): the busy answer reaches a client
still sending its body, with the text it typed, instead of a reset connection."""
from __future__ import annotations

import os
import time

import pytest

from tests.guard.served_uploads import send_upload
from tests.support import database, start_server

pytestmark = pytest.mark.slow


def wait_for_part(data_dir, timeout: float = 20) -> None:
    """Until a blob is being written (a .part file, or an unfinished row on PostgreSQL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not database.blobs(data_dir, unfinished=True):
        time.sleep(0.05)
    assert database.blobs(data_dir, unfinished=True)


def test_the_busy_answer_reaches_a_client_still_sending_with_its_text(installation):
    server = start_server(installation.data_dir, workers=1,
                          env={"PORTAL_MAX_CONCURRENT_UPLOADS": "1"})
    holder = None
    try:
        # The one slot is held by an upload arriving well above the useful rate: not pre-empted.
        holder = send_upload(server.port, "holding the slot",
                             [("attachments", "held.bin", os.urandom(8 * 1024 * 1024))],
                             rate=64 * 1024)
        wait_for_part(installation.data_dir)
        busy = send_upload(server.port, "What I typed while the portal was busy",
                           [("attachments", "mine.bin", os.urandom(2 * 1024 * 1024))],
                           rate=1024 * 1024).wait(60)
        assert busy.read_error == "" and busy.send_error == ""
        assert busy.sent == len(busy.body)  # it sent everything, and still got the page
        assert busy.status == 503 and int(busy.headers["retry-after"]) > 0
        assert "What I typed while the portal was busy" in busy.page
        assert "mine.bin" in busy.page  # named as not kept
    finally:
        if holder is not None:
            holder.close()
        server.stop()


GRACE = 6
SLOW_TEXT = "Your files arrived too slowly while others were waiting"


def test_slow_uploads_yield_a_slot_to_a_disclosure_with_a_file_from_another_client(installation):
    """Ten uploads trickling at 2 KiB/s and four at exactly the minimum rate (1 KiB/s) take every
    slot and are answered busy beyond them; once past the slot grace, a disclosure with a file from
    another client pre-empts exactly one of the slow holders and is accepted."""
    server = start_server(installation.data_dir, workers=1,
                          env={"PORTAL_UPLOAD_SLOT_GRACE": str(GRACE), "PORTAL_MAX_CONCURRENT_UPLOADS": "4"})
    attackers = []
    try:
        started = time.monotonic()
        for i in range(14):
            attackers.append(send_upload(server.port, f"trickle {i}",
                                         [("attachments", "slow.bin", os.urandom(256 * 1024))],
                                         rate=2048 if i < 10 else 1024))
        deadline = time.monotonic() + 30
        while sum(a.status == 503 for a in attackers) < 10:  # beyond the four slots: busy
            assert time.monotonic() < deadline, [a.status for a in attackers]
            time.sleep(0.1)
        # All came within the grace, so none pre-empted another; now every holder is past its
        # grace, below the useful rate.
        assert time.monotonic() < started + GRACE
        time.sleep(started + GRACE + 1 - time.monotonic())
        assert sum(a.status == 0 for a in attackers) == 4  # the holders are still sending
        genuine = send_upload(server.port, "A genuine disclosure with a file",
                              [("attachments", "evidence.pdf", os.urandom(1024 * 1024))],
                              rate=4 * 1024 * 1024).wait(60)
        assert genuine.status == 200 and 'id="receipt"' in genuine.page
        deadline = time.monotonic() + 10
        while not any(SLOW_TEXT in a.page for a in attackers if a.status == 503):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        preempted = [a for a in attackers if a.status == 503 and SLOW_TEXT in a.page]
        assert len(preempted) == 1  # only the one slot the disclosure needed
        (loser,) = preempted
        assert int(loser.headers["retry-after"]) > 0 and "trickle" in loser.page  # text kept
        assert sum(a.status == 0 for a in attackers) == 3  # the other holders go on
    finally:
        for attacker in attackers:
            attacker.close()
        server.stop()
