"""A missing data directory file and a dead dependency answered plainly (issue 24, "never a bare
500"), through the test client: an officer's download whose encrypted file is gone from the data
directory gets the fault page (503, Retry-After) before any byte of a download, and the file once
back; a database file gone keeps a disclosure's text with 503; a file check whose sandboxed child
cannot start (the fault injected: the child's program named as one that does not exist) keeps the
disclosure, its file as sent and says the check itself could not run (not that the file is at fault)."""
from __future__ import annotations

import html
import re
import shutil

import pytest

from portal.hidden_details import sandbox
import tests.support.hidden_files as made
from tests.conftest import MARKER
from tests.support import csrf_token, database, disclosure_fields, post_multipart
from tests.support.console import case_links, disclose, sign_in

EVIDENCE = b"some evidence the officer downloads"


def _attachment_url(client, installation) -> str:
    assert sign_in(client, installation.officer).status_code == 303
    [case_url] = case_links(client.get("/console/").text)
    [url] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', client.get(case_url).text)
    return url


@pytest.mark.sqlite_only(reason="a blob file moved out of the data directory; PostgreSQL keeps blobs in rows")
def test_a_download_whose_file_is_missing_gets_the_fault_page_and_works_once_it_is_back(
        app, installation):
    client = app.test_client()
    disclose(client, files=(("attachments", "evidence.txt", EVIDENCE),))
    url = _attachment_url(client, installation)
    [blob] = (installation.data_dir / "blobs").glob("*.blob")
    shutil.move(blob, installation.data_dir / "away.blob")
    answer = client.get(url)
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    assert "storage cannot be reached" in answer.text and "Traceback" not in answer.text
    assert answer.content_type.startswith("text/html")  # a page, not a download cut off
    shutil.move(installation.data_dir / "away.blob", blob)
    again = client.get(url)
    assert again.status_code == 200 and again.data == EVIDENCE


def test_a_disclosure_sent_while_the_database_file_is_gone_keeps_its_text_with_503(app, installation, monkeypatch):
    client = app.test_client()
    token = csrf_token(client.get("/disclose").text)
    database.take_away(installation.data_dir, monkeypatch)
    answer = post_multipart(client, "/disclose", disclosure_fields(token, MARKER),
                            headers={"Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    page = html.unescape(answer.text)
    # SQLite: its file gone (missing); PostgreSQL: a server that will not give the database (dependency).
    gone = "depends on is not answering" if database.on_postgres() else "storage cannot be reached"
    assert "Nothing was stored" in page and gone in page
    # The form cannot be drawn without its database (its channels), so the text comes to copy.
    assert "What you wrote is still here" in page
    assert re.search(rf'<label for="([^"]+)">Details</label>\s*<textarea id="\1"[^>]*>{MARKER}</textarea>',
                     page), page
    assert client.get("/disclose").status_code == 503  # the form's page says so too


def test_a_file_check_whose_sandbox_cannot_start_keeps_the_disclosure_and_says_so(
        app, installation, monkeypatch):
    monkeypatch.setattr(sandbox, "command", lambda *_: ["/nonexistent/portal-file-check-child"])
    client = app.test_client()
    token = csrf_token(client.get("/disclose").text)
    photo = made.jpeg_with_gps()
    answer = post_multipart(client, "/disclose",
                            disclosure_fields(token, "Payments made twice.") + [("strip_metadata", "y")],
                            [("attachments", "site.jpg", photo)])
    assert answer.status_code == 200 and 'id="receipt"' in answer.text
    # Said to be the check's failure, not the file's (issue 24): nothing is wrong with the photo.
    assert "the check itself could not run just now (nothing is wrong with your file)" in html.unescape(answer.text)
    assert "damaged" not in html.unescape(answer.text)
    officer = app.test_client()
    download = officer.get(_attachment_url(officer, installation))
    assert download.status_code == 200 and download.data == photo  # as sent, and said so
