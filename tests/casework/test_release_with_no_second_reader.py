"""A release of the discloser's identity on a ground waits for a second officer (s 17); when no other officer
reads the case (the second left, or never read it), the case page says that nobody can confirm it and what to
do, instead of waiting for no one (new-user review, issue 24 "what a person leaves behind": the demo's release
still read "Waiting for a second officer." after the second officer was offboarded)."""
from __future__ import annotations

from tests.conftest import add_account
from tests.support.workflow import disclose_to, officer_on_case, post

NOBODY_CAN = "No other officer reads this case now, so nobody can confirm it"


def _ask_for_a_release(app, installation):
    disclose_to(app.test_client(), contact="Jo, 021 555 0199")
    ana, url = officer_on_case(app, installation.officer)
    asked = post(ana, url + "/identity", url, confirm_passphrase=installation.officer.passphrase,
                 recipient="WorkSafe inspector", ground="health_safety", reason="Workers are at risk now.",
                 consultation="not_practicable", consultation_note="The risk is immediate.")
    assert asked.status_code == 303
    return ana, url


def test_a_release_no_other_reader_can_confirm_says_so(app, installation):
    ana, url = _ask_for_a_release(app, installation)  # Ana alone reads Audit and Risk
    page = ana.get(url).text
    assert 'data-release="1" data-state="pending"' in page and NOBODY_CAN in page


def test_a_release_another_reader_can_confirm_just_waits(app, installation):
    add_account(installation.data_dir, "officer", "carol@agency.govt.nz", "Carol Second", ["Audit and Risk"])
    ana, url = _ask_for_a_release(app, installation)
    page = ana.get(url).text
    assert "Waiting for a second officer." in page and NOBODY_CAN not in page
