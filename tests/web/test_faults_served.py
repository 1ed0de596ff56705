"""Faults a person can meet, on a served portal (issue 24): a write lock held longer than the busy
timeout answers 503 with Retry-After and the text back in the form, and nothing is stored."""
from __future__ import annotations

import html
import re
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import MARKER
from tests.support import HttpClient, csrf_token, disclosure_fields, multipart, start_server

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.fixture
def served(installation):
    server = start_server(installation.data_dir, workers=1, env={"PORTAL_BUSY_TIMEOUT": "0.5"})
    yield server
    server.stop()


def _hold_write_lock(data_dir) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(data_dir / "portal.db")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _cases(data_dir) -> int:
    with sqlite3.connect(data_dir / "portal.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]


def test_a_write_lock_held_past_the_busy_timeout_gives_the_form_back_with_503(installation, served):
    client = HttpClient("127.0.0.1", served.port)
    token = csrf_token(client.get("/disclose").text)
    before = _cases(installation.data_dir)
    blobs_before = sorted((installation.data_dir / "blobs").rglob("*"))
    holder = _hold_write_lock(installation.data_dir)
    try:
        body, content_type = multipart(disclosure_fields(token, MARKER),
                                       [("attachments", "evidence.txt", b"some evidence")])
        answer = client.request("POST", "/disclose", body, {"Content-Type": content_type, **SAME_ORIGIN})
    finally:
        holder.communicate("\n", timeout=30)
    assert answer.status == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    page = html.unescape(answer.text)
    assert "Nothing was stored" in page and "try again" in page
    # Back in the form itself, in its box, ready to send again.
    assert re.search(rf'<textarea[^>]*name="details"[^>]*>\s*{MARKER}</textarea>', page), page
    assert 'action="/disclose"' in answer.text
    assert _cases(installation.data_dir) == before
    assert sorted((installation.data_dir / "blobs").rglob("*")) == blobs_before
    assert "Traceback" not in served.output()
    # Once the lock is free the same form goes in.
    token = csrf_token(client.get("/disclose").text)
    again = client.post_multipart("/disclose", disclosure_fields(token, MARKER))
    assert again.status == 200 and 'id="receipt"' in again.text
