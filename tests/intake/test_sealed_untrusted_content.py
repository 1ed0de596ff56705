"""A case sealed in the discloser's browser is untrusted input everywhere an officer reads it
(issue 27, the fresh review's H1): a field, a file's details, a status record or a reply whose
ciphertext does not open, or opens to bytes that are not UTF-8 text or not JSON, is shown as "could
not be opened" and flagged; the inbox, the s 15 tool, search, the case page and the record still
answer, and show the other cases. Every bad case is sent through the sealed routes as a hostile
browser would."""
from __future__ import annotations

import html
import json
import secrets

import crypto
from portal.core.context import open_context
from portal.records import case_history
from tests.support import csrf_token, form_for
from tests.support.console import sign_in
from tests.support.sealing import (
    b64, get_setup, post_json, seal_disclosure, seal_file, seal_reply, status_with_script, unb64,
    upload_blob,
)

GOOD = {"category": "public_funds", "summary": "Payments to a director's company",
        "details": "The director approved invoices from a company he owns.",
        "disclosed_elsewhere": "no", "contact": "", "identifying": ""}
UNOPENED = "(This could not be opened: it was changed outside the portal or sealed wrongly.)"
NOT_UTF8 = b"\xff\xfe not text"


def _field(name, plain=NOT_UTF8):
    def change(body, sealed):
        body["fields"][name] = b64(crypto.encrypt_field(sealed.case_key, sealed.case_id, name, plain))
    return change


def _flipped(name):
    def change(body, sealed):
        ct = bytearray(unb64(body["fields"][name]))
        ct[-1] ^= 1
        body["fields"][name] = b64(bytes(ct))
    return change


def _contact(body, sealed):
    body["identity_fields"]["contact"] = b64(
        crypto.encrypt_field(sealed.identity_key, sealed.case_id, "identity:contact", NOT_UTF8))


def _status_not_json(body, sealed):
    name = case_history.status_field(1, "received", body["day"], None)
    body["status"] = b64(crypto.encrypt_field(sealed.case_key, sealed.case_id, name, b"[1, 2"))


def _disclose(client, summary, change=None, meta=None):
    """A sealed disclosure whose summary is `summary`, changed by `change(body, sealed)`; with
    `meta` (raw bytes), one file whose sealed details are those bytes."""
    setup = get_setup(client)
    case_key, case_id = crypto.new_case_key(), secrets.token_hex(16)
    attachments = []
    if meta is not None:
        attachment_id, blob, _ = seal_file(case_key, case_id, "ledger.pdf", b"ledger " * 100)
        upload = upload_blob(client, setup["csrf_token"], blob)
        meta_ct = crypto.encrypt_field(case_key, case_id, f"attachment:{attachment_id}", meta)
        attachments = [{"id": attachment_id, "upload": upload, "meta": b64(meta_ct)}]
    sealed = seal_disclosure(setup, {**GOOD, "summary": summary}, case_key=case_key, case_id=case_id,
                             attachments=attachments)
    if change is not None:
        change(sealed.body, sealed)
    response = post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"])
    assert response.status_code == 201, response.text
    return sealed


def test_every_kind_of_bad_sealed_content_is_marked_and_no_console_page_fails(app, installation):
    client = app.test_client()
    good = _disclose(client, "Fuel cards used on weekends")
    bad = {
        "summary-not-utf8": _disclose(client, "ignored", _field("summary")),
        "details-not-utf8": _disclose(client, "Details not text", _field("details")),
        "category-flipped": _disclose(client, "Category flipped", _flipped("category")),
        "contact-not-utf8": _disclose(client, "Contact not text", _contact),
        "status-not-json": _disclose(client, "Status record not JSON", _status_not_json),
        "file-not-utf8": _disclose(client, "File details not text", meta=NOT_UTF8),
        "file-not-json": _disclose(client, "File details not JSON", meta=b"{not json"),
        "file-a-list": _disclose(client, "File details a list", meta=json.dumps([1]).encode()),
    }
    # A reply whose sealed body is not UTF-8, on a case that is otherwise fine.
    replied = _disclose(client, "Reply not text")
    setup, opened = status_with_script(client, replied.identity.lookup_id)
    assert opened.status_code == 200, opened.text
    reply = seal_reply(setup, opened.get_json(), replied.identity, "x")
    case_key = crypto.open_sealed(replied.identity.private_key, unb64(opened.get_json()["sealed_case_key"]))
    name = case_history.message_field(reply["message_id"], "discloser", None, setup["day"])
    reply["body"] = b64(crypto.encrypt_field(case_key, replied.case_id, name, NOT_UTF8))
    assert post_json(client, "/status/sealed/reply", reply, setup["csrf_token"]).status_code == 201

    ctx = open_context(installation.data_dir)
    refs = dict(ctx.db.execute("SELECT id, ref FROM cases").fetchall())
    ctx.db.conn.close()
    officer = app.test_client()
    sign_in(officer, installation.officer)

    inbox = officer.get("/console/")
    assert inbox.status_code == 200
    assert "Fuel cards used on weekends" in inbox.text and "Reply not text" in inbox.text
    assert all(refs[s.case_id] in inbox.text for s in [good, replied, *bad.values()])
    assert html.escape(UNOPENED) in inbox.text or UNOPENED in html.unescape(inbox.text)
    many = officer.get("/console/close-many?all=1")
    assert many.status_code == 200 and "Fuel cards used on weekends" in html.unescape(many.text)
    token = csrf_token(inbox.text)
    found = officer.post("/console/search", data={"csrf_token": token, "words": "fuel"})
    assert found.status_code == 200 and "Fuel cards used on weekends" in html.unescape(found.text)
    found = officer.post("/console/search", data={"csrf_token": token, "words": "details"})
    assert found.status_code == 200 and "Details not text" in html.unescape(found.text)

    def pages(sealed):
        ref = refs[sealed.case_id]
        page, record = officer.get(f"/console/cases/{ref}"), officer.get(f"/console/cases/{ref}/record")
        assert (page.status_code, record.status_code) == (200, 200), ref
        return html.unescape(page.text), html.unescape(record.text)

    flag = 'data-field-problem="%s"'
    for kind, field in (("summary-not-utf8", "summary"), ("details-not-utf8", "details"),
                        ("category-flipped", "category"), ("contact-not-utf8", "contact")):
        page, record = pages(bad[kind])
        assert UNOPENED in page and flag % field in page, kind
        assert "Could not be opened: what the discloser's browser sealed does not open" in page
        if field != "contact":
            assert UNOPENED in record and flag % field in record, kind
    page, _ = pages(bad["status-not-json"])
    assert "changed outside the portal" in page
    for kind in ("file-not-utf8", "file-not-json", "file-a-list"):
        page, record = pages(bad[kind])
        assert "This file's details could not be opened" in page, kind
    page, record = pages(replied)
    assert "changed outside the portal" in page and "Reply not text" in page
    page, _ = pages(good)
    assert UNOPENED not in page and "Not as the form takes it:" not in page


def test_a_file_with_a_part_of_another_swapped_in_is_refused_with_the_portals_own_page(app, installation):
    # The fresh review's L3: the server cannot tell, at storage, that a part came from another
    # file sealed with the same key; the officer's download then gave the server's bare 500, or
    # a file cut off part way. Every chunk is opened before the first byte is sent.
    client = app.test_client()
    setup = get_setup(client)
    case_key, case_id = crypto.new_case_key(), secrets.token_hex(16)
    part = 64 * 1024
    attachments = []
    for swapped in (1, 3):  # the first stream chunk, and one well after it
        one_id, one, one_meta = seal_file(case_key, case_id, f"one-{swapped}.pdf", b"1" * 300_000)
        _, two, _ = seal_file(case_key, case_id, "two.pdf", b"2" * 300_000)
        mixed = one[:swapped * part] + two[swapped * part:(swapped + 1) * part] + one[(swapped + 1) * part:]
        attachments.append({"id": one_id, "upload": upload_blob(client, setup["csrf_token"], mixed),
                            "meta": one_meta})
    good_id, good_blob, good_meta = seal_file(case_key, case_id, "fine.pdf", b"fine " * 1000)
    attachments.append({"id": good_id, "upload": upload_blob(client, setup["csrf_token"], good_blob),
                        "meta": good_meta})
    sealed = seal_disclosure(setup, GOOD, case_key=case_key, case_id=case_id, attachments=attachments)
    assert post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"]).status_code == 201
    ctx = open_context(installation.data_dir)
    [(ref,)] = ctx.db.execute("SELECT ref FROM cases").fetchall()
    ctx.db.conn.close()
    officer = app.test_client()
    sign_in(officer, installation.officer)
    for attachment in attachments[:2]:
        got = officer.get(f"/console/cases/{ref}/attachments/{attachment['id']}")
        assert got.status_code == 500 and got.mimetype == "text/html"
        assert "This file could not be opened" in html.unescape(got.text)
        assert "Content-Disposition" not in got.headers
    fine = officer.get(f"/console/cases/{ref}/attachments/{good_id}")
    assert fine.status_code == 200 and fine.data == b"fine " * 1000
    page = officer.get(f"/console/cases/{ref}")
    assert page.status_code == 200
    # A clean copy reads the file whole: the same page, whichever part was swapped.
    for attachment in attachments[:2]:
        action = f"/console/cases/{ref}/attachments/{attachment['id']}/clean-copy"
        form = form_for(page.text, action)
        copied = officer.post(form["action"], data=dict(form["fields"]))
        assert copied.status_code == 500 and "This file could not be opened" in html.unescape(copied.text)


def test_a_body_past_the_limit_on_a_sealed_route_is_answered_in_json_as_documented(app):
    # The fresh review's L5: docs/sealed-submission.md promises JSON refusals; a body over 4 MiB
    # was answered with the HTML page, which the sealing page's script cannot read.
    client = app.test_client()
    setup = get_setup(client)
    big = {"v": 1, "padding": "x" * (5 * 1024 * 1024)}
    for path in ("/disclose/sealed", "/disclose/sealed/uploads"):
        answer = post_json(client, path, big, setup["csrf_token"])
        assert answer.status_code == 413 and answer.is_json, path
        assert answer.get_json()["error"] == "too-large" and answer.get_json()["message"]
    # Other pages keep the plain page.
    plain = client.post("/disclose", data=b"x" * (300 * 1024 * 1024 // 100), content_type="text/plain")
    assert not plain.is_json
