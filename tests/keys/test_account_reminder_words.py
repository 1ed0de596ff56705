"""The account page offers the daily reminder; with no mail server set it also says that nothing is sent
yet (new-user review: the demo offered the box and sent nothing, silently)."""
from __future__ import annotations

from portal.web.app import create_app
from tests.conftest import run_cli
from tests.support.enrolment import sign_in


def _account_page(data_dir, person) -> str:
    app = create_app(data_dir)
    app.config["TESTING"] = True
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client.get("/console/account").text


def test_the_reminder_box_says_when_no_mail_server_is_set(installation):
    page = _account_page(installation.data_dir, installation.officer)
    assert "Send me the daily reminder" in page and 'id="no-mail-server"' in page
    run_cli(installation.data_dir, "setting", "set", "smtp_host", "mail.agency.govt.nz")
    page = _account_page(installation.data_dir, installation.officer)
    assert "Send me the daily reminder" in page and 'id="no-mail-server"' not in page
