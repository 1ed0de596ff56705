"""Faults a person can meet, on a served portal (issue 24): a write lock held longer than the busy
timeout answers 503 with Retry-After and the text back (in the form, or to copy), and nothing is
stored: the disclosure form, the discloser's reply and an officer's form in the console."""
from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest

from tests.conftest import MARKER
from tests.support import (ROOT, HttpClient, csrf_token, database, disclosure_fields, form_for,
                           multipart, receipt_from, start_server)

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}

# The write lock held by another process, on either engine (on PostgreSQL the writers' advisory
# lock BEGIN IMMEDIATE takes there).
HOLD_LOCK = """
import sys
from pathlib import Path
from tests.support import database
conn = database.connect(Path(sys.argv[1]))
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
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(data_dir)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _cases(data_dir, table: str = "cases") -> int:
    with database.connect(data_dir) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _disclose(client) -> str:
    token = csrf_token(client.get("/disclose").text)
    answer = client.post_multipart("/disclose", disclosure_fields(token, "the first account"))
    assert answer.status == 200, answer.text
    return receipt_from(answer.text)


def _post_locked(data_dir, client, path: str, fields: list[tuple[str, str]]):
    holder = _hold_write_lock(data_dir)
    try:
        body, content_type = multipart(fields)
        return client.request("POST", path, body, {"Content-Type": content_type, **SAME_ORIGIN})
    finally:
        holder.communicate("\n", timeout=30)


def test_a_write_lock_held_past_the_busy_timeout_gives_the_form_back_with_503(installation, served):
    client = HttpClient("127.0.0.1", served.port)
    token = csrf_token(client.get("/disclose").text)
    before = _cases(installation.data_dir)
    blobs_before = database.blobs(installation.data_dir)
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
    assert database.blobs(installation.data_dir) == blobs_before
    assert "Traceback" not in served.output()
    # Once the lock is free the same form goes in.
    token = csrf_token(client.get("/disclose").text)
    again = client.post_multipart("/disclose", disclosure_fields(token, MARKER))
    assert again.status == 200 and 'id="receipt"' in again.text


def test_a_status_reply_under_a_held_write_lock_gives_the_message_back_with_503(installation, served):
    client = HttpClient("127.0.0.1", served.port)
    receipt = _disclose(client)
    opened = client.post_form("/status", {"csrf_token": csrf_token(client.get("/status").text),
                                          "receipt": receipt})
    assert opened.status == 303
    opened = client.get("/status")
    assert 'id="case-status"' in opened.text
    fields = [(k, v) for k, v in form_for(opened.text, "/status/reply")["fields"] if k != "message"]
    messages = _cases(installation.data_dir, "messages")
    answer = _post_locked(installation.data_dir, client, "/status/reply", [*fields, ("message", MARKER)])
    assert answer.status == 503 and int(answer.headers["Retry-After"]) > 0, answer.text
    page = html.unescape(answer.text)
    assert "Nothing was stored" in page
    assert re.search(rf'<textarea[^>]*name="message"[^>]*>\s*{MARKER}</textarea>', page), page
    assert _cases(installation.data_dir, "messages") == messages
    assert "Traceback" not in served.output()


def test_a_console_form_under_a_held_write_lock_gives_the_note_back_with_503(installation, served):
    client = HttpClient("127.0.0.1", served.port)
    _disclose(client)
    officer = installation.officer
    login = client.get("/console/login")
    signed = client.post_form("/console/login", {"csrf_token": csrf_token(login.text), "email": officer.email,
                                                 "passphrase": officer.passphrase, "totp": officer.code()})
    assert signed.status == 303, signed.text
    ref = re.search(r'href="/console/cases/([^"/]+)"', client.get("/console/").text).group(1)
    case = client.get(f"/console/cases/{ref}")
    action = f"/console/cases/{ref}/notes"
    fields = [(k, v) for k, v in form_for(case.text, action)["fields"] if k != "note"]
    notes = _cases(installation.data_dir, "case_notes")
    answer = _post_locked(installation.data_dir, client, action, [*fields, ("note", MARKER)])
    assert answer.status == 503 and int(answer.headers["Retry-After"]) > 0, answer.text
    page = html.unescape(answer.text)
    assert "Nothing was stored" in page and "The console is busy" in page
    assert re.search(rf"<textarea[^>]*>\s*{MARKER}</textarea>", page), page
    assert _cases(installation.data_dir, "case_notes") == notes
    assert "Traceback" not in served.output()
