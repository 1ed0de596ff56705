"""An administrator made with set-up credentials (the demo's) goes through the same first-sign-in steps as
an officer, and those steps speak to an administrator: no key for cases, no fingerprint to read to a
channel's officer, no inbox to go to (issue 25, "no internal names shown", "Back to the inbox" for
administrators, who have none). An officer's steps still say all three."""
from __future__ import annotations

import re

from portal.core.context import open_context
from portal.keys import provisioning
from tests.conftest import Officer
from tests.support import csrf_token
from tests.support.enrolment import STRONG, sign_in

OFFICER_ONLY = ("the cases you can read are moved", "an officer who reads your cases", "key fingerprint",
                "Before an officer of a channel confirms", "go to the inbox")


def _made_with_setup_credentials(data_dir, role: str, email: str, name: str) -> Officer:
    ctx = open_context(data_dir)
    try:
        _, secret = provisioning.add_account(ctx, email=email, name=name, role=role,
                                             passphrase="a long set-up passphrase",
                                             channels=["Audit and Risk"] if role == "officer" else [],
                                             must_change_credentials=True)
    finally:
        ctx.db.conn.close()
    return Officer(email, name, "a long set-up passphrase", secret)


def _take_the_steps(client, person: Officer) -> tuple[str, str]:
    """Sign in with the given credentials and take every step; the first step's and the last step's pages."""
    answer = sign_in(client, person)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/console/setup/passphrase")
    first = client.get("/console/setup/passphrase").text
    assert client.post("/console/setup/passphrase", data={"csrf_token": csrf_token(first), "passphrase": STRONG,
                                                          "passphrase_again": STRONG}).status_code == 303
    page = client.get("/console/setup/second-factor").text
    person.totp_secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = client.post("/console/setup/second-factor", data={"csrf_token": csrf_token(page), "totp": person.code()})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.text
    return first, done.text


def test_an_administrators_set_up_steps_say_nothing_of_cases_keys_or_an_inbox(app, installation):
    admin = _made_with_setup_credentials(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    client = app.test_client()
    first, last = _take_the_steps(client, admin)
    for words in OFFICER_ONLY:
        assert words not in first and words not in last, words
    assert "Nothing is changed until you have confirmed the second factor" in first
    link = re.search(r'<a href="([^"]+)">I have kept my codes: go to the administration pages</a>', last).group(1)
    assert client.get(link).status_code == 200 and link == "/console/admin/"


def test_an_officers_set_up_steps_still_give_the_key_the_fingerprint_and_the_inbox(app, installation):
    officer = _made_with_setup_credentials(installation.data_dir, "officer", "cleo@agency.govt.nz", "Cleo Third")
    first, last = _take_the_steps(app.test_client(), officer)
    assert "the cases you can read are moved" in first and "an officer who reads your cases" in first
    assert 'id="fingerprint"' in last and "go to the inbox" in last


def test_the_audit_log_words_an_administrators_set_up_and_a_new_channel_as_they_are(app, installation):
    """The audit page said "Set-up credentials replaced by the officer's own" of an administrator, and
    "Channel added (with a signed roster)" of a channel whose roster nobody had started."""
    admin = _made_with_setup_credentials(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    client = app.test_client()
    _take_the_steps(client, admin)
    audit = client.get("/console/audit").text
    assert "Set-up credentials replaced by the account holder&#39;s own" in audit
    assert re.search(r"Channel added\s*<span class=\"hint\">\(its signed roster can be started\)", audit)
    assert "replaced by the officer" not in audit and "with a signed roster" not in audit
