"""An upload whose body stops part way (issue 24), on a served portal: a stall longer than the idle
timeout (set to 1 s here, `PORTAL_BODY_IDLE_TIMEOUT`, instead of the shipped 30 s) and a connection
that closes before its Content-Length. The text fields, which browsers send before the files, come
back in the form on a page that says the upload did not finish; nothing is stored."""
from __future__ import annotations

import html
import io
import os
import re
import socket

import pytest

from portal.core.context import open_context
from tests.conftest import MARKER
from tests.support import (HttpClient, csrf_token, disclosure_fields, form_for, multipart, post_multipart,
                           receipt_from, start_server)
from tests.support import database

pytestmark = pytest.mark.slow


@pytest.fixture
def served(installation):
    server = start_server(installation.data_dir, workers=1, env={"PORTAL_BODY_IDLE_TIMEOUT": "1"})
    yield server
    server.stop()


def _send_part_of_a_disclosure(server, *, close: bool) -> tuple[int, str]:
    """Send the disclosure's text and the first 16 KiB of its 256 KiB file, then stop: hold the
    connection open (a stall) or close the sending side (short of its Content-Length)."""
    client = HttpClient("127.0.0.1", server.port)
    token = csrf_token(client.get("/disclose").text)
    body, content_type = multipart(disclosure_fields(token, "Typed before the files. " + MARKER),
                                   [("attachments", "evidence.bin", os.urandom(256 * 1024))])
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (f"POST /disclose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\nSec-Fetch-Site: same-origin\r\n\r\n").encode()
    sent = body.index(b"evidence.bin") + 16 * 1024
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body[:sent])
        if close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, html.unescape(answer.decode("utf-8", "replace"))


def _nothing_stored(installation) -> None:
    assert database.blobs(installation.data_dir, unfinished=True) == []
    assert database.blobs(installation.data_dir) == []
    ctx = open_context(installation.data_dir)
    try:
        assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    finally:
        ctx.db.conn.close()


@pytest.mark.parametrize("close", [False, True], ids=["stalled", "short-of-its-content-length"])
def test_an_upload_that_stops_part_way_gives_the_text_back_and_says_so(installation, served, close):
    status, page = _send_part_of_a_disclosure(served, close=close)
    assert status == 400
    assert "did not finish" in page and "no file was kept" in page
    assert re.search(rf'<textarea[^>]*name="details"[^>]*>\s*Typed before the files. {MARKER}</textarea>', page), page
    assert 'action="/disclose"' in page and "evidence.bin" in page  # the file to choose again
    _nothing_stored(installation)
    assert "Traceback" not in served.output()


def test_a_reply_whose_body_ends_before_its_content_length_keeps_the_message(client, installation):
    """The same for the discloser's reply, through the test client: a body shorter than its
    Content-Length, as a connection closed early leaves it."""
    page = client.get("/disclose").text
    receipt = receipt_from(post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), "First.")).text)
    opened = client.post("/status", data={"csrf_token": csrf_token(client.get("/status").text), "receipt": receipt})
    assert opened.status_code == 303
    fields = [(k, v) for k, v in form_for(client.get("/status").text, "/status/reply")["fields"] if k != "message"]
    body, content_type = multipart([*fields, ("message", "My reply " + MARKER)],
                                   [("attachments", "more.bin", os.urandom(64 * 1024))])
    cut = body[: body.index(b"more.bin") + 4096]
    answer = client.post("/status/reply", input_stream=io.BytesIO(cut),
                         headers={"Content-Type": content_type, "Content-Length": str(len(body)),
                                  "Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 400
    text = html.unescape(answer.text)
    assert "did not finish" in text
    assert re.search(rf'<textarea[^>]*name="message"[^>]*>\s*My reply {MARKER}</textarea>', text), text
    ctx = open_context(installation.data_dir)
    try:
        assert ctx.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    finally:
        ctx.db.conn.close()
