"""The audit log: what it records (over HTTP), and `portal audit verify` finding every kind of tampering."""
from __future__ import annotations

import json
import re
import sqlite3
import stat

import pytest
from click.testing import CliRunner

from portal.records import audit, audit_head
from portal.cli import main as portal_cli
from portal.core.context import open_context
from portal.store import transaction
from tests.conftest import MARKER, add_account, officer_key, run_cli
from tests.support.console import case_links, disclose, open_only_case, sign_in
from tests.support import csrf_token
from tests.support.audit import account_id, db, events


def verify(data_dir, *extra):
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify", *extra])








@pytest.fixture
def busy(app, installation):
    """A case that was disclosed, read, downloaded, replied to and given a status, over HTTP."""
    discloser = app.test_client()
    receipt = disclose(discloser)
    officer = app.test_client()
    case_url, page, download_url = open_only_case(officer, installation.officer)
    assert officer.get(download_url).status_code == 200
    token = csrf_token(page.text)
    assert officer.post(case_url + "/reply", data={"csrf_token": token, "message": "Thanks " + MARKER}).status_code == 303
    assert officer.post(case_url + "/status", data={"csrf_token": token, "status": "no_further_action",
                                                   "reason": "Outside the Act " + MARKER}).status_code == 303
    token = csrf_token(discloser.post("/status", data={"csrf_token": csrf_token(discloser.get("/status").text),
                                                        "receipt": receipt}, follow_redirects=True).text)
    return {"case_url": case_url, "ref": case_url.rsplit("/", 1)[1], "officer": officer, "discloser": discloser,
            "receipt": receipt}


def test_every_console_action_is_recorded_without_discloser_content(app, installation, busy):
    data_dir = installation.data_dir
    ana = account_id(data_dir, installation.officer.email)
    ref = busy["ref"]
    # A failed sign-in for a known account names it as the subject; an unknown email records nothing.
    stranger = app.test_client()
    token = csrf_token(stranger.get("/console/login").text)
    stranger.post("/console/login", data={"csrf_token": token, "email": installation.officer.email,
                                          "passphrase": "wrong passphrase!!", "totp": "000000"})
    stranger.post("/console/login", data={"csrf_token": token, "email": "nobody@agency.govt.nz",
                                          "passphrase": "wrong passphrase!!", "totp": "000000"})
    token = csrf_token(busy["officer"].get("/console/").text)
    assert busy["officer"].post("/console/logout", data={"csrf_token": token}).status_code == 303

    admin = add_account(data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    admin_client = app.test_client()
    assert sign_in(admin_client, admin).status_code == 303
    token = csrf_token(admin_client.get("/console/admin/").text)
    assert admin_client.post("/console/admin/channels", data={"csrf_token": token, "name": "Finance"}).status_code == 303
    ben = account_id(data_dir, installation.other_officer.email)
    assert admin_client.post("/console/admin/memberships", data={"csrf_token": token, "officer": str(ben),
                                                                 "channel": "Audit and Risk"}).status_code == 303

    log = events(data_dir)
    names = [e[0] for e in log]
    for expected in ("account_add", "channel_add", "sign_in", "case_view", "download", "reply", "status_change",
                     "sign_in_failed", "sign_out", "membership_request"):
        assert expected in names, expected
    assert ("sign_in", ana, None, None, "{}") in log
    assert ("case_view", ana, None, ref, "{}") in log
    assert [e for e in log if e[0] == "sign_in_failed"] == [("sign_in_failed", None, ana, None, "{}")]
    assert ("sign_out", ana, None, None, "{}") in log
    [status] = [e for e in log if e[0] == "status_change"]
    assert status[1] == ana and status[3] == ref and json.loads(status[4])["status"] == "no_further_action"
    assert [e for e in log if e[0] == "membership_request"][0][2] == ben
    # No discloser content, and the discloser's own actions are not placed in the timed chain.
    with db(data_dir) as conn:
        dump = "\n".join(conn.iterdump())
    audit_rows = [line for line in dump.splitlines() if "audit_log" in line]
    assert audit_rows and not any(MARKER in line or MARKER[:6] in line for line in audit_rows)
    assert verify(data_dir).exit_code == 0


def test_audit_head_matches_the_file_and_verify_passes(installation, busy):
    data_dir = installation.data_dir
    head_path = data_dir / audit_head.HEAD_FILE
    assert stat.S_IMODE(head_path.stat().st_mode) == 0o600
    document = json.loads(head_path.read_text())
    printed = run_cli(data_dir, "audit", "head").output.strip()
    assert printed == f"length {document['length']} head {document['head']}"
    with db(data_dir) as conn:
        assert conn.execute("SELECT seq, link FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone() == (document["length"], document["head"])
    result = verify(data_dir, "--expect", printed)
    assert result.exit_code == 0 and "intact" in result.output, result.output


def _broken(data_dir, *extra) -> str:
    result = verify(data_dir, *extra)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


def test_an_edited_entry_is_named(installation, busy):
    with db(installation.data_dir) as conn:
        conn.execute("UPDATE audit_log SET actor = COALESCE(actor, 0) + 1 WHERE seq = 5")
    assert "Entry 5 was altered" in _broken(installation.data_dir)


def test_a_deleted_entry_is_named(installation, busy):
    with db(installation.data_dir) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 4")
    assert "Entry 4 is missing" in _broken(installation.data_dir)


def test_a_reordered_pair_is_named(installation, busy):
    cols = "at, event, actor, subject, channel_id, case_ref, detail, link"
    with db(installation.data_dir) as conn:
        a = conn.execute(f"SELECT {cols} FROM audit_log WHERE seq = 5").fetchone()
        b = conn.execute(f"SELECT {cols} FROM audit_log WHERE seq = 6").fetchone()
        assert a != b
        setter = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
        conn.execute(f"UPDATE audit_log SET {setter} WHERE seq = 5", list(b))
        conn.execute(f"UPDATE audit_log SET {setter} WHERE seq = 6", list(a))
    assert "Entry 5 was altered or moved" in _broken(installation.data_dir)


def test_a_cut_off_tail_is_named(installation, busy):
    with db(installation.data_dir) as conn:
        length = conn.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
        conn.execute("DELETE FROM audit_log WHERE seq >= ?", [length - 1])
    output = _broken(installation.data_dir)
    assert f"cut off: it ends at entry {length - 2}" in output and f"entry {length - 1} onwards" in output


def test_a_chain_rebuilt_with_the_key_is_caught_by_the_head_kept_elsewhere(installation, busy):
    data_dir = installation.data_dir
    kept = run_cli(data_dir, "audit", "head").output.strip()
    ctx = open_context(data_dir)
    with db(data_dir) as conn:  # someone with the installation secret rewrites a sign-in and re-links the rest
        conn.execute("UPDATE audit_log SET event = 'sign_out' WHERE seq = "
                     "(SELECT MIN(seq) FROM audit_log WHERE event = 'sign_in')")
    rows = list(ctx.db.execute("SELECT seq, at, event, actor, subject, channel_id, case_ref, detail FROM audit_log ORDER BY seq"))
    previous = bytes(32)
    with transaction(ctx.db):
        for row in rows:
            import crypto
            previous = crypto.audit_link(audit.chain_key(ctx), previous, audit.chain_fields(*row))
            ctx.db.execute("UPDATE audit_log SET link = ? WHERE seq = ?", [previous.hex(), row[0]])
    (data_dir / audit_head.HEAD_FILE).write_text(json.dumps({"length": rows[-1][0], "head": previous.hex()}))
    assert verify(data_dir).exit_code == 0  # consistent with itself and with the file the server can write
    length = kept.split()[1]
    assert f"Entry {length} does not match the head you gave" in _broken(data_dir, "--expect", kept)


def test_a_missing_or_damaged_head_file_and_a_damaged_database_are_verdicts(installation, busy):
    data_dir = installation.data_dir
    (data_dir / audit_head.HEAD_FILE).write_text("{not json")
    assert "cannot be read" in _broken(data_dir)
    (data_dir / audit_head.HEAD_FILE).unlink()
    assert "missing" in _broken(data_dir)
    with db(data_dir) as conn:
        conn.execute("DROP TABLE audit_log")
    assert "could not be read" in _broken(data_dir)
    bad = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify", "--expect", "nonsense"])
    assert bad.exit_code == 2 and "length 42 head" in bad.output


def test_an_entry_lives_and_dies_with_the_callers_transaction(installation):
    data_dir = installation.data_dir
    ctx = open_context(data_dir)
    before = run_cli(data_dir, "audit", "head").output
    with pytest.raises(RuntimeError):
        with transaction(ctx.db):
            audit.record(ctx, "settings_change", actor=None, detail={"setting": "x"})
            raise RuntimeError("the caller's work failed")
    assert run_cli(data_dir, "audit", "head").output == before
    assert verify(data_dir).exit_code == 0
    seq = audit.record(ctx, "settings_change", actor=None, detail={"setting": "x"})
    assert run_cli(data_dir, "audit", "head").output.startswith(f"length {seq} ")
    for bad in ({"reason": "x" * 101}, {"nested": {"a": 1}}):
        with pytest.raises(ValueError):
            audit.record(ctx, "settings_change", actor=None, detail=bad)
    with pytest.raises(ValueError):
        audit.record(ctx, "Not An Event", actor=None)


def test_a_database_edit_of_a_status_is_flagged_in_verify_the_console_and_hidden_from_the_discloser(installation, busy):
    data_dir = installation.data_dir
    with db(data_dir) as conn:
        conn.execute("UPDATE status_events SET status = 'closed' WHERE status = 'no_further_action'")
        conn.execute("UPDATE cases SET status = 'closed'")
    assert "does not match the audit log" in _broken(data_dir)
    page = busy["officer"]
    sign_in(page, installation.officer)
    text = page.get(busy["case_url"]).text
    assert 'id="tampering"' in text and "changed outside the portal" in text
    discloser = busy["discloser"].get("/status").text
    assert 'data-status="closed"' not in discloser and 'data-status="acknowledged"' not in discloser
    assert 'data-status="received"' in discloser  # the last status the records vouch for


def test_a_status_set_in_the_database_alone_is_flagged(installation, busy):
    data_dir = installation.data_dir
    with db(data_dir) as conn:
        conn.execute("UPDATE cases SET status = 'closed'")
    assert "shows the status 'closed', which its records do not support" in _broken(data_dir)
    sign_in(busy["officer"], installation.officer)
    assert 'id="tampering"' in busy["officer"].get(busy["case_url"]).text
    assert 'data-status="no_further_action"' in busy["discloser"].get("/status").text


def test_a_reason_required_status_without_a_reason_cannot_be_stored(installation, busy):
    from portal.records import case_history, casefiles
    ctx = open_context(installation.data_dir)
    case = casefiles.get_case(ctx, ref=busy["ref"])
    with pytest.raises(casefiles.ReasonRequired), transaction(ctx.db):
        case_history.insert_status(ctx, case.id, bytes(32), status="referred", day="2026-01-05", account_id=None,
                                reason="   ")


def test_a_database_edit_of_a_message_author_is_flagged(installation, busy):
    data_dir = installation.data_dir
    with db(data_dir) as conn:
        conn.execute("UPDATE messages SET author = 'discloser', account_id = NULL WHERE author = 'officer'")
    assert "A message of case" in _broken(data_dir)
    sign_in(busy["officer"], installation.officer)
    text = busy["officer"].get(busy["case_url"]).text
    assert "The message of" in text and "changed outside the portal" in text
    # The thread, not the disclosure itself shown below it to re-read.
    thread = busy["discloser"].get("/status").text.split('id="thread"')[1].split('id="your-disclosure"')[0]
    assert MARKER not in thread


def test_bound_field_names_are_the_documented_ones():
    from portal.records import case_history, casefiles
    assert case_history.status_field(2, "assessing", "2026-03-03", 3) == 'status:[2,"assessing","2026-03-03",3]'
    assert case_history.message_field("m1", "discloser", None, "2026-03-03") == 'message:["m1","discloser",null,"2026-03-03"]'
    assert 'field = "status:[2,\\"assessing\\",\\"2026-03-03\\",3]"' in (
        __import__("pathlib").Path(__file__).resolve().parent.parent.parent / "SECURITY.md").read_text()


def test_records_made_before_binding_stay_readable_and_are_shown_as_unverified(installation, busy):
    import crypto
    from portal.keys import accounts
    from portal.records import case_history, casefiles
    data_dir = installation.data_dir
    ctx = open_context(data_dir)
    officer = installation.officer
    account, private_key = officer_key(ctx, officer)
    case = casefiles.get_case(ctx, ref=busy["ref"])
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    # A message and a status record written the way the portal wrote them before schema 4.
    body = crypto.encrypt_field(case_key, case.id, "message:old-message", b"An older message.")
    note = crypto.encrypt_field(case_key, case.id, "status:9",
                                json.dumps({"reason": "", "expected_timeframe": "Soon"}).encode())
    with transaction(ctx.db):
        ctx.db.execute("INSERT INTO messages (id, case_id, seq, author, account_id, day, body_ct, binding) "
                       "VALUES ('old-message', ?, 99, 'officer', ?, '2025-01-01', ?, 0)", [case.id, account.id, body])
        ctx.db.execute("INSERT INTO status_events (case_id, seq, status, day, account_id, reason_ct, binding) "
                       "VALUES (?, 9, 'investigating', '2025-01-02', ?, ?, 0)", [case.id, account.id, note])
        ctx.db.execute("UPDATE cases SET status = 'investigating' WHERE id = ?", [case.id])
        # They were there when the list of older records was made (migration 11).
        ctx.db.execute("INSERT INTO legacy_records VALUES ('message', ?, 'old-message'), ('status', ?, '9')",
                       [case.id, case.id])
    result = verify(data_dir)
    assert result.exit_code == 0 and "2 older workflow record(s) predate record binding" in result.output
    sign_in(busy["officer"], officer)
    page = busy["officer"].get(busy["case_url"]).text
    assert "An older message." in page and "Soon" in page
    assert page.count("recorded before records were verified") >= 2



def test_a_record_forged_in_the_older_format_by_someone_holding_the_case_key_is_flagged(installation, busy):
    """An officer who holds the case key writes a 'closed' record the old way (unbound): it was not there when
    the older records were listed, so verify names it, the console flags it and the discloser never sees it."""
    import crypto
    from portal.records import case_history, casefiles
    data_dir = installation.data_dir
    ctx = open_context(data_dir)
    account, private_key = officer_key(ctx, installation.officer)
    case = casefiles.get_case(ctx, ref=busy["ref"])
    case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
    note = crypto.encrypt_field(case_key, case.id, "status:9", json.dumps({"reason": "Forged: nothing to see",
                                                                           "expected_timeframe": ""}).encode())
    body = crypto.encrypt_field(case_key, case.id, "message:forged", b"Forged: please stop writing.")
    with transaction(ctx.db):
        ctx.db.execute("INSERT INTO status_events (case_id, seq, status, day, account_id, reason_ct, binding) "
                       "VALUES (?, 9, 'closed', '2026-01-02', ?, ?, 0)", [case.id, account.id, note])
        ctx.db.execute("UPDATE cases SET status = 'closed' WHERE id = ?", [case.id])
    assert "Status record 9 of case" in _broken(data_dir) and "written outside the portal" in _broken(data_dir)
    discloser = busy["discloser"].get("/status").text
    assert 'data-status="closed"' not in discloser and "Forged" not in discloser
    assert 'data-status="no_further_action"' in discloser
    sign_in(busy["officer"], installation.officer)
    assert 'id="tampering"' in busy["officer"].get(busy["case_url"]).text
    with transaction(ctx.db):
        ctx.db.execute("DELETE FROM status_events WHERE seq = 9")
        ctx.db.execute("UPDATE cases SET status = 'no_further_action' WHERE id = ?", [case.id])
        ctx.db.execute("INSERT INTO messages (id, case_id, seq, author, account_id, day, body_ct, binding) "
                       "VALUES ('forged', ?, 99, 'officer', ?, '2026-01-02', ?, 0)", [case.id, account.id, body])
    assert "A message of case" in _broken(data_dir)
    assert "Forged" not in busy["discloser"].get("/status").text


def test_a_file_moved_to_an_officers_message_in_the_database_says_so(installation, busy):
    """The discloser's file moved onto the officer's reply: the file's encrypted metadata names its message,
    so both pages say it was moved instead of showing it as sent with the reply."""
    with db(installation.data_dir) as conn:
        officer_message = conn.execute("SELECT id FROM messages WHERE author = 'officer'").fetchone()[0]
        conn.execute("UPDATE attachments SET message_id = ?", [officer_message])
    sign_in(busy["officer"], installation.officer)
    assert "moved to another message outside the portal" in busy["officer"].get(busy["case_url"]).text
    assert "moved to another message outside the portal" in busy["discloser"].get("/status").text
    assert "evidence.pdf" not in busy["discloser"].get("/status").text


def test_a_record_or_case_deleted_in_the_database_is_named(installation, busy):
    data_dir = installation.data_dir
    with db(data_dir) as conn:
        conn.execute("DELETE FROM status_events WHERE status = 'no_further_action'")
        conn.execute("UPDATE cases SET status = 'received'")
    assert "Status record 2 of case" in _broken(data_dir) and "gone from the database" in _broken(data_dir)
    with db(data_dir) as conn:
        conn.execute("DELETE FROM messages WHERE author = 'officer'")
    assert "gone from the database" in _broken(data_dir)
    with db(data_dir) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM cases")
    assert f"Case {busy['ref']} is in the audit log but gone" in _broken(data_dir)


def test_a_record_downgraded_to_the_older_format_is_still_flagged(installation, busy):
    with db(installation.data_dir) as conn:
        conn.execute("UPDATE status_events SET binding = 0 WHERE status = 'no_further_action'")
    assert "Status record 2 of case" in _broken(installation.data_dir)
    sign_in(busy["officer"], installation.officer)
    assert 'id="tampering"' in busy["officer"].get(busy["case_url"]).text
