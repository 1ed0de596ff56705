"""Fault pages keep what was typed for the portal's own forms (issue 24), through the test client:
a request without `Sec-Fetch-Site` (stripped by a browser or a proxy) whose CSRF token is valid gets
its text back, and a request that says it is cross-site never does. The fault is real: another
connection holds the database's write lock past a short busy timeout."""
from __future__ import annotations

import contextlib
import html
import re

import pytest

from portal.core.config import load_settings
from portal.web.app import create_app
from tests.conftest import MARKER
from tests.support.console import disclose
from tests.support import csrf_token, disclosure_fields, form_for, post_multipart
from tests.support import database


@pytest.fixture
def app(installation):
    app = create_app(settings=load_settings(installation.data_dir, busy_timeout_seconds=0.05))
    app.config["TESTING"] = True
    return app


@contextlib.contextmanager
def write_lock_held(data_dir):
    conn = database.connect(data_dir)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def cases(data_dir) -> int:
    with contextlib.closing(database.connect(data_dir)) as conn:
        return conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]


def send_locked(app, installation, headers):
    client = app.test_client()
    page_token = csrf_token(client.get("/disclose").text)
    with write_lock_held(installation.data_dir):
        return post_multipart(client, "/disclose",
                              disclosure_fields(page_token, "Typed " + MARKER),
                              headers=headers)


def test_a_fault_page_keeps_the_text_of_a_form_whose_token_is_valid_without_sec_fetch_site(app, installation):
    answer = send_locked(app, installation, {})  # no Sec-Fetch-Site, no Origin: stripped
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    page = html.unescape(answer.text)
    assert "Nothing was stored" in page and "What you wrote is still here" in page
    assert re.search(rf'<textarea[^>]*name="details"[^>]*>\s*Typed {MARKER}</textarea>', page), page
    assert cases(installation.data_dir) == 0


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}])
def test_a_fault_page_never_gives_text_to_a_request_that_says_it_is_cross_site(app, installation, headers):
    answer = send_locked(app, installation, headers)  # even with a valid token
    assert answer.status_code == 503 and MARKER not in answer.text


def test_a_fault_page_gives_no_text_to_a_form_whose_token_is_not_valid(app, installation):
    """A stripped header and a token that is not this session's: the form is unverified. (The
    disclosure form checks its token only after it is read, so the fault can come first.)"""
    client = app.test_client()
    client.get("/disclose")
    with write_lock_held(installation.data_dir):
        answer = post_multipart(client, "/disclose", disclosure_fields("forged-token", "Typed " + MARKER))
    assert MARKER not in answer.text and answer.status_code in (400, 503)


def test_the_status_fault_page_shows_no_machine_fields_as_what_was_typed(app, installation):
    """The receipt form posted with the page's own fields (proof of work, page mark) and a solution
    as the script would fill it in: the receipt is not echoed, so nothing was typed to keep."""
    client = app.test_client()
    receipt = disclose(client, details="a short disclosure")
    fields = dict(form_for(client.get("/status").text, "/status")["fields"])
    assert "pow_challenge" in fields  # the page's own proof field is posted
    fields.update(receipt=receipt, pow_solution="12345")
    with write_lock_held(installation.data_dir):
        answer = client.post("/status", data=fields)
    assert answer.status_code == 503 and "Nothing was stored" in answer.text
    assert "still here" not in answer.text and "Pow" not in answer.text
    assert fields["pow_challenge"] not in answer.text and "12345" not in answer.text


def test_a_sealed_route_met_by_a_fault_answers_json_the_sealing_page_can_show(app, installation):
    """Issue 24 review, L4: the sealing page's scripts read JSON; a storage fault says in words what
    happened and when to try again, with Retry-After, not the HTML fault page."""
    client = app.test_client()
    with write_lock_held(installation.data_dir):
        answer = client.get("/disclose/sealed/setup")
    assert answer.status_code == 503 and answer.is_json, answer.content_type
    assert answer.headers["Retry-After"] == "30" and answer.json["error"] == "storage-locked"
    assert "busy" in answer.json["message"] and "Nothing was sent in the clear" in answer.json["message"]
    assert "Please try again in" in answer.json["message"]
