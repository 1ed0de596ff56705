"""Padded sizes through HTTP (issue 26): two disclosures whose files, texts and replies fall in the
same padding buckets leave sealed objects of the same sizes, on disk and in the database, and the
upload limits count the file's own bytes, not the padded ones (SECURITY.md, "Padded sizes")."""
from __future__ import annotations

import os
import sqlite3

import pytest

from crypto import padded_blob_size, padded_length
from portal.core.context import open_context
from portal.records import case_attachments, casefiles
from portal.web.app import create_app
from tests.conftest import officer_key
from tests.support import csrf_token, post_multipart, receipt_from
from tests.support.discloser import disclose, open_status
from tests.support import database

# 70 000 and 71 000 bytes both pad (Padmé) to 71 680; 2 000 and 2 040 to the 2 048 bucket; texts of
# 150 and 230 bytes to 256; summaries of 20 and 55 bytes to 64.
SIZES = (70_000, 71_000)
REPLY_FILES = (2_000, 2_040)
DETAILS = ("d" * 150, "e" * 230)
SUMMARIES = ("A short summary here", "A longer summary of what happened at the agency, here.")
REPLIES = ("Thanks.", "Here is the second page of the minutes I mentioned.")


def _disclose_and_reply(app, n: int) -> None:
    client = app.test_client()
    files = [("attachments", f"file{n}.pdf", os.urandom(SIZES[n]))]
    response = disclose(client, details=DETAILS[n], files=files, summary=SUMMARIES[n])
    assert response.status_code == 200, response.text
    receipt = receipt_from(response.text)
    assert open_status(client, receipt).status_code == 303
    token = csrf_token(client.get("/status").text)
    reply = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", REPLIES[n])],
                           [("attachments", f"note{n}.txt", os.urandom(REPLY_FILES[n]))])
    assert reply.status_code == 303, reply.text


def _sealed_sizes(conn: sqlite3.Connection, blobs, case_id: str) -> dict:
    """Every sealed object of a case, by what it is, with its length in bytes."""
    fields = dict(conn.execute(
        "SELECT name, length(value_ct) FROM case_fields WHERE case_id = ?", [case_id]))
    messages = [n for (n,) in conn.execute(
        "SELECT length(body_ct) FROM messages WHERE case_id = ? ORDER BY seq", [case_id])]
    statuses = [n for (n,) in conn.execute(
        "SELECT length(reason_ct) FROM status_events WHERE case_id = ? ORDER BY seq", [case_id])]
    files = sorted(
        (length, blobs.size(blob))
        for blob, length in conn.execute(
            "SELECT blob, length(meta_ct) FROM attachments WHERE case_id = ?", [case_id]))
    return {"fields": fields, "messages": messages, "statuses": statuses, "files": files}


def test_two_disclosures_in_the_same_buckets_leave_sealed_objects_of_the_same_sizes(app, installation):
    for n in (0, 1):
        _disclose_and_reply(app, n)

    ctx = open_context(installation.data_dir)
    case_ids = [row[0] for row in ctx.db.execute("SELECT id FROM cases").fetchall()]
    assert len(case_ids) == 2
    conn = database.connect(installation.data_dir)
    try:
        first, second = (_sealed_sizes(conn, ctx.blobs, case_id) for case_id in case_ids)
    finally:
        conn.close()
    assert first == second
    assert len(first["files"]) == 2 and len(first["messages"]) == 1
    # The blobs are as long as the padded format says, not as the files: 71 680 and 2 048 bytes.
    assert sorted(size for _, size in first["files"]) == [padded_blob_size(REPLY_FILES[0]),
                                                          padded_blob_size(SIZES[0])]
    assert padded_length(SIZES[0]) == padded_length(SIZES[1]) == 71_680
    assert first["fields"]["details"] == 42 + 256 and first["fields"]["summary"] == 42 + 64
    # The cases' reply quotas keep padded sizes too, so the same for both replies (issue 26).
    quotas = {n for (n,) in ctx.db.execute("SELECT bytes FROM case_quota")}
    assert quotas == {padded_length(len(REPLIES[0])) + padded_length(REPLY_FILES[0])}

    # The officer still reads every file exactly as sent, and its size as sent.
    account, private_key = officer_key(ctx, installation.officer)
    seen = []
    for case_id in case_ids:
        case_key = casefiles.open_case_key(ctx, case_id, f"account:{account.id}", private_key)
        assert casefiles.read_fields(ctx, case_id, case_key)["details"] in DETAILS
        [attachment] = case_attachments.read_attachments(ctx, case_id, case_key)
        assert attachment.size in SIZES  # the size as sent, kept sealed in its metadata
        for (attachment_id,) in ctx.db.execute(
                "SELECT id FROM attachments WHERE case_id = ?", [case_id]).fetchall():
            _, chunks = case_attachments.attachment_stream(ctx, case_id, case_key, attachment_id)
            seen.append(len(b"".join(chunks)))
    assert sorted(seen) == sorted(SIZES + REPLY_FILES)


@pytest.fixture
def tight_app(installation, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_ATTACHMENT_BYTES", str(SIZES[0]))
    app = create_app(installation.data_dir)
    app.config["TESTING"] = True
    return app


def test_the_upload_limit_counts_the_files_own_bytes_and_the_daily_budget_keeps_only_padded_sizes(
        tight_app, installation):
    # A file of exactly the limit goes in, though its padded blob is larger; one byte more does not.
    # The budget stores what was sealed (padded), never the exact size (issue 26).
    client = tight_app.test_client()
    exact = disclose(client, files=[("attachments", "exact.pdf", os.urandom(SIZES[0]))])
    assert exact.status_code == 200, exact.text
    over = disclose(tight_app.test_client(),
                    files=[("attachments", "over.pdf", os.urandom(SIZES[0] + 1))])
    assert over.status_code == 413
    ctx = open_context(installation.data_dir)
    [(blob,)] = ctx.db.execute("SELECT blob FROM attachments").fetchall()
    spent = ctx.db.execute(
        "SELECT sum(count) FROM throttle WHERE bucket LIKE 'upload-bytes%'").fetchone()[0]
    assert ctx.blobs.size(blob) == padded_blob_size(SIZES[0])
    assert spent == padded_length(SIZES[0]) != SIZES[0]
