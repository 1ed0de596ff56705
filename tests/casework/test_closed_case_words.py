"""A case closed with no further action before it was acknowledged (new-user review, issue 25): the
confirmation names the status as the queue does ("No further action", not a bare "Closed" that two
statuses share), and the panel's "Acknowledge" says what it does to such a case: it records s 13(1)(a)
and leaves the status as it is (it said "sets the status to acknowledged")."""
from __future__ import annotations

import re

from tests.casework.test_case_workspace import confirmed
from tests.support.workflow import disclose_to, officer_on_case, post


def _acknowledge_hint(page: str) -> str:
    return re.search(r'<p class="hint" id="ack-message-hint">([^<]+)</p>', page).group(1)


def _prefilled_acknowledgement(page: str) -> str:
    return re.search(r'<textarea[^>]*id="ack-message"[^>]*>(.*?)</textarea>', page, re.S).group(1).strip()


def test_a_case_closed_before_it_was_acknowledged_is_named_and_acknowledged_as_it_is(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    page = officer.get(case).text  # a new case
    assert "sets the status to acknowledged" in _acknowledge_hint(page)
    assert "We will consider it" in _prefilled_acknowledgement(page)

    said = confirmed(officer, post(officer, case + "/status", status="no_further_action",
                                   reason="Already before the courts (s 15)."))
    assert "The status is now No further action." in said
    page = officer.get(case).text
    hint = _acknowledge_hint(page)
    assert "records s 13(1)(a)" in hint and "the status stays as it is" in hint
    assert "sets the status to acknowledged" not in hint
    message = _prefilled_acknowledgement(page)
    # The decision is made: the message offered must not promise consideration still to come.
    assert "consider" not in message and "already decided" in message
    said = confirmed(officer, post(officer, case + "/acknowledge", message=message))
    assert "the status is now No further action and s 13(1)(a)" in said
    assert 'data-status="no_further_action"' in officer.get(case).text


def test_closing_one_case_as_needing_no_action_gives_the_grounds_of_s_15(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    page = officer.get(case).text
    hint = re.search(r'<p class="hint" id="status-reason-hint">(.*?)</p>', page, re.S).group(1)
    assert "For no further action (s 15), tell the discloser why." in hint
    assert "better addressed by other means" in hint and "impracticable or undesirable" in hint
    assert 'aria-describedby="status-reason-hint"' in page
