"""Fields sealed in a browser are held to the disclosure form's rules when an officer opens them
(issue 27, the fresh review's M4): the server never saw them before storing them, so the case page
and the printable record flag each value the form would have refused and show it as sent, never
as one of the form's choices. Driven through the sealed route, as a browser would send it."""
from __future__ import annotations

import html
import os

import pytest

from portal.core.context import open_context
from tests.support.console import sign_in
from tests.support.sealing import disclose_sealed

GOOD = {"category": "public_funds", "summary": "Payments to a director's company",
        "details": "The director approved invoices from a company he owns.",
        "disclosed_elsewhere": "no", "contact": "", "identifying": ""}
FLAG = 'data-field-problem="%s"'


def _officer_on_the_case(client, installation):
    """A signed-in officer's client and the one case's reference."""
    officer = client.application.test_client()
    sign_in(officer, installation.officer)
    ctx = open_context(installation.data_dir)
    [(ref,)] = ctx.db.execute("SELECT ref FROM cases").fetchall()
    ctx.db.conn.close()
    return officer, ref


def _officer_pages(client, installation):
    officer, ref = _officer_on_the_case(client, installation)
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


@pytest.mark.parametrize("meta", [{"size": 5}, {"size": "abc", "name": 5, "type": None}],
                         ids=["a-wrong-size", "no-size-at-all"])
def test_a_file_whose_sealed_record_lies_is_still_listed_and_downloaded_whole(client, installation, meta):
    # The file's name, kind and size are the browser's word, sealed with it (the fresh review's
    # L6): a wrong one breaks neither the case page nor the officer's download, which gives the
    # file's own bytes and no length from that record.
    import crypto
    from tests.support.sealing import get_setup, post_json, seal_disclosure, seal_file, upload_blob
    data = os.urandom(150 * 1024)
    case_key, case_id = crypto.new_case_key(), os.urandom(16).hex()
    attachment_id, blob, meta_ct = seal_file(case_key, case_id, "ledger.pdf", data, meta)
    setup = get_setup(client)
    upload = upload_blob(client, setup["csrf_token"], blob)
    sealed = seal_disclosure(setup, GOOD, case_key=case_key, case_id=case_id,
                             attachments=[{"id": attachment_id, "upload": upload, "meta": meta_ct}])
    assert post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"]).status_code == 201
    officer, ref = _officer_on_the_case(client, installation)
    page = officer.get(f"/console/cases/{ref}")
    assert page.status_code == 200 and f"/attachments/{attachment_id}" in page.text
    got = officer.get(f"/console/cases/{ref}/attachments/{attachment_id}")
    assert got.status_code == 200 and got.data == data
    assert got.headers.get("Content-Length") in (None, str(len(data)))
