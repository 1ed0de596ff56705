"""Clearing a spam flood that got in (issue 22): an officer closes many cases at once from a filtered
view of the inbox as needing no action (s 15), with one reason each discloser reads; one audit entry
per case; only cases the officer can read. Over HTTP through Flask's test client, with no script."""
from __future__ import annotations

import re

from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.console import sign_in
from tests.support.workflow import step_done

SPAM = 30  # more than one page of the inbox (25 rows)
REASON = "This is advertising, not a disclosure of serious wrongdoing (s 15): no action will be taken."


def disclose(app, summary, channel="Audit and Risk", category="offence"):
    client = app.test_client()
    token = csrf_token(client.get("/disclose").text)
    page = post_multipart(client, "/disclose", disclosure_fields(
        token, "Buy cheap watches now.", channel=channel, category=category, summary=summary))
    assert page.status_code == 200, page.text
    return client, receipt_from(page.text)


def status_page(client, receipt):
    token = csrf_token(client.get("/status").text)
    return client.post("/status", data={"csrf_token": token, "receipt": receipt}, follow_redirects=True).text


def signed_in(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client


def bulk_page(officer, query):
    page = officer.get("/console/close-many?" + query)
    assert page.status_code == 200 and "<script" not in page.text
    return page.text


def close(officer, refs, reason=REASON, token=None, query=None):
    data = {"csrf_token": token or csrf_token(officer.get("/console/close-many").text), "case": refs,
            "reason": reason, **(query or {})}
    return officer.post("/console/close-many", data=data)


def audit_rows(data_dir, event):
    ctx = open_context(data_dir)
    return ctx.db.execute("SELECT case_ref, actor FROM audit_log WHERE event = ? ORDER BY seq", [event]).fetchall()


def test_an_officer_closes_a_flood_at_once_from_a_filtered_inbox_and_each_discloser_reads_why(app, installation):
    spam = [disclose(app, f"Cheap watches {i}") for i in range(SPAM)]
    genuine, genuine_receipt = disclose(app, "Payments to a director's company", category="public_funds")
    officer = signed_in(app, installation.officer)
    # The filtered inbox links to the page, carrying its filters.
    inbox = officer.get("/console/?category=offence").text
    link = re.search(r'id="close-many"><a href="([^"]+)"', inbox).group(1).replace("&amp;", "&")
    assert "category=offence" in link
    page = officer.get(link + "&all=1").text
    assert "<script" not in page
    refs = re.findall(r'name="case" value="([^"]+)" id="case-\d+" checked', page)
    assert len(refs) == SPAM  # every case of the view is offered, more than one inbox page
    for i, ref in enumerate(refs, 1):
        assert f'<label for="case-{i}">' in page  # each checkbox is labelled
    answer = close(officer, refs, token=csrf_token(page), query={"category": "offence"})
    assert answer.status_code == 200
    status = re.search(r'<div class="notice" role="status" id="bulk-closed">(.*?)</div>', answer.text, re.S).group(1)
    assert f"{SPAM} cases closed as needing no action" in status
    assert sorted(re.findall(r'data-closed-ref="([^"]+)"', status)) == sorted(refs)
    # Each discloser reads the status and the reason (s 15); the genuine disclosure is untouched.
    for client, receipt in spam:
        thread = status_page(client, receipt)
        assert 'data-status="no_further_action"' in thread and "This is advertising" in thread
    thread = status_page(genuine, genuine_receipt)
    assert 'data-status="received"' in thread and "This is advertising" not in thread
    # One audit entry per case, by this officer, and the chain still verifies.
    rows = audit_rows(installation.data_dir, "closed_in_bulk")
    assert sorted(ref for ref, _ in rows) == sorted(refs) and len({actor for _, actor in rows}) == 1
    verified = CliRunner().invoke(portal_cli, ["--data", str(installation.data_dir), "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # Sent again (a reload), nothing more happens: the cases are already finished.
    again = close(officer, refs, query={"category": "offence"})
    assert again.status_code == 200 and "0 cases closed" in again.text and "Already finished" in again.text
    assert len(audit_rows(installation.data_dir, "closed_in_bulk")) == SPAM
    # Each case is marked dealt with (s 15 is s 13(1)(d)(iv)) and its discloser informed (s 13(1)(e)):
    # no more. Acknowledging, considering and checking were not done by closing, and stay owed.
    case = officer.get(f"/console/cases/{refs[0]}").text
    assert step_done(case, "deal") and step_done(case, "inform")
    assert step_done(case, "acknowledge") == step_done(case, "consider") == step_done(case, "check") == ""
    assert "acknowledge it (s 13(1)(a))" in re.search(r'<dd id="still-owed">(.*?)</dd>', case, re.S).group(1)


def test_an_officer_cannot_close_a_case_they_cannot_read_nor_learn_whether_it_exists(app, installation):
    disclose(app, "Cheap watches")
    procurement_client, procurement_receipt = disclose(app, "Cheap pens", channel="Procurement")
    ana = signed_in(app, installation.officer)
    [ana_ref] = re.findall(r'name="case" value="([^"]+)"', bulk_page(ana, "channel=Audit+and+Risk"))
    ben = signed_in(app, installation.other_officer)  # an officer of Procurement only
    [ben_ref] = re.findall(r'name="case" value="([^"]+)"', bulk_page(ben, ""))
    assert ana_ref not in bulk_page(ben, "")  # never offered
    unreadable = close(ben, [ana_ref])
    missing = close(ben, ["PD-ZZZZ-ZZZZ-ZZZZ"])
    mixed = close(ben, [ben_ref, ana_ref])  # one of Ben's own with one he cannot read: nothing closes
    for answer in (unreadable, missing, mixed):
        assert answer.status_code == 404
        assert "Nothing was closed: one or more of the chosen cases is not one you can read" in answer.text
    assert ana_ref not in unreadable.text and ana_ref not in mixed.text  # nothing echoed back
    assert audit_rows(installation.data_dir, "closed_in_bulk") == []
    assert 'data-status="received"' in status_page(procurement_client, procurement_receipt)
    # Without a reason, or without the form's CSRF token, nothing is closed either.
    assert close(ana, [ana_ref], reason="  ").status_code == 400
    no_token = ana.post("/console/close-many", data={"case": [ana_ref], "reason": REASON})
    assert no_token.status_code == 400
    assert audit_rows(installation.data_dir, "closed_in_bulk") == []
