"""A disclosure or reply with a file, sent while the data directory's blobs folder cannot be used
(issue 24 review, H2): removed, or something that is not a folder in its place (a restore gone
wrong; the tests run as root, where a folder's mode bits would not stop a write). The file's blob
cannot be opened, an OSError after the text fields were read: 503 with Retry-After and the text back
in its boxes, nothing stored."""
from __future__ import annotations

import html
import re
import shutil

import pytest

from tests.conftest import MARKER
from tests.support import csrf_token, disclosure_fields, form_for, post_multipart, receipt_from
from tests.support.discloser import open_status
from tests.support import database

pytestmark = pytest.mark.sqlite_only(reason="the data directory's blobs folder; PostgreSQL keeps the"
                                 " blobs in rows")

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
FILE = [("attachments", "evidence.txt", b"some evidence")]


def _break_blobs(data_dir, how: str) -> None:
    blobs = data_dir / "blobs"
    shutil.move(blobs, data_dir / "blobs.gone")
    if how == "not a folder":
        blobs.write_bytes(b"")


def _count(data_dir, table: str) -> int:
    with database.connect(data_dir) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _text_in_box(page: str, box: str, text: str) -> bool:
    return re.search(rf'<textarea[^>]* id="{box}"[^>]*>\s*{text}</textarea>', html.unescape(page)) is not None


@pytest.mark.parametrize("how", ["removed", "not a folder"])
def test_a_disclosure_with_a_file_keeps_its_text_when_the_blobs_folder_cannot_be_used(
        client, installation, how):
    token = csrf_token(client.get("/disclose").text)
    _break_blobs(installation.data_dir, how)
    answer = post_multipart(client, "/disclose", disclosure_fields(token, MARKER), FILE, headers=SAME_ORIGIN)
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    page = html.unescape(answer.text)
    assert "Nothing was stored" in page and "What you wrote is still here" in page
    assert _text_in_box(answer.text, "details", MARKER), page
    assert _count(installation.data_dir, "cases") == 0


@pytest.mark.parametrize("how", ["removed", "not a folder"])
def test_a_reply_with_a_file_keeps_its_message_when_the_blobs_folder_cannot_be_used(
        client, installation, how):
    token = csrf_token(client.get("/disclose").text)
    receipt = receipt_from(post_multipart(client, "/disclose", disclosure_fields(token, "First.")).text)
    assert open_status(client, receipt).status_code == 303
    opened = client.get("/status")
    fields = [(k, v) for k, v in form_for(opened.text, "/status/reply")["fields"] if k != "message"]
    messages = _count(installation.data_dir, "messages")
    _break_blobs(installation.data_dir, how)
    answer = post_multipart(client, "/status/reply", [*fields, ("message", MARKER)], FILE, headers=SAME_ORIGIN)
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    page = html.unescape(answer.text)
    assert "Nothing was stored" in page and "What you wrote is still here" in page
    assert _text_in_box(answer.text, "message", MARKER), page
    assert _count(installation.data_dir, "messages") == messages
