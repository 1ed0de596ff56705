"""Fields sealed in a browser are held to the disclosure form's rules when an officer opens them
(issue 27, the fresh review's M4): the server never saw them before storing them, so the case page
and the printable record flag each value the form would have refused and show it as sent, never
as one of the form's choices. Driven through the sealed route, as a browser would send it."""
from __future__ import annotations

import html

from portal.core.context import open_context
from tests.support.console import sign_in
from tests.support.sealing import disclose_sealed

GOOD = {"category": "public_funds", "summary": "Payments to a director's company",
        "details": "The director approved invoices from a company he owns.",
        "disclosed_elsewhere": "no", "contact": "", "identifying": ""}
FLAG = 'data-field-problem="%s"'


def _officer_pages(client, installation):
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    ctx = open_context(installation.data_dir)
    [(ref,)] = ctx.db.execute("SELECT ref FROM cases").fetchall()
    ctx.db.conn.close()
    page = officer.get(f"/console/cases/{ref}")
    record = officer.get(f"/console/cases/{ref}/record")
    assert page.status_code == record.status_code == 200
    return html.unescape(page.text), html.unescape(record.text)


def test_what_the_form_would_refuse_is_flagged_and_shown_as_sent(client, installation):
    bad = {**GOOD, "category": "An offence (confirmed by the portal)", "disclosed_elsewhere": "zzz-not-a-choice",
           "summary": "A title\n\nwith lines " + "x" * 300, "details": "   ", "contact": "c" * 2001}
    sealed, response = disclose_sealed(client, bad)
    assert response.status_code == 201, response.text  # the server cannot see them: stored
    page, record = _officer_pages(client, installation)
    for shown in (page, record):
        assert shown.count("Not as the form takes it:") >= 4
        for name in ("category", "disclosed_elsewhere", "summary", "details"):
            assert FLAG % name in shown
        assert "Not one of the form's choices: this is the text the discloser's browser sent" in shown
        assert f"Longer than the form allows: {len(bad['summary'])} characters, where the form takes 200." in shown
        assert "Empty: the form does not take a disclosure without it." in shown
        assert "An offence (confirmed by the portal)" in shown and "zzz-not-a-choice" in shown
    assert FLAG % "contact" in page and "2001 characters, where the form takes 2000" in page


def test_a_title_on_two_lines_and_a_language_not_offered_are_flagged(client, installation):
    sealed, response = disclose_sealed(client, {**GOOD, "summary": "One\ntwo", "language": "xx-evil"})
    assert response.status_code == 201, response.text
    page, _ = _officer_pages(client, installation)
    assert FLAG % "summary" in page and "On more than one line" in page
    assert FLAG % "language" in page
    assert page.count("Not as the form takes it:") == 2


def test_a_browser_case_the_form_would_take_carries_no_flag(client, installation):
    assert disclose_sealed(client, GOOD)[1].status_code == 201
    page, record = _officer_pages(client, installation)
    assert "Not as the form takes it:" not in page + record
    assert "An unlawful, corrupt or irregular use of public funds" in page
