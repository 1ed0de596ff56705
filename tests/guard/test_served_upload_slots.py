"""Upload slots on a served portal (issue 22, issue 24 item 5): the busy answer reaches a client
still sending its body, with the text it typed, instead of a reset connection."""
from __future__ import annotations

import os
import time

import pytest

from tests.guard.served_uploads import send_upload
from tests.support import start_server

pytestmark = pytest.mark.slow


def wait_for_part(blobs, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(p.suffix == ".part" for p in blobs.iterdir()):
        time.sleep(0.05)
    assert any(p.suffix == ".part" for p in blobs.iterdir())


def test_the_busy_answer_reaches_a_client_still_sending_with_its_text(installation):
    server = start_server(installation.data_dir, workers=1,
                          env={"PORTAL_MAX_CONCURRENT_UPLOADS": "1"})
    holder = None
    try:
        # The one slot is held by an upload arriving well above the useful rate: not pre-empted.
        holder = send_upload(server.port, "holding the slot",
                             [("attachments", "held.bin", os.urandom(8 * 1024 * 1024))],
                             rate=64 * 1024)
        wait_for_part(installation.data_dir / "blobs")
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
