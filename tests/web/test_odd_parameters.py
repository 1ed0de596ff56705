"""Numbers that Python's `isdigit()` accepts but `int()` refuses, and numbers too big for SQLite, in every
parameter a reviewer found unchecked: a plain answer, never a 500."""
from __future__ import annotations

import pytest

from tests.support.console import sign_in
from tests.support.workflow import disclose_to, officer_on_case, post

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


def test_odd_numbers_in_paths_and_forms_of_both_audiences(app, installation):
    from tests.support import csrf_token, post_multipart
    from tests.support.workflow import open_status
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    token = csrf_token(officer.get("/console/").text)
    assert officer.post("/console/interests/" + "9" * 26 + "/remove", data={"csrf_token": token}).status_code == 404
    discloser = app.test_client()
    status = open_status(discloser, disclose_to(discloser))
    for request_number in ("9" * 30, "²", "٣"):
        answer = discloser.post("/status/consent", data={"csrf_token": csrf_token(status), "request": request_number,
                                                         "answer": "yes"})
        assert answer.status_code == 400, (request_number, answer.status_code)
    # A part whose file name is not UTF-8: a plain refusal on both upload forms.
    boundary = "b0undary"
    for path, client in (("/disclose", app.test_client()), ("/status/reply", discloser)):
        page = client.get("/disclose" if path == "/disclose" else "/status").text
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf_token(page)}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"").encode() + \
            b"\xff\xfe.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n" + f"--{boundary}--\r\n".encode()
        answer = client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
        assert answer.status_code == 400, (path, answer.status_code)


def test_an_extension_takes_only_whole_numbers_and_is_made_once(app, installation):
    from tests.support import csrf_token
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    for odd in ("1_0", "١٢", "99999999999999999999999"):
        assert post(officer, case + "/extension", expected_timeframe="Three months",
                    update_every=odd).status_code == 400, odd
    page = officer.get(case).text
    token = csrf_token(page)
    submission = __import__("re").search(r'name="submission_token" type="hidden" value="([^"]+)"',
                                         page.split('action="' + case + '/extension"')[1]).group(1)
    fields = {"csrf_token": token, "submission_token": submission, "expected_timeframe": "Three months",
              "update_every": "20"}
    assert officer.post(case + "/extension", data=fields).status_code == 303
    assert officer.post(case + "/extension", data=fields).status_code == 303     # the resend changes nothing
    from portal.core.context import open_context
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'extension'").fetchone()[0] == 1
