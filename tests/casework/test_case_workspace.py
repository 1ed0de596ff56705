"""The case page as a workspace (issue 25), over HTTP: the disclosure and the conversation first, a panel
with one primary action for what is due now (a new case is acknowledged in one POST: message, s 13(1)(a)
and status together), the other sections folded, ids of their own per form, and every action confirmed
on the page it leads back to."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from portal.core.context import open_context
from tests.conftest import add_account
from tests.support.console import case_links, sign_in
from tests.support.referral import authority_id
from tests.support.workflow import (disclose_to, due_date, expected_by, officer_on_case, open_status, post,
                                    step_done, today)  # noqa: F401  (today is a fixture)

ACK = "Thank you. We have your disclosure of 2 March and will look at the invoices."


class Page(HTMLParser):
    """Every id, every label's `for` with the form it is in, every form's field ids and names, the
    `<details>` elements and the buttons marked as the primary action."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels: list[tuple[str, int | None]] = []
        self.form_fields: dict[int, set[str]] = {}
        self.form_names: dict[int, tuple[str, set[str]]] = {}
        self.details: dict[str, bool] = {}
        self.primary: list[str] = []
        self._form: int | None = None
        self._forms = 0
        self._in_primary = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "form":
            self._forms += 1
            self._form = self._forms
            self.form_fields[self._form] = set()
            self.form_names[self._form] = (a.get("action", ""), set())
        if tag == "label" and "for" in a:
            self.labels.append((a["for"], self._form))
        if tag in ("input", "select", "textarea") and self._form is not None:
            if "id" in a:
                self.form_fields[self._form].add(a["id"])
            self.form_names[self._form][1].add(a.get("name", ""))
        if tag == "details" and "id" in a:
            self.details[a["id"]] = "open" in a
        if tag == "button" and "data-primary-action" in a:
            self.primary.append("")
            self._in_primary = True

    def handle_data(self, data):
        if self._in_primary:
            self.primary[-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag == "button":
            self._in_primary = False

    def fields_of(self, action_end: str) -> set[str]:
        [names] = [n for action, n in self.form_names.values() if action.endswith(action_end)]
        return names


def notice(html: str) -> str:
    m = re.search(r'<p class="notice" role="status" id="notice">(.*?)</p>', html, re.S)
    assert m, "no confirmation on the page"
    return m.group(1)


def confirmed(client, response) -> str:
    """Follow a case form's post/redirect/get and return the confirmation the case page shows."""
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["Location"]
    assert re.search(r"\?done=[a-z-]+$", location), location
    return notice(client.get(location).text)


def messages_of(installation, author: str) -> int:
    ctx = open_context(installation.data_dir)
    return ctx.db.execute("SELECT COUNT(*) FROM messages WHERE author = ?", [author]).fetchone()[0]


def test_a_new_case_is_acknowledged_in_one_action_from_its_panel(app, installation, today):
    today.set("2026-03-02")
    receipt = disclose_to(discloser := app.test_client(), details="Invoices paid twice. The first line.")
    today.set("2026-03-04")
    officer, case = officer_on_case(app, installation.officer)
    html = officer.get(case).text
    page = Page(html)
    assert page.primary == ["Acknowledge"]
    # The disclosure and the conversation come before the panel and the folded sections.
    assert html.index("The first line.") < html.index('id="thread"') < html.index('id="standing"') < html.index(
        'id="clock"')
    offered = re.search(r'<textarea[^>]*id="ack-message"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "2 March 2026" in offered and "s 13(1)(a)" in offered
    assert due_date(html) == ("respond", "2026-03-30") and step_done(html, "acknowledge") == ""

    done = post(officer, case + "/acknowledge", message=ACK)
    text = confirmed(officer, done)
    assert "acknowledged" in text and "The discloser now sees your message" in text
    after = officer.get(case).text
    assert 'data-status="acknowledged"' in after and step_done(after, "acknowledge") == "2026-03-04"
    assert ACK in after and Page(after).primary == ["Change status"]
    # Dates as people write them in New Zealand, the machine-readable day kept in <time>.
    assert '<time datetime="2026-03-02">2 March 2026</time>' in after
    assert 'Ana Officer (officer), <time datetime="2026-03-04">4 March 2026</time>' in after
    assert messages_of(installation, "officer") == 1
    status = open_status(discloser, receipt)
    assert 'data-status="acknowledged"' in status and ACK in status and 'id="proof-link"' in status

    # Once acknowledged there is nothing to acknowledge again, and nothing more is sent.
    again = post(officer, case + "/acknowledge", message="Again.")
    assert again.status_code == 400 and "already acknowledged" in again.text
    assert messages_of(installation, "officer") == 1


def test_the_acknowledgement_is_one_transaction_and_one_message_when_sent_twice(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    empty = post(officer, case + "/acknowledge", message="   ")
    assert empty.status_code == 400 and 'data-status="received"' in empty.text
    assert step_done(empty.text, "acknowledge") == "" and messages_of(installation, "officer") == 0
    html = officer.get(case).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    submission = re.search(r'action="[^"]*/acknowledge".*?name="submission_token" type="hidden" value="([^"]+)"',
                           html, re.S).group(1)
    form = {"csrf_token": token, "submission_token": submission, "message": ACK}
    assert officer.post(case + "/acknowledge", data=form).status_code == 303
    assert officer.post(case + "/acknowledge", data=form).status_code == 303  # the same form sent again
    assert messages_of(installation, "officer") == 1


def test_every_form_on_the_case_page_has_ids_of_its_own_and_keeps_its_field_names(app, installation):
    disclose_to(app.test_client(), contact="jo@example.org")
    officer, case = officer_on_case(app, installation.officer)
    oag = authority_id(officer.get(case).text, "Controller and Auditor-General")
    assert post(officer, case + "/referral", authority=oag, concerns="general", consultation="consulted",
                reason="Public funds.").status_code == 303
    html = officer.get(case).text
    page = Page(html)
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates
    for target, form in page.labels:
        assert form is not None and target in page.form_fields[form], f"label for={target} is not of its own form"
    # The names posted stay as CONTRACT.md gives them.
    assert {"status", "reason", "expected_timeframe"} <= page.fields_of("/status")
    assert {"authority", "reason", "concerns", "consultation", "consultation_note"} <= page.fields_of("/referral")
    assert {"recipient", "ground", "reason"} <= page.fields_of("/identity")
    assert "message" in page.fields_of("/reply") and "note" in page.fields_of("/notes")
    assert "officer" in page.fields_of("/assign") and "step" in page.fields_of("/steps")
    # Everything but the workspace starts folded.
    assert page.details == dict.fromkeys(["status-section", "clock", "referral", "identity", "notes", "access", "history"], False)
    assert len(page.primary) == 1


def test_a_refused_form_comes_back_in_its_opened_section(app, installation):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    refused = post(officer, case + "/notes", note="")
    assert refused.status_code == 400
    page = Page(refused.text)
    assert page.details["notes"] and not page.details["referral"]
    assert 'href="#note-note"' in refused.text and 'id="note-note"' in refused.text


def test_every_console_action_on_the_case_page_is_confirmed_with_what_the_discloser_sees(app, installation):
    carol = add_account(installation.data_dir, "officer", "carol@agency.govt.nz", "Carol Second", ["Audit and Risk"])
    receipt = disclose_to(discloser := app.test_client(), contact="jo@example.org")
    open_status(discloser, receipt)
    ana, case = officer_on_case(app, installation.officer)
    carol_client, _ = officer_on_case(app, carol)

    assert "sees it first on their status page" in confirmed(ana, post(ana, case + "/reply", message="Hello."))
    assert "The status is now Being assessed" in confirmed(ana, post(ana, case + "/status", status="assessing"))
    assert "what has happened so far" in confirmed(ana, post(ana, case + "/steps", step="check"))
    assert "timeframe you gave" in confirmed(ana, post(ana, case + "/extension", expected_timeframe="Two months",
                                                      update_every="10"))
    assert "progress update" in confirmed(ana, post(ana, case + "/reply", message="Still on it.", progress_update="y"))
    officer_id = re.search(r'<option value="(\d+)">Ana', ana.get(case).text).group(1)
    assert "assigned to Ana" in confirmed(ana, post(ana, case + "/assign", officer=officer_id))
    assert "the discloser never does" in confirmed(ana, post(ana, case + "/notes", note="Ring the auditor."))
    released = post(ana, case + "/identity", case, confirm_passphrase=installation.officer.passphrase,
                    recipient="WorkSafe inspector", ground="health_safety", reason="Workers at risk.",
                    consultation="not_practicable", consultation_note="The risk is immediate.")
    assert "waiting for a second officer" in confirmed(ana, released)
    assert "now sees on their status page" in confirmed(
        carol_client, post(carol_client, case + "/identity/1/confirm", case, confirm_passphrase=carol.passphrase))
    oag = authority_id(ana.get(case).text, "Controller and Auditor-General")
    referred = post(ana, case + "/referral", authority=oag, concerns="general", consultation="consulted",
                    reason="Public funds.")
    text = confirmed(ana, referred)
    assert "referred to the Controller and Auditor-General" in text and "s 13(1)(e)" in text
    # The confirmation is for the page the action leads to: the plain case page has none.
    assert 'role="status"' not in ana.get(case).text


def test_a_referral_marks_only_the_step_it_does_and_the_discloser_reads_what_happens_next(app, installation, today):
    today.set("2026-03-02")
    receipt = disclose_to(discloser := app.test_client())
    assert expected_by(open_status(discloser, receipt)) == "2026-03-30"
    today.set("2026-03-06")
    officer, case = officer_on_case(app, installation.officer)
    oag = authority_id(officer.get(case).text, "Controller and Auditor-General")
    assert post(officer, case + "/referral", authority=oag, concerns="general", consultation="consulted",
                reason="It concerns public funds.").status_code == 303
    page = officer.get(case).text
    assert step_done(page, "deal") == "2026-03-06"
    for step in ("acknowledge", "consider", "check", "inform"):
        assert step_done(page, step) == "", step
    assert due_date(page) == ("respond", "2026-03-30")
    assert "You still owe the discloser word of what was done" in page
    status = discloser.get("/status").text
    assert '<span id="authority-contact" lang="en">oag.parliament.nz</span>' in status
    assert expected_by(status) is None and "s 13(1)(e)" in status


def test_a_referral_set_through_the_status_form_gives_the_discloser_no_date_and_says_what_happens_next(
        app, installation, today):
    today.set("2026-03-02")
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    # The reason does not start "Referred to ...": it names no authority from the directory.
    assert post(officer, case + "/status", status="referred",
                reason="The Auditor-General is better placed to look at this.").status_code == 303
    status = open_status(discloser, receipt)
    assert expected_by(status) is None and 'id="referred-to"' in status
    assert "referred your disclosure to another authority better placed to deal with it" in status
    assert "there is no date from this portal by which to expect an answer" in status
    assert "ask the officers below which authority it is" in status and "s 13(1)(e)" in status
    # The officer is told what the discloser sees, and pointed to the referral form to name the authority.
    page = officer.get(case).text
    assert step_done(page, "deal") == "2026-03-02" and step_done(page, "inform") == ""
    assert re.search(r'id="after-referral">Referred \(s 16\), with no authority recorded', page)
    assert '<a href="#referral">Record the referral</a>' in page  # whitespace folded in translation


def test_after_a_final_outcome_the_discloser_reads_what_happens_next(app, installation, today):
    today.set("2026-03-02")
    receipts = [disclose_to(app.test_client()) for _ in range(2)]
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    decided, closed = case_links(officer.get("/console/").text)
    assert post(officer, decided + "/steps", step="check").status_code == 303
    assert post(officer, decided + "/status", status="no_further_action",
                reason="It is not serious wrongdoing.").status_code == 303
    assert post(officer, closed + "/status", status="closed").status_code == 303
    # An outcome with its reason informs the discloser (s 13(1)(e)); one without does not.
    assert step_done(officer.get(decided).text, "inform") == "2026-03-02"
    assert step_done(officer.get(closed).text, "inform") == ""
    seen = [open_status(app.test_client(), r) for r in receipts]
    [told] = [p for p in seen if "nothing more is due from them" in p]
    [owed] = [p for p in seen if "They must still tell you, with reasons, what they did (s 13(1)(e))" in p]
    assert "no action is required (s 15 of the Act)" in told and expected_by(told) is None
    assert "finished dealing with the matter" in owed and expected_by(owed) == "2026-03-30"


def test_a_release_with_the_disclosers_consent_is_confirmed_as_released(app, installation):
    receipt = disclose_to(discloser := app.test_client(), contact="jo@example.org")
    officer, case = officer_on_case(app, installation.officer)
    fields = dict(recipient="Ms Rangi, Office of the Auditor-General", ground="consent", reason="Same invoices.")
    asked = post(officer, case + "/identity", case, confirm_passphrase=installation.officer.passphrase, **fields)
    assert asked.status_code == 400 and 'role="status"' not in asked.text
    status = open_status(discloser, receipt)
    assert discloser.post("/status/consent", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', status).group(1), "request": "1", "answer": "yes"}).status_code == 303
    released = post(officer, case + "/identity", case, confirm_passphrase=installation.officer.passphrase, **fields)
    assert "The discloser now sees on their status page to whom" in confirmed(officer, released)
