"""The discloser side over HTTP (Flask's test client): disclose, receipt, status, reply, and bad input."""
from __future__ import annotations

import os
import re

import pytest

from portal.keys import accounts
from portal.records import case_attachments, case_history, casefiles
from portal.web.app import create_app
from portal.core.config import load_settings
from portal.core.context import open_context
from tests.conftest import MARKER, officer_key
from tests.support import (csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from)
from tests.support.discloser import ATTACHMENT, disclose, open_status
from tests.support import database







def only_case(installation):
    ctx = open_context(installation.data_dir)
    rows = ctx.db.execute("SELECT id FROM cases").fetchall()
    assert len(rows) == 1
    return ctx, casefiles.get_case(ctx, case_id=rows[0][0])


def test_disclosure_is_readable_by_the_channel_officer_only_and_nothing_is_stored_in_clear(client, installation):
    response = disclose(client)
    assert response.status_code == 200, response.text
    receipt = receipt_from(response.text)
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{1,4})+", receipt)

    ctx, case = only_case(installation)
    assert case.channel_name == "Audit and Risk" and case.status == "received"
    officer = installation.officer
    account, private_key = officer_key(ctx, officer)
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    fields = casefiles.read_fields(ctx, case.id, case_key)
    assert fields["details"] == MARKER and fields["category"] == "public_funds"
    [attachment] = case_attachments.read_attachments(ctx, case.id, case_key)
    assert attachment.name == "evidence.pdf" and attachment.size == len(ATTACHMENT)
    _, chunks = case_attachments.attachment_stream(ctx, case.id, case_key, attachment.id)
    assert b"".join(chunks) == ATTACHMENT

    # The officer of another channel holds no copy of the case key and cannot open it.
    other = installation.other_officer
    other_account, other_key = officer_key(ctx, other)
    with pytest.raises(casefiles.CaseNotFound):
        casefiles.open_case_key(ctx, case.id, f"account:{other_account.id}", other_key)
    with pytest.raises(casefiles.CaseNotFound):
        casefiles.open_case_key(ctx, case.id, f"account:{account.id}", other_key)

    ctx.db.conn.close()
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_discloser_opens_status_replies_with_attachment_and_sees_it(client, installation):
    receipt = receipt_from(disclose(client).text)
    client.delete_cookie(client.application.config["SESSION_COOKIE_NAME"])  # a new visit, days later

    # The receipt is typed back sloppily: lower case, spaces, an O for a zero.
    sloppy = receipt.lower().replace("-", " ").replace("0", "o")
    response = open_status(client, sloppy)
    assert response.status_code == 303
    page = client.get("/status")
    assert 'id="case-status"' in page.text and 'data-status="received"' in page.text
    assert "evidence.pdf" in page.text

    token = csrf_token(page.text)
    reply_text = "A follow-up " + MARKER
    response = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", reply_text)],
                              [("attachments", "minutes.txt", b"minutes of the meeting " + MARKER.encode())])
    assert response.status_code == 303, response.text
    thread = client.get("/status").text
    assert reply_text in thread and "minutes.txt" in thread

    ctx, case = only_case(installation)
    officer = installation.officer
    account, private_key = officer_key(ctx, officer)
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    [message] = case_history.read_messages(ctx, case.id, case_key)
    assert message.author == "discloser" and message.body == reply_text
    assert [a.name for a in message.attachments] == ["minutes.txt"]
    ctx.db.conn.close()
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_wrong_receipt_gets_one_generic_message_and_typo_is_caught_by_check_character(client):
    receipt = receipt_from(disclose(client).text)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    # A well-formed code for no case: change a data character and recompute nothing - instead make a new one.
    import crypto
    stranger = crypto.new_receipt()
    response = open_status(client, stranger)
    assert response.status_code == 400
    assert "We could not open a disclosure with that code" in response.text
    assert "typing mistake" not in response.text

    # One character changed: the check character catches it before any lookup.
    chars = list(receipt)
    i = 0
    chars[i] = next(c for c in alphabet if c != chars[i])
    response = open_status(client, "".join(chars))
    assert response.status_code == 400
    assert "typing mistake" in response.text
    assert "We could not open" not in response.text


def test_bad_csrf_token_returns_the_form_with_the_text_and_leaves_no_blob(client, installation):
    client.get("/disclose")
    text = "Hours of careful writing " + MARKER
    fields = disclosure_fields("forged-token", text, summary="Kept summary")
    response = post_multipart(client, "/disclose", fields, [("attachments", "big.bin", ATTACHMENT)],
                              headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 400
    assert MARKER in response.text and "Kept summary" in response.text
    assert "choose any files again" in response.text and "big.bin" in response.text
    assert database.blobs(installation.data_dir) == []
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_missing_field_returns_the_form_with_everything_typed(client, installation):
    token = csrf_token(client.get("/disclose").text)
    fields = disclosure_fields(token, MARKER, summary="", contact="call me on 021 555")
    response = post_multipart(client, "/disclose", fields, [("attachments", "a.bin", b"abc")])
    assert response.status_code == 400
    assert "Please give a short title." in response.text
    assert MARKER in response.text and "call me on 021 555" in response.text
    assert database.blobs(installation.data_dir) == []


def test_failure_between_steps_leaves_no_case_and_no_blob(client, installation, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("injected failure after the case row was written")

    monkeypatch.setattr(case_attachments, "insert_attachments", fail)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    client.application.testing = False
    response = disclose(client)
    assert response.status_code == 500
    assert "Nothing was stored" in response.text
    ctx = open_context(installation.data_dir)
    for table in ("cases", "case_fields", "case_keys", "attachments", "status_events"):
        assert ctx.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    assert database.blobs(installation.data_dir) == []


def _app_with(installation, **overrides):
    app = create_app(settings=load_settings(installation.data_dir, **overrides))
    app.config["TESTING"] = True
    return app.test_client()


def test_oversized_attachment_gets_413_keeps_the_text_and_leaves_no_blob(installation):
    client = _app_with(installation, max_attachment_bytes=1024 * 1024)
    response = disclose(client, details="Typed before the file " + MARKER)
    assert response.status_code == 413
    assert "too large" in response.text and MARKER in response.text
    # The limit is named (issue 24 review, L3), as the form's hint states it.
    assert "The file &#39;evidence.pdf&#39; is too large: the most is 1 MB." in response.text
    assert database.blobs(installation.data_dir) == []


def test_total_submission_cap(installation):
    client = _app_with(installation, max_submission_bytes=4 * 1024 * 1024)
    files = [("attachments", "one.bin", os.urandom(3 * 1024 * 1024)), ("attachments", "two.bin", os.urandom(3 * 1024 * 1024))]
    response = disclose(client, files=files)
    assert response.status_code == 413 and "This submission is too large: the most is 4.1 MB." in response.text
    assert database.blobs(installation.data_dir) == []


def test_free_space_floor_refuses_with_a_clear_page(installation):
    client = _app_with(installation, free_space_floor_bytes=1 << 62)
    response = disclose(client)
    assert response.status_code == 503
    assert "short of storage space" in response.text
    assert database.blobs(installation.data_dir) == []


def test_below_the_floor_a_form_is_told_of_files_only_if_it_sent_some_and_never_to_send_now(installation):
    # Review 24c, L1: below the floor nothing can be sent now, with files or without.
    client = _app_with(installation, free_space_floor_bytes=1 << 62)
    without = disclose(client, files=())
    assert without.status_code == 503 and MARKER in without.text
    assert "please send it again later." in without.text
    assert "files" not in without.text.split("short of storage space")[1].split("</")[0]
    with_file = disclose(client)
    assert with_file.status_code == 503 and "your files were not kept" in with_file.text
    assert "with your files chosen again" in with_file.text and "now without the files" not in with_file.text


def test_receipt_must_be_typed_back_once(client):
    response = disclose(client, files=())
    receipt = receipt_from(response.text)
    token = csrf_token(response.text)
    wrong = client.post("/disclose/confirm", data={"csrf_token": token, "expected": receipt, "receipt": "ABCD"})
    assert wrong.status_code == 400 and "not the same code" in wrong.text
    assert receipt_from(wrong.text) == receipt  # shown again, so it is not lost
    right = client.post("/disclose/confirm", data={"csrf_token": token, "expected": receipt,
                                                   "receipt": receipt.replace("-", " ").lower()})
    assert right.status_code == 200 and "You have your code right" in right.text


def test_status_session_ends_after_idle_time_and_its_server_half_is_deleted(client, installation):
    receipt = receipt_from(disclose(client, files=()).text)
    assert open_status(client, receipt).status_code == 303
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions WHERE kind = 'discloser'").fetchone()[0] == 1
    # Ten idle minutes pass.
    ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 601")
    page = client.get("/status")
    assert 'name="receipt"' in page.text and 'id="case-status"' not in page.text
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    token = csrf_token(page.text)
    response = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", "late")])
    assert response.status_code == 401 and "10 minutes" in response.text


def test_discloser_session_halves_alone_open_nothing(client, installation):
    import crypto
    receipt = receipt_from(disclose(client, files=()).text)
    assert open_status(client, receipt).status_code == 303
    cookie = client.get_cookie(client.application.config["PORTAL_STATUS_COOKIE"]).value
    ctx = open_context(installation.data_dir)
    [(server_half,)] = ctx.db.execute("SELECT server_half FROM sessions").fetchall()
    identity = crypto.derive_receipt_identity(crypto.normalise_receipt(receipt), ctx.settings.install_salt,
                                              ctx.settings.receipt_params)
    assert identity.private_key not in server_half
    # The server half under any key but the cookie's does not open.
    with pytest.raises(crypto.DecryptionError):
        crypto.join_secret(os.urandom(32), server_half)
    # The cookie holds only the session id and key, not the discloser's key.
    import base64
    for part in cookie.split("."):
        assert base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) != identity.private_key
    # With the server half deleted, the cookie alone opens nothing.
    ctx.db.execute("DELETE FROM sessions")
    assert 'id="case-status"' not in client.get("/status").text


def test_logout_destroys_the_server_half(client, installation):
    receipt = receipt_from(disclose(client, files=()).text)
    open_status(client, receipt)
    page = client.get("/status")
    client.post("/status/logout", data={"csrf_token": csrf_token(page.text)})
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_reply_outside_a_session_is_refused(client):
    token = csrf_token(client.get("/status").text)
    response = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", "hello")])
    assert response.status_code == 401


def test_every_page_sends_the_security_headers_and_strict_cookies(client):
    for path in ("/", "/disclose", "/status"):
        response = client.get(path)
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        # [flood] the forms run one same-origin script (the proof of work), never an inline one
        scripts = re.findall(r"<script[^>]*>", response.text)
        if path == "/":
            assert "script-src" not in csp and not scripts
        else:
            assert csp.endswith("; script-src 'self'")
            assert scripts == ['<script src="/static/proof.js" defer>']
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert not re.search(r'(src|href)="(https?:)?//', response.text), "a resource from another origin"
    response = disclose(client, files=())
    open_status(client, receipt_from(response.text))
    cookies = [c for c in client._cookies.values()]
    assert cookies
    for cookie in cookies:
        assert cookie.key.startswith("__Host-")


def test_status_cookie_flags(client):
    receipt = receipt_from(disclose(client, files=()).text)
    token = csrf_token(client.get("/status").text)
    response = client.post("/status", data={"csrf_token": token, "receipt": receipt})
    header = response.headers["Set-Cookie"]
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header


def test_landing_page_explains_wrongdoing_protection_media_and_anonymity_limits(client):
    text = client.get("/").text
    for phrase in ("serious wrongdoing", "Protected Disclosures (Protection of Whistleblowers) Act 2022",
                   "news media is not protected", "personal device", "not your employer", "metadata",
                   "20 working days"):
        assert phrase in text, phrase
    assert 'href="/disclose"' in text and 'href="/status"' in text


def test_a_file_sent_to_a_form_without_files_is_never_written_to_disk(client, installation, monkeypatch, tmp_path):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "spool"))
    (tmp_path / "spool").mkdir()
    token = csrf_token(client.get("/status").text)
    post_multipart(client, "/status", [("csrf_token", token), ("receipt", "x")],
                   [("receipt_file", "x.bin", MARKER.encode() * 100_000)])
    assert list((tmp_path / "spool").iterdir()) == []


def test_the_disclosure_form_has_no_csrf_time_limit(client, installation, monkeypatch):
    import time
    token = csrf_token(client.get("/disclose").text)
    later = time.time() + 3 * 24 * 3600  # three days of writing
    monkeypatch.setattr(time, "time", lambda: later)
    response = post_multipart(client, "/disclose", disclosure_fields(token, "written slowly"))
    # The no-script ticket has run out (portal.guard.tickets.Expired): the text comes back with a
    # new one, and the same form, its token three days old, is then taken.
    assert response.status_code == 503 and "written slowly" in response.text and "has run out" in response.text
    response = post_multipart(client, "/disclose", disclosure_fields(token, "written slowly"))
    assert response.status_code == 200 and receipt_from(response.text)


def test_received_day_is_the_date_in_auckland(client, installation, monkeypatch):
    import datetime as dt
    from portal.core import clock
    # 11:30 UTC on 31 December is already 1 January in Auckland (NZDT, UTC+13).
    monkeypatch.setattr(clock, "now_utc", lambda: dt.datetime(2026, 12, 31, 11, 30, tzinfo=dt.timezone.utc))
    disclose(client, files=())
    ctx, case = only_case(installation)
    assert case.received_day == "2027-01-01"


def test_writeback_during_a_long_upload_keeps_the_attachment_whole(client, installation, monkeypatch):
    from portal.intake import pending_files, receiving
    monkeypatch.setattr(pending_files, "_FLUSH_EVERY", 256 * 1024)  # start writeback many times over 3 MiB
    disclose(client)
    ctx, case = only_case(installation)
    officer = installation.officer
    account, private_key = officer_key(ctx, officer)
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    [attachment] = case_attachments.read_attachments(ctx, case.id, case_key)
    assert b"".join(case_attachments.attachment_stream(ctx, case.id, case_key, attachment.id)[1]) == ATTACHMENT


def test_a_reply_is_refused_clearly_when_the_disk_is_nearly_full(installation):
    client = _app_with(installation)
    receipt = receipt_from(disclose(client, files=()).text)
    full = _app_with(installation, free_space_floor_bytes=1 << 62)
    assert open_status(full, receipt).status_code == 303
    token = csrf_token(full.get("/status").text)
    response = post_multipart(full, "/status/reply", [("csrf_token", token), ("message", "hello")],
                              [("attachments", "a.bin", b"abc")])
    assert response.status_code == 503 and "short of storage space" in response.text
    assert "with your files chosen again" in response.text and "now without" not in response.text
    assert database.blobs(installation.data_dir) == []
    alone = post_multipart(full, "/status/reply", [("csrf_token", token), ("message", "hello")])
    assert alone.status_code == 503 and "so nothing was sent" in alone.text and "files" not in alone.text.split(
        "short of storage space")[1].split("</")[0]


def test_the_problem_summary_links_each_field_error_to_its_field(client):
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, "", summary=""))
    summary = re.search(r'<div class="problem" role="alert">.*?</div>', response.text, re.S).group(0)
    assert '<a href="#summary">A short title: Please give a short title.</a>' in summary
    assert '<a href="#details">What happened: Please describe what happened.</a>' in summary
    assert 'id="summary"' in response.text and 'id="details"' in response.text
