"""Referral between member organisations of a service (ss 16, 25; issue 29; docs/organisations.md,
"Referral between member organisations"): an officer of a refers a case, from its case page, to a
channel of b, once the discloser's consultation is recorded; it is sealed in her session for the
officers b's own signed roster verifies and arrives at b as a case they read, without the
discloser's identity unless a release to that channel is on record (s 17); the discloser is told
at a where it went."""
from __future__ import annotations

import re
import sqlite3

from werkzeug.test import Client

from portal.service import member_referrals
from portal.service.dispatch import service_app
from portal.service.registry import data_dir_of
from tests.conftest import MARKER, add_account, run_cli
from tests.service.test_channel_moves import cases_of, make_two
from tests.service.test_organisations import portal
from tests.service.test_service_operator import sign_in
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from

CONTACT = f"Jo, 021 555 0199 {MARKER}"
IDENTIFYING = "The only night-shift accountant"
TO = "Board B, Integrity"


def disclose(client) -> str:
    form = client.get("/o/a/disclose")
    sent = post_multipart(client, "/o/a/disclose", disclosure_fields(
        csrf_token(form.text), f"Invoices approved twice {MARKER}", contact=CONTACT, identifying=IDENTIFYING), [])
    assert sent.status_code == 200, sent.text
    return receipt_from(sent.text)


def refer(client, url, **fields):
    """Post the case page's form "Refer it to another organisation of this service", choosing TO."""
    page = client.get(url).text
    form = page[page.index(f'action="{url}/member-referral"'):]
    form = form[:form.index("</form>")]
    hidden = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', form)
                  + re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    value = re.search(rf'<option value="([^"]+)">{re.escape(TO)}</option>', form).group(1)
    data = {**hidden, "channel": value, "concerns": "general", "consultation": "consulted",
            "consultation_note": "Asked through the messages; they agreed.",
            "reason": "Board B funds the programme and investigates its grants.", **fields}
    return client.post(url + "/member-referral", data=data)


def status_text(receipt, service) -> str:
    discloser = Client(service_app(service))
    form = discloser.get("/o/a/status")
    return discloser.post("/o/a/status", data={"csrf_token": csrf_token(form.text), "receipt": receipt},
                          follow_redirects=True).text


def test_a_case_referred_to_another_members_channel_is_sealed_to_its_verified_readers(tmp_path, monkeypatch):
    service, ana, ben, cat = make_two(tmp_path)
    a, b = data_dir_of(service, "a"), data_dir_of(service, "b")
    run_cli(b, "channel", "add", "Other")
    add_account(b, "officer", "dot@b.govt.nz", "Dot Other", ["Other"])
    receipt = disclose(Client(service_app(service)))
    officer = Client(service_app(service))
    assert sign_in(officer, "/o/a", ana).status_code == 303
    [ref] = re.findall(r'href="/o/a/console/cases/([^"/]+)"', officer.get("/o/a/console/").text)
    url = f"/o/a/console/cases/{ref}"
    opened = []
    real_open = member_referrals.open_context
    monkeypatch.setattr(member_referrals, "open_context", lambda d: opened.append(d) or real_open(d))
    page = officer.get(url).text
    assert 'id="member-referral"' in page and f">{TO}</option>" in page
    # The list of the other members' channels is read once, not at every view of a case page.
    assert opened == [b]
    officer.get(url)
    assert opened == [b]

    # Without the discloser's consultation recorded (s 16), or a reason: refused, nothing sent.
    refused = refer(officer, url, consultation="")
    assert refused.status_code == 400 and "consulted" in refused.text
    refused = refer(officer, url, consultation="not_practicable", consultation_note="")
    assert refused.status_code == 400 and "not practicable" in refused.text
    # Intelligence and security information goes to the Inspector-General alone (s 25).
    refused = refer(officer, url, concerns="intelligence_security")
    assert refused.status_code == 400 and "Inspector-General" in refused.text
    # The identity asked for without a release to that channel on record (s 17): refused.
    refused = refer(officer, url, with_identity="y")
    assert refused.status_code == 400 and "release" in refused.text
    assert cases_of(b) == []

    sent = refer(officer, url)
    assert sent.status_code == 303, sent.text
    assert len(cases_of(b)) == 1 and len(cases_of(a)) == 1
    shown = " ".join(officer.get(url).text.split())
    assert 'id="referred-in"' not in shown
    assert "referred to the head of the Board B by Ana Sender" in shown
    # The discloser is told at a where it went, and why.
    status = status_text(receipt, service)
    assert "the head of the Board B" in status and "funds the programme" in status

    # At b: both officers of Integrity (each admitted by its roster) read it, without the identity.
    [(_, b_ref)] = cases_of(b)
    for person in (ben, cat):
        reader = Client(service_app(service))
        assert sign_in(reader, "/o/b", person).status_code == 303
        assert b_ref in reader.get("/o/b/console/").text
        case = reader.get(f"/o/b/console/cases/{b_ref}").text
        assert f"Invoices approved twice {MARKER}" in case and "Referred here by Agency A" in case
        assert "021 555 0199" not in case and IDENTIFYING not in case
        # Its page says it has no discloser here; the referring organisation's page does not.
        assert 'id="referred-in"' in case
    # Its keys are sealed to those two alone: Dot, an officer of b's other channel, gets none.
    db = sqlite3.connect(b / "portal.db")
    sealed_to = {e for (e,) in db.execute("SELECT a.email FROM case_keys k JOIN accounts a ON a.id = k.account_id")}
    assert sealed_to == {"ben@b.govt.nz", "cat@b.govt.nz"}
    assert db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'case_referred_in'").fetchone()[0] == 1
    db.close()
    # No plaintext in either data directory; both chains verify.
    for data_dir in (a, b):
        assert files_containing(data_dir, MARKER.encode()) == []
        assert portal("--data", str(data_dir), "audit", "verify").exit_code == 0


def test_the_identity_goes_only_with_a_release_to_that_channel_on_record(tmp_path):
    service, ana, ben, cat = make_two(tmp_path)
    b = data_dir_of(service, "b")
    second = add_account(data_dir_of(service, "a"), "officer", "sam@a.govt.nz", "Sam Second", ["Audit and Risk"])
    disclose(Client(service_app(service)))
    officer, other = Client(service_app(service)), Client(service_app(service))
    assert sign_in(officer, "/o/a", ana).status_code == 303
    assert sign_in(other, "/o/a", second).status_code == 303
    [ref] = re.findall(r'href="/o/a/console/cases/([^"/]+)"', officer.get("/o/a/console/").text)
    url = f"/o/a/console/cases/{ref}"
    # A release to Board B's channel on a ground of s 17(2)(b), confirmed by a second officer.
    page = officer.get(url).text
    assert officer.post(url + "/identity", data={
        "csrf_token": csrf_token(page), "recipient": TO, "ground": "health_safety", "reason": "Risk to staff.",
        "consultation": "consulted", "confirm_passphrase": ana.passphrase}).status_code == 303
    page = other.get(url).text
    assert other.post(url + "/identity/1/confirm", data={
        "csrf_token": csrf_token(page), "confirm_passphrase": second.passphrase}).status_code == 303
    assert refer(officer, url, with_identity="y").status_code == 303
    [(_, b_ref)] = cases_of(b)
    reader = Client(service_app(service))
    assert sign_in(reader, "/o/b", ben).status_code == 303
    case = reader.get(f"/o/b/console/cases/{b_ref}").text
    assert "021 555 0199" in case and IDENTIFYING in case
    assert files_containing(b, MARKER.encode()) == []
