"""A disclosure whose 20 working days would run past the working-day table (issue 23): Matariki is
fixed in law to 2052 only, so the deadline is shown as not known, plainly, and the disclosure is
still taken in; nothing guesses the date."""
from __future__ import annotations


from tests.support import receipt_from
from tests.support.discloser import disclose
from tests.support.workflow import officer_on_case, open_status, today  # noqa: F401
from tests.support import database


def test_a_disclosure_late_in_2052_is_taken_in_with_its_deadline_shown_as_not_known(
        app, installation, today):  # noqa: F811
    today.set("2052-12-20")  # the 20 working days after it run into 2053
    response = disclose(app.test_client(), "Invoices paid twice.", files=(), channel="Audit and Risk")
    assert response.status_code == 200
    assert "We cannot show that date" in response.text and "only up to 2052" in response.text
    receipt = receipt_from(response.text)

    db = database.connect(installation.data_dir)
    assert db.execute("SELECT due_day, due_kind FROM cases").fetchall() == [(None, "unknown")]
    db.close()

    status = open_status(app.test_client(), receipt)
    assert 'id="expected-unknown"' in status and 'id="expected-by"' not in status

    officer, url = officer_on_case(app, installation.officer)
    case_page = officer.get(url)
    assert case_page.status_code == 200
    assert 'id="due-unknown"' in case_page.text and 'id="due-date"' not in case_page.text
    inbox = officer.get("/console/")
    assert inbox.status_code == 200 and "deadline not known" in inbox.text


def test_a_disclosure_in_2053_is_taken_in_too(app, installation, today):  # noqa: F811
    today.set("2053-03-02")
    response = disclose(app.test_client(), "Invoices paid twice.", files=(), channel="Audit and Risk")
    assert response.status_code == 200 and "We cannot show that date" in response.text
    officer, url = officer_on_case(app, installation.officer)
    assert 'id="due-unknown"' in officer.get(url).text
