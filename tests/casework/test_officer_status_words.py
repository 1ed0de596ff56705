"""Officers read the status as officers name it (new-user review, issue 25): the case page's panel,
its history and the printable record say "Being assessed", with the discloser's own wording beside it
as "What the discloser reads", not the discloser's sentence as if it were the officers' name."""
from __future__ import annotations

import html
import re

from tests.support.workflow import disclose_to, officer_on_case, post


def _status_cell(page: str) -> str:
    cell = re.search(r'<dd id="case-status"[^>]*>(.*?)</dd>', page, re.S).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def test_the_console_names_the_status_as_officers_do_and_shows_the_disclosers_wording(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert _status_cell(officer.get(case).text) == (
        "New: to acknowledge What the discloser reads: “Received: waiting for an integrity officer to"
        " acknowledge it”")

    assert post(officer, case + "/status", status="assessing", reason="").status_code == 303
    page = officer.get(case).text
    assert _status_cell(page) == (
        "Being assessed What the discloser reads: “Being assessed: an officer is considering what to do”")
    history = re.search(r'<ol class="history">(.*?)</ol>', page, re.S).group(1)
    assert ": Being assessed" in history and "an officer is considering" not in history

    record = officer.get(case + "/record").text
    assert "<dd>Being assessed (the discloser reads: “Being assessed: an officer is considering what to do”)</dd>" in record
    assert "considering what to do</li>" not in record


def test_the_status_select_and_the_statistics_use_the_officers_words(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    select = re.search(r'<select[^>]*name="status"[^>]*>(.*?)</select>', officer.get(case).text, re.S).group(1)
    assert '<option value="assessing">Being assessed</option>' in select
    assert "an officer is considering" not in select and "waiting for an integrity officer" not in select
    statistics = officer.get("/console/statistics").text
    by_status = re.search(r'By status at the end of the period.*?</table>', statistics, re.S).group(0)
    assert "New: to acknowledge" in by_status and "Being assessed" in by_status
    assert "an integrity officer has your disclosure" not in by_status
    assert "waiting for an integrity officer" not in by_status


def test_the_same_status_set_twice_is_refused_plainly_and_recorded_once(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/status", status="assessing", reason="").status_code == 303
    again = post(officer, case + "/status", status="assessing", reason="")
    assert again.status_code == 400
    assert "The case already has the status &#39;Being assessed&#39;" in again.text
    assert "nothing was changed" in again.text
    history = re.search(r'<ol class="history">(.*?)</ol>', officer.get(case).text, re.S).group(1)
    assert history.count(": Being assessed") == 1
    # With something new to tell the discloser, it is recorded.
    assert post(officer, case + "/status", status="assessing", reason="We asked finance.").status_code == 303
    history = re.search(r'<ol class="history">(.*?)</ol>', officer.get(case).text, re.S).group(1)
    assert history.count(": Being assessed") == 2
