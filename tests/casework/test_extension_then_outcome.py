"""An s 13(2) extension followed by a referral (issue 25, review L1 and L2): the discloser is no
longer told the officers' timeframe for dealing with it, and the panel, the inbox and the steps table
agree that informing the discloser follows that timeframe, with no date of 20 working days. Over
HTTP."""
from __future__ import annotations

import re

from tests.support.referral import authority_id
from tests.support.workflow import (disclose_to, due_date, officer_on_case, open_status, post,
                                    today)  # noqa: F401  (today is a fixture)


def test_after_an_extension_and_a_referral_no_timeframe_or_twenty_day_date_is_given(app, installation, today):
    today.set("2026-03-02")
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    today.set("2026-03-10")
    assert post(officer, case + "/extension", expected_timeframe="By the end of June",
                update_every="10").status_code == 303
    assert "They expect to take: By the end of June" in open_status(discloser, receipt)
    page = officer.get(case).text
    assert post(officer, case + "/referral", authority=authority_id(page, "Commissioner of Police"),
                concerns="general", consultation="consulted", reason="Better placed.").status_code == 303
    for step in ("acknowledge", "consider", "check"):
        assert post(officer, case + "/steps", step=step).status_code == 303

    status = discloser.get("/status").text
    assert 'data-status="referred"' in status
    assert "By the end of June" not in status and 'id="extension-timeframe"' not in status

    page = officer.get(case).text
    # The twenty working days end on 30 March 2026: no longer the date of anything informing owes.
    assert due_date(page) is None
    inform = re.search(r'<tr data-step="inform".*?</tr>', page, re.S).group(0)
    assert "See the expected timeframe" in inform
    panel = page.split('id="clock"')[0]
    assert "2026-03-30" not in panel and "30 March 2026" not in panel
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*{re.escape(case.rsplit("/", 1)[1])}.*?</tr>',
                    officer.get("/console/").text, re.S).group(0)
    assert "2026-03-30" not in row and "working days left" not in row
    # ... and the inbox says what the case page says: informing is still owed, by the timeframe
    # (second review of issue 25, N1), not "Nothing due".
    assert "Nothing due" not in row and "s 13 steps due by the expected timeframe (s 13(2))" in row
    listed = re.search(r'<ul id="referral-list">.*?</ul>', page, re.S).group(0)
    assert "referred to" in listed and "Neither of the two below" not in listed  # the form's words
    assert post(officer, case + "/steps", step="inform").status_code == 303
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*{re.escape(case.rsplit("/", 1)[1])}.*?</tr>',
                    officer.get("/console/").text, re.S).group(0)
    assert "Nothing due" in row


def test_the_printable_record_has_the_extension_and_the_contact_the_discloser_was_given(app, installation, today):
    today.set("2026-03-02")
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    today.set("2026-03-10")
    assert post(officer, case + "/extension", expected_timeframe="By the end of June",
                update_every="10").status_code == 303
    page = officer.get(case).text
    assert post(officer, case + "/referral", authority=authority_id(page, "Commissioner of Police"),
                concerns="general", consultation="consulted", reason="Better placed.").status_code == 303
    record = " ".join(officer.get(case + "/record").text.split())
    extension = re.search(r'<p id="record-extension">(.*?)</p>', record).group(1)
    assert 'recorded on <time datetime="2026-03-10">10 March 2026</time>' in extension
    assert "expected timeframe told to the discloser: By the end of June" in extension
    assert "Progress updates every 10 working days." in extension
    assert "The discloser was given this contact: police.govt.nz, 105 (non-emergency)</li>" in record
    inform = re.search(r"<tr><td>[^<]*[Ii]nform[^<]*</td><td>(.*?)</td>", record).group(1)
    assert inform == "See the expected timeframe"
