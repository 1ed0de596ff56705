"""Oral disclosures: recorded by an officer, a printable receipt, replaced at the discloser's first visit,
read and corrected through the status page, then confirmed; nothing in clear on disk."""
from __future__ import annotations

import re

from portal.core.context import open_context
from tests.conftest import MARKER
from tests.support import csrf_token, files_containing, post_multipart, receipt_from
from tests.support.console import case_links, sign_in
from tests.support.oral import open_status, record_oral

CORRECTION = "A correction: it was three invoices, not two."
UNDERSTANDING = f"You told us that three invoices from one supplier were paid twice. {MARKER}"






def audit_events(installation):
    ctx = open_context(installation.data_dir)
    return [row[0] for row in ctx.db.execute("SELECT event FROM audit_log ORDER BY seq").fetchall()]


def steps_done(installation):
    ctx = open_context(installation.data_dir)
    return [row[0] for row in ctx.db.execute("SELECT step FROM case_steps").fetchall()]


def test_an_oral_disclosure_from_record_to_confirmation(app, installation):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    form = officer.get("/console/oral")
    assert form.status_code == 200 and 'name="details"' in form.text
    # The officer fills it in: its labels speak of the discloser, not to "you" (new-user review).
    labels = re.findall(r'<label for="(?:disclosed_elsewhere|contact|identifying)">([^<]+)</label>', form.text)
    assert labels == ["Has the discloser raised this anywhere else?", "How to contact the discloser (optional)",
                      "Anything else that could identify the discloser (optional)"]
    recorded = record_oral(officer)
    assert recorded.status_code == 200
    printed = receipt_from(recorded.text)
    assert "@media print" in officer.get("/static/portal.css").text
    assert "oral_disclosure" in audit_events(installation)
    [case_url] = case_links(officer.get("/console/").text)
    case_page = officer.get(case_url).text
    assert 'id="oral-record"' in case_page and "Two invoices paid twice." in case_page
    # Not confirmable before the discloser could read and correct it.
    token = csrf_token(case_page)
    refused = officer.post(case_url + "/oral/confirm", data={"csrf_token": token, "understanding": UNDERSTANDING})
    assert refused.status_code == 400 and "has not opened the record yet" in refused.text
    assert UNDERSTANDING in refused.text                        # what was typed comes back

    # The discloser's first visit replaces the receipt the officer saw.
    discloser = app.test_client()
    first = open_status(discloser, printed)
    assert first.status_code == 200
    fresh = receipt_from(first.text)
    assert fresh != printed
    status = discloser.get("/status").text
    assert 'id="case-status"' in status and 'id="oral-record"' in status and "Two invoices paid twice." in status
    assert open_status(app.test_client(), printed).status_code == 400    # the printed receipt no longer opens it
    again = app.test_client()
    assert open_status(again, fresh).status_code == 303
    assert 'id="oral-record"' in again.get("/status").text

    # A correction through the thread, then the officer confirms the record.
    token = csrf_token(status)
    assert post_multipart(discloser, "/status/reply", [("csrf_token", token), ("message", CORRECTION)]).status_code == 303
    case_page = officer.get(case_url).text
    assert CORRECTION in case_page
    # s 13: confirming needs the receiver's summary of its understanding, which goes to the discloser.
    unsummarised = officer.post(case_url + "/oral/confirm", data={"csrf_token": csrf_token(case_page),
                                                                   "understanding": "  "})
    assert unsummarised.status_code == 400 and "Write a summary of your understanding" in unsummarised.text
    assert 'id="oral-confirmed"' not in unsummarised.text
    confirmed = officer.post(case_url + "/oral/confirm", data={"csrf_token": csrf_token(case_page),
                                                               "understanding": UNDERSTANDING})
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("?done=oral")
    after = officer.get(confirmed.headers["Location"]).text
    assert 'id="oral-confirmed"' in after
    assert 'role="status" id="notice">The oral record is confirmed and your summary was sent' in after
    status = discloser.get("/status").text
    assert 'id="oral-confirmed"' in status
    assert "Our understanding of what you told us (s 13 of the Act)" in status and UNDERSTANDING in status
    assert "oral_record_confirmed" in audit_events(installation)
    assert "acknowledge" in steps_done(installation)
    # Acknowledged everywhere, as when the step is ticked: the discloser's status and the officer's queue.
    assert 'data-status="acknowledged"' in status and 'data-status="acknowledged"' in officer.get(case_url).text
    queue_row = officer.get("/console/").text.split('data-ref="')[1].split("</tr>")[0]
    assert "New: to acknowledge" not in queue_row and "Acknowledged" in queue_row
    # Marker: nothing the discloser said is on disk in clear.
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_an_officer_records_only_for_their_own_channels_and_errors_keep_what_was_typed(app, installation):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    other = record_oral(officer, channel="Procurement")
    assert other.status_code == 400 and 'id="receipt"' not in other.text
    assert "Told in person: invoices paid twice" in other.text
    missing = record_oral(officer, details="")
    assert missing.status_code == 400 and "Told in person: invoices paid twice" in missing.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_a_printable_case_record_says_who_printed_it_and_when(app, installation):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    assert record_oral(officer).status_code == 200
    [case_url] = case_links(officer.get("/console/").text)
    case_page = officer.get(case_url).text
    assert 'id="print-record"' in case_page
    assert officer.post(case_url + "/notes", data={"csrf_token": csrf_token(case_page),
                                                   "note": "Called back on Tuesday."}).status_code == 303
    record = officer.get(case_url + "/record")
    assert record.status_code == 200
    printed_by = re.search(r'id="printed-by"><strong>Printed by Ana Officer &lt;ana@agency.govt.nz&gt; on '
                           r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d)">\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d</time>'
                           r' \(Pacific/Auckland\)', record.text)
    assert printed_by
    for expected in ("Two invoices paid twice.", "Called back on Tuesday.", "Case record printed",
                     "Oral disclosure recorded by an officer", "Acknowledge to the discloser"):
        assert expected in record.text
    assert "Phone only, evenings" not in record.text   # contact details are not printed (s 17)
    assert "<form" not in record.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "case_print" in audit_events(installation)


def test_the_recording_officer_cannot_release_an_identity_on_consent_alone(app, installation):
    """The recording officer saw the first receipt: had they used it, they could answer the consent
    question as the discloser. A release on consent of an oral disclosure therefore waits for an officer
    other than the one who recorded it."""
    from tests.conftest import add_account
    from tests.support.workflow import post

    carol = add_account(installation.data_dir, "officer", "carol@agency.govt.nz", "Carol Second", ["Audit and Risk"])
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    printed = receipt_from(record_oral(ana).text)
    [url] = case_links(ana.get("/console/").text)
    hijacked = app.test_client()                       # the recording officer uses the printed receipt
    assert open_status(hijacked, printed).status_code == 200
    fields = dict(recipient="Mr Boss, CEO", ground="consent", reason="He asked who it was.")
    passphrase = installation.officer.passphrase
    assert post(ana, url + "/identity", url, confirm_passphrase=passphrase, **fields).status_code == 400
    status = hijacked.get("/status").text
    assert hijacked.post("/status/consent", data={"csrf_token": csrf_token(status), "request": "1",
                                                  "answer": "yes"}).status_code == 303
    assert post(ana, url + "/identity", url, confirm_passphrase=passphrase, **fields).status_code == 303
    page = ana.get(url).text
    assert 'data-release="1" data-state="pending"' in page
    export = post(ana, url + "/export", url, confirm_passphrase=passphrase, recipient="Mr Boss, CEO",
                  include_identity="y")
    assert export.status_code == 400 and "record the release first" in export.text
    assert "attachment" not in export.headers.get("Content-Disposition", "")
    alone = post(ana, url + "/identity/1/confirm", url, confirm_passphrase=passphrase)
    assert alone.status_code == 400 and "Another officer must confirm" in alone.text
    carol_client = app.test_client()
    assert sign_in(carol_client, carol).status_code == 303
    assert post(carol_client, url + "/identity/1/confirm", url, confirm_passphrase=carol.passphrase).status_code == 303
    assert 'data-release="1" data-state="released"' in ana.get(url).text
