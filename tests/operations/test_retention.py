"""Retention (issue 17): a closed case past its channel's period is listed for its officers, deleted only
when a second officer confirms, and then nothing of it is left in the database file, its WAL or the blob
folder; a legal hold keeps a case off the list."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from portal.core import clock
from portal.web.app import create_app
from tests.conftest import MARKER, add_account, run_cli
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.audit import case_refs
from tests.support import database

ATTACHMENT = b"%PDF-1.4 evidence " + MARKER.encode() * 500


@pytest.fixture
def cara(installation):
    """A second officer of the same channel: the four eyes."""
    return add_account(installation.data_dir, "officer", "cara@agency.govt.nz", "Cara Second", ["Audit and Risk"])


def disclose(client) -> str:
    token = csrf_token(client.get("/disclose").text)
    answer = post_multipart(client, "/disclose", disclosure_fields(token, MARKER),
                            [("attachments", "evidence.pdf", ATTACHMENT)])
    assert answer.status_code == 200, answer.text
    return receipt_from(answer.text)


def sign_in(client, person) -> None:
    token = csrf_token(client.get("/console/login").text)
    answer = client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                                 "passphrase": person.passphrase, "totp": person.code()})
    assert answer.status_code == 303, answer.text


def case_ref_for(data_dir, receipt_order: int) -> str:
    """The only case's reference (receipt_order 0): rows keep no order of arrival (issue 26)."""
    conn = database.connect(data_dir)
    try:
        return conn.execute("SELECT ref FROM cases ORDER BY ref LIMIT 1 OFFSET ?", [receipt_order]).fetchone()[0]
    finally:
        conn.close()


def post(client, url: str, **fields):
    page = client.get("/console/retention/")
    return client.post(url, data={"csrf_token": csrf_token(page.text), **fields})


def close_case(client, ref: str) -> None:
    page = client.get(f"/console/cases/{ref}")
    answer = client.post(f"/console/cases/{ref}/status",
                         data={"csrf_token": csrf_token(page.text), "status": "closed", "reason": "Dealt with."})
    assert answer.status_code == 303, answer.text


def listed(client) -> list[str]:
    return re.findall(r'<li data-ref="([^"]+)"', client.get("/console/retention/").text.split('id="held-heading"')[0])


def confirm(client, ref: str, person):
    first = post(client, f"/console/retention/{ref}/confirm")
    assert first.status_code == 200 and "confirm_passphrase" in first.text  # asked for the passphrase again
    return client.post(f"/console/retention/{ref}/confirm",
                       data={"csrf_token": csrf_token(first.text), "confirm_passphrase": person.passphrase})


def traces_of(data_dir, case_ref: str) -> dict[str, bytes]:
    """Byte strings only this case put into the raw files: its keys, ciphertexts, receipt lookup, id."""
    conn = database.connect(data_dir)
    try:
        case_id, lookup, discloser_key = conn.execute(
            "SELECT id, receipt_lookup, discloser_public_key FROM cases WHERE ref = ?", [case_ref]).fetchone()
        found = {"case id": case_id.encode(), "receipt lookup": lookup.encode(), "discloser key": discloser_key}
        for n, (sealed,) in enumerate(conn.execute("SELECT sealed_key FROM case_keys WHERE case_id = ?", [case_id])):
            found[f"sealed key {n}"] = sealed
        for name, value in conn.execute("SELECT name, value_ct FROM case_fields WHERE case_id = ?", [case_id]):
            found[f"field {name}"] = value[-32:]
        [blob] = [row[0] for row in conn.execute("SELECT blob FROM attachments WHERE case_id = ?", [case_id])]
    finally:
        conn.close()
    content = database.blob_bytes(data_dir, blob)
    found["blob name"] = blob.encode()
    found["blob bytes"] = content[200:264]
    return found


def raw_files(data_dir) -> dict[str, bytes]:
    """The database's and the blobs' files; on PostgreSQL, whose files the server keeps (and which
    has no secure_delete: SECURITY.md), what the database still holds, every cell of every row."""
    if database.on_postgres():
        return {"database": database.stored_bytes(data_dir)}
    files = {name: (data_dir / name).read_bytes() for name in ("portal.db", "portal.db-wal")
             if (data_dir / name).exists()}
    for path in (data_dir / "blobs").iterdir():
        files[f"blobs/{path.name}"] = path.name.encode() + path.read_bytes()
    return files


def test_expired_case_is_listed_needs_a_second_officer_then_leaves_nothing(installation, cara, monkeypatch):
    data_dir = installation.data_dir
    app = create_app(data_dir)
    app.config["TESTING"] = True
    discloser = app.test_client()
    receipts, refs = [], []
    for _ in range(3):  # the cases' rows keep no order of arrival: tell each new one apart
        known = case_refs(data_dir)
        receipts.append(disclose(discloser))
        refs += case_refs(data_dir) - known
    expiring, held, still_open = refs
    run_cli(data_dir, "channel", "retention", "Audit and Risk", "--months", "1")

    ana, second, stranger = app.test_client(), app.test_client(), app.test_client()
    sign_in(ana, installation.officer)
    sign_in(second, cara)
    sign_in(stranger, installation.other_officer)
    close_case(ana, expiring)
    close_case(ana, held)
    answer = post(ana, "/console/retention/holds", ref=held)
    assert answer.status_code == 303
    assert listed(ana) == []  # closed today: the month has not passed

    later = clock.now_utc() + dt.timedelta(days=40)
    monkeypatch.setattr(clock, "now_utc", lambda: later)
    assert listed(ana) == [expiring]     # the held one and the open one are not listed
    assert listed(second) == [expiring]
    assert listed(stranger) == []        # an officer who does not read the case never sees it
    assert post(stranger, f"/console/retention/{expiring}/request").status_code == 404
    refused = post(ana, f"/console/retention/{held}/request")
    assert refused.status_code == 409 and "legal hold" in refused.text

    # Nothing happens on one officer's word.
    assert post(ana, f"/console/retention/{expiring}/request").status_code == 303
    assert "You asked for its deletion" in ana.get("/console/retention/").text
    assert confirm(second, still_open, cara).status_code == 409
    alone = confirm(ana, expiring, installation.officer)
    assert alone.status_code == 409 and "a second officer must confirm" in alone.text
    assert ana.get(f"/console/cases/{expiring}").status_code == 200

    before = traces_of(data_dir, expiring)
    assert confirm(second, expiring, cara).status_code == 303

    # Gone for everyone: the officers, the discloser's receipt.
    assert ana.get(f"/console/cases/{expiring}").status_code == 404
    assert listed(ana) == []
    status = discloser.post("/status", data={"csrf_token": csrf_token(discloser.get("/status").text),
                                             "receipt": receipts[0]})
    assert 'id="case-status"' not in status.text
    # The other cases are untouched.
    assert MARKER in ana.get(f"/console/cases/{held}").text

    # Raw files after a checkpoint: no key, ciphertext, lookup, id or blob of the deleted case anywhere.
    conn = database.connect(data_dir)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    entries = conn.execute("SELECT event, actor, subject FROM audit_log WHERE case_ref = ? ORDER BY seq",
                           [expiring]).fetchall()
    conn.close()
    files = raw_files(data_dir)
    for label, trace in before.items():
        assert not [name for name, data in files.items() if trace in data], f"{label} is still on disk"
    # The audit log keeps that it happened and who did it, not what it was.
    ids = dict(database.connect(data_dir).execute("SELECT email, id FROM accounts").fetchall())
    assert ("deletion_requested", ids[installation.officer.email], None) in entries
    assert ("case_deleted", ids[cara.email], ids[installation.officer.email]) == entries[-1]
    verified = run_cli(data_dir, "audit", "verify")
    assert "intact" in verified.output


def one_closed_case(installation):
    """(app, Ana's signed-in client, the reference of a case she closed today)."""
    app = create_app(installation.data_dir)
    app.config["TESTING"] = True
    disclose(app.test_client())
    ref = case_ref_for(installation.data_dir, 0)
    ana = app.test_client()
    sign_in(ana, installation.officer)
    close_case(ana, ref)
    return app, ana, ref


def test_a_hold_keeps_a_case_until_it_is_lifted(installation, cara, monkeypatch):
    app, ana, ref = one_closed_case(installation)
    assert post(ana, "/console/retention/holds", ref=" " + ref.lower() + " ").status_code == 303  # as typed
    assert post(ana, "/console/retention/holds", ref=ref).status_code == 303
    assert re.search(rf'id="held".*data-ref="{ref}"', ana.get("/console/retention/").text, re.S)
    # Default period: seven years after closing.
    monkeypatch.setattr(clock, "now_utc", lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7 * 366))
    assert listed(ana) == []
    assert post(ana, f"/console/retention/holds/{ref}/release").status_code == 303
    assert listed(ana) == [ref]
    # A hold on a case one does not read, or on nothing at all: the same 404.
    ben = app.test_client()
    sign_in(ben, installation.other_officer)
    assert post(ben, "/console/retention/holds", ref=ref).status_code == 404
    assert post(ben, "/console/retention/holds", ref="PD-NOSUCHCS").status_code == 404
    assert post(ben, "/console/retention/holds", ref="").status_code == 400


def test_six_years_after_closing_a_case_is_still_kept_by_default(installation, monkeypatch):
    _, ana, _ = one_closed_case(installation)
    monkeypatch.setattr(clock, "now_utc", lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=6 * 366))
    assert listed(ana) == []


@pytest.mark.sqlite_only(reason="reads SQLite's schema (sqlite_master, PRAGMA foreign_key_list);"
                                " tests/store/test_postgres_schema.py shows PostgreSQL's keys are the same")
def test_every_table_that_refers_to_a_case_goes_with_it():
    """Deletion removes the case row and relies on ON DELETE CASCADE for everything of it: a new table
    that refers to cases some other way would keep a deleted case's data."""
    from portal.store import open_database
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "schema.db")
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
                if fk[2] == "cases":
                    assert fk[6] == "CASCADE", f"{table}.{fk[3]} refers to cases without ON DELETE CASCADE"
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            if "case_id" in columns and table != "cases":
                assert any(fk[2] == "cases" for fk in db.execute(f"PRAGMA foreign_key_list({table})")), table
        db.conn.close()
