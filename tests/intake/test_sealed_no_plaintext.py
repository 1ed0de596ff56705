"""Issue 27's no-plaintext test: a marker planted in every field, reply and file the test-as-browser
seals appears in no request body the server receives (captured at the WSGI layer), no log, no
database row and no file of the data directory; the officer reads every one of them."""
from __future__ import annotations

import io
import logging
import os

import crypto
from portal.casework import identity as identity_records
from portal.core.context import open_context
from portal.records import case_history, casefiles
from tests.conftest import MARKER, officer_key
from tests.support import files_containing
from tests.support.console import sign_in
from tests.support.sealing import (get_setup, post_json, seal_disclosure, seal_file, seal_reply,
                                   status_with_script, upload_blob)

FIELDS = ("category", "summary", "details", "disclosed_elsewhere", "contact", "identifying")


def capture_bodies(app) -> list[bytes]:
    """Every request body the app receives, read whole before the app sees it."""
    bodies: list[bytes] = []
    inner = app.wsgi_app

    def capturing(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        bodies.append(body)
        environ["wsgi.input"] = io.BytesIO(body)
        return inner(environ, start_response)

    app.wsgi_app = capturing
    return bodies


def test_no_marker_reaches_the_server_in_any_request_log_row_or_file(app, installation, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = capture_bodies(app)
    client = app.test_client()
    values = {name: f"{name}: {MARKER}" for name in FIELDS}
    setup = get_setup(client)
    case_key, case_id = crypto.new_case_key(), os.urandom(16).hex()
    data = os.urandom(200_000) + MARKER.encode() + os.urandom(100_000)
    attachment_id, blob, meta = seal_file(case_key, case_id, f"notes {MARKER}.pdf", data)
    upload = upload_blob(client, setup["csrf_token"], blob)
    sealed = seal_disclosure(setup, values, case_key=case_key, case_id=case_id,
                             attachments=[{"id": attachment_id, "upload": upload, "meta": meta}])
    response = post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"])
    assert response.status_code == 201, response.text
    setup, opened = status_with_script(client, sealed.identity.lookup_id)
    assert opened.status_code == 200
    reply_text = f"A reply: {MARKER}"
    answer = post_json(client, "/status/sealed/reply", seal_reply(setup, opened.get_json(), sealed.identity,
                                                                  reply_text), setup["csrf_token"])
    assert answer.status_code == 201, answer.text

    assert len([b for b in bodies if b]) >= 8  # the parts, the disclosure, the status check, the reply
    assert not [b for b in bodies if MARKER.encode() in b]
    assert MARKER not in caplog.text
    assert files_containing(installation.data_dir, MARKER.encode()) == []

    # And yet the officer reads every field and the reply.
    ctx = open_context(installation.data_dir)
    [(case_id,)] = ctx.db.execute("SELECT id FROM cases").fetchall()
    account, private_key = officer_key(ctx, installation.officer)
    case_key = casefiles.open_case_key(ctx, case_id, f"account:{account.id}", private_key)
    fields = casefiles.read_fields(ctx, case_id, case_key)
    fields.update(identity_records.read_identity(ctx, case_id, account.id, private_key, fields))
    assert {name: fields[name] for name in FIELDS} == values
    assert [m.body for m in case_history.read_messages(ctx, case_id, case_key)] == [reply_text]
    ref = casefiles.get_case(ctx, case_id=case_id).ref
    ctx.db.conn.close()
    officer = app.test_client()
    sign_in(officer, installation.officer)
    page = officer.get(f"/console/cases/{ref}")
    assert page.status_code == 200 and f"details: {MARKER}" in page.text and f"notes {MARKER}.pdf" in page.text
    assert officer.get(f"/console/cases/{ref}/attachments/{attachment_id}").data == data
