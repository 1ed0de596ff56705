"""An officer's clean copy of a file (issue 26) is the officers' own: the discloser's status page lists only
the files they sent, in their disclosure and in their messages, and the officer's case page says which file
an officer made (new-user review: the copy showed to the discloser under "You" as if they had sent it)."""
from __future__ import annotations

import re

import tests.support.hidden_files as made
from tests.support import csrf_token, disclosure_fields, form_for, post_multipart, receipt_from
from tests.support.console import case_links, sign_in
from tests.support.discloser import open_status

MADE_BY_AN_OFFICER = "made by an officer, not sent by the discloser"


def _status_page(client, receipt: str) -> str:
    answer = open_status(client, receipt)
    return client.get("/status").text if answer.status_code == 303 else answer.text


def _clean_copies(officer, case_url: str) -> str:
    """Make a clean copy of every file the case page offers one for; the page after the last."""
    page = officer.get(case_url).text
    for action in [a for a in re.findall(r'action="([^"]+)"', page) if a.endswith("/clean-copy")]:
        answer = officer.post(action, data=dict(form_for(page, action)["fields"]))
        assert answer.status_code == 303 and "copy=removed" in answer.headers["Location"]
        page = officer.get(answer.headers["Location"]).text
    return page


def test_the_discloser_sees_only_the_files_they_sent_and_the_officer_sees_which_an_officer_made(app, installation):
    discloser = app.test_client()
    token = csrf_token(discloser.get("/disclose").text)
    # The box unticked (a browser then sends no field): the details are left in, so a copy can be made.
    sent = post_multipart(discloser, "/disclose", disclosure_fields(token, "Payments made twice."),
                          [("attachments", "minutes.docx", made.docx())])
    assert sent.status_code == 200
    receipt = receipt_from(sent.text)
    page = _status_page(discloser, receipt)
    fields = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k not in ("message", "strip_metadata")]
    replied = post_multipart(discloser, "/status/reply", fields + [("message", "The site photo.")],
                             [("attachments", "site.jpg", made.jpeg_with_gps())])
    assert replied.status_code == 303

    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    [case_url] = case_links(officer.get("/console/").text)
    page = _clean_copies(officer, case_url)
    assert "clean copy of minutes.docx" in page and "clean copy of site.jpg" in page
    # Each copy, where it is listed (the disclosure's files, the message's files), says an officer made it.
    listed = re.findall(r'>(clean copy of [^<]+)</a> \(([^)]*)\)', page)
    assert sorted(name for name, _ in listed) == ["clean copy of minutes.docx", "clean copy of site.jpg"]
    assert all(MADE_BY_AN_OFFICER in said for _, said in listed)
    assert not re.search(r'>(minutes\.docx|site\.jpg)</a> \([^)]*' + MADE_BY_AN_OFFICER, page)

    status = _status_page(app.test_client(), receipt)
    assert "minutes.docx" in status and "site.jpg" in status
    assert "clean copy of" not in status
