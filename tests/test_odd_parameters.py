"""Numbers that Python's `isdigit()` accepts but `int()` refuses, and numbers too big for SQLite, in every
parameter a reviewer found unchecked: a plain answer, never a 500."""
from __future__ import annotations

import pytest

from tests.test_console_flow import sign_in
from tests.workflow_support import disclose_to, officer_on_case, post

ODD = ["²", "٣", "99999999999999999999999", "-1", "1_0", " 7", ""]


@pytest.mark.parametrize("before", ODD)
def test_the_audit_log_page_with_an_odd_before(app, installation, before):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    response = officer.get("/console/audit", query_string={"before": before})
    assert response.status_code == 200 and "Audit log" in response.text


def test_a_referral_to_an_odd_authority_is_refused_plainly(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    for authority in ODD:
        response = post(officer, case + "/referral", authority=authority, concerns="general",
                        consultation="consulted", consultation_note="", reason="Better placed.")
        assert response.status_code == 400, (authority, response.status_code)
        assert 'data-status="referred"' not in officer.get(case).text


@pytest.mark.parametrize("period", [("9999-10-01", "9999-12-31"), ("0001-01-01", "0001-03-31"),
                                    ("1999-07-01", "2000-06-30")])
def test_statistics_for_a_far_year_answer_plainly(app, installation, period):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    for path in ("/console/statistics", "/console/statistics.csv"):
        response = officer.get(path, query_string={"from": period[0], "to": period[1]})
        assert response.status_code == 400, (path, period, response.status_code)
