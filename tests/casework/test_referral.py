"""Referral to an appropriate authority (s 16, s 25), its directory, assignment and internal notes, over HTTP."""
from __future__ import annotations

import re

import pytest

from portal.core.context import open_context
from tests.conftest import MARKER, add_account
from tests.support import csrf_token, files_containing
from tests.support.console import sign_in
from tests.support.workflow import (disclose_to, due_date, officer_on_case, open_status, post, step_done,
                                    today)  # noqa: F401  (today is a fixture)
from tests.support.referral import authority_id




def audit_events(installation) -> list[tuple[str, str | None, str]]:
    ctx = open_context(installation.data_dir)
    return ctx.db.execute("SELECT event, case_ref, detail FROM audit_log ORDER BY seq").fetchall()


@pytest.fixture
def admin(installation):
    return add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")


def test_referral_after_consulting_the_discloser_who_sees_the_authority_and_reason(app, installation, today):
    today.set("2026-03-02")
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/reply", message="We think the Auditor-General is better placed. Do you agree?").status_code == 303
    today.set("2026-03-06")
    page = officer.get(case).text
    oag = authority_id(page, "Controller and Auditor-General")
    response = post(officer, case + "/referral", authority=oag, concerns="general", consultation="consulted",
                    consultation_note="Agreed in the messages on 2 March.", reason="It concerns public funds.")
    assert response.status_code == 303
    page = officer.get(case).text
    assert 'data-status="referred"' in page
    assert "referred to the Controller and Auditor-General by Ana Officer" in page
    assert "Agreed in the messages on 2 March." in page
    # Referring deals with the matter (s 13(1)(d)) and does no other step: s 13(1)(c) and (e) are still owed.
    assert step_done(page, "deal") == "2026-03-06" and step_done(page, "inform") == ""
    assert due_date(page) == ("respond", "2026-03-30") and step_done(page, "check") == ""
    status = open_status(discloser, receipt)
    assert 'data-status="referred"' in status
    assert "Referred to the Controller and Auditor-General. It concerns public funds." in status
    # The record of how the discloser was consulted is for officers only.
    assert "Agreed in the messages on 2 March." not in status
    ref = case.rsplit("/", 1)[1]
    assert ("referral", ref) in [(e, r) for e, r, _ in audit_events(installation)]


def test_referral_refused_for_an_exclusive_route_and_when_consultation_is_not_recorded(app, installation, today):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    page = officer.get(case).text
    oag, igis = authority_id(page, "Controller and Auditor-General"), authority_id(page, "Inspector-General of Intelligence and Security")
    commerce, ombudsman = authority_id(page, "Commerce Commission"), authority_id(page, "An Ombudsman")
    base = {"consultation": "consulted", "reason": "Better placed."}

    refused = post(officer, case + "/referral", authority=oag, concerns="intelligence_security", **base)
    assert refused.status_code == 400
    assert "may be referred only to the Inspector-General of Intelligence and Security (s 25)" in refused.text
    refused = post(officer, case + "/referral", authority=commerce, concerns="international_relations", **base)
    assert refused.status_code == 400 and "only to an Ombudsman (s 25)" in refused.text
    missing = post(officer, case + "/referral", authority=oag, concerns="general", reason="Better placed.")
    assert missing.status_code == 400 and "Record whether the discloser was consulted" in missing.text
    no_why = post(officer, case + "/referral", authority=oag, concerns="general", consultation="not_practicable",
                  reason="Better placed.")
    assert no_why.status_code == 400 and "why consulting the discloser was not practicable" in no_why.text
    assert "Better placed." in no_why.text  # what was typed comes back
    assert 'data-status="received"' in officer.get(case).text

    assert post(officer, case + "/referral", authority=igis, concerns="intelligence_security", **base).status_code == 303
    assert "referred to the Inspector-General of Intelligence and Security" in officer.get(case).text
    assert post(officer, case + "/referral", authority=ombudsman, concerns="international_relations",
                consultation="not_practicable", consultation_note="No contact details and no reply in 3 weeks.",
                reason="Also international relations.").status_code == 303


def test_a_script_may_name_the_authority(app, installation):
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/referral", authority="Serious Fraud Office", concerns="general",
                consultation="consulted", reason="x").status_code == 400
    assert post(officer, case + "/referral", authority="Director of the Serious Fraud Office", concerns="general",
                consultation="consulted", reason="Bribery.").status_code == 303
    status = open_status(discloser, receipt)
    assert "Referred to the Director of the Serious Fraud Office. Bribery." in status
    assert "referred your disclosure to the <strong>Director of the Serious Fraud Office</strong>" in status
    assert '<span id="authority-contact" lang="en">sfo.govt.nz</span>' in status  # a reason written with "the" still names it


@pytest.mark.parametrize("name, said, bold", [
    # (with the official te reo Māori name where the body has one: issue 28)
    ("An Ombudsman", "an Ombudsman",
     'an <strong>Ombudsman (<span lang="mi">Te Kaitiaki Mana Tangata</span>)</strong>'),
    ("Commissioner of Police", "the Commissioner of Police", "the <strong>Commissioner of Police</strong>"),
    ("WorkSafe New Zealand", "WorkSafe New Zealand",
     '<strong>WorkSafe New Zealand (<span lang="mi">Mahi Haumaru Aotearoa</span>)</strong>'),
])
def test_an_authority_reads_with_its_article_inside_a_sentence(app, installation, name, said, bold):
    """New-user review (issue 25, "the authority's name in a sentence"): an office or a body takes "the",
    a name with its own article lowers it, a proper name takes none, on the officer's and the discloser's pages."""
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    answer = post(officer, case + "/referral", authority=authority_id(officer.get(case).text, name),
                  concerns="general", consultation="consulted", reason="Better placed.")
    assert answer.status_code == 303
    page = officer.get(answer.headers["Location"]).text
    assert f"The case was referred to {said} (s 16)." in page
    assert f"Referred to {bold} on" in page and f"Export the case for {said}<" in page
    status = open_status(discloser, receipt)
    assert f"Referred to {said}. Better placed." in status
    assert f"referred your disclosure to {bold}" in status


def test_administrator_edits_the_directory_but_no_minister_or_mp(app, installation, admin):
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/console/admin/authorities").text
    assert "Inspector-General of Intelligence and Security" in page and "Schedule 2" in page
    assert "only route for intelligence and security information (s 25)" in page
    for name in ("Minister of Finance", "Member of Parliament for Wellington Central", "The local MP"):
        refused = post(client, "/console/admin/authorities", name=name, covers="Anything", source="Added by us")
        assert refused.status_code == 400 and "not an appropriate authority (s 25)" in refused.text
    added = post(client, "/console/admin/authorities", name="Ministry for the Environment",
                 covers="Environmental regulation", source="s 25: head of a public sector organisation")
    assert added.status_code == 303
    page = client.get("/console/admin/authorities").text
    [entry] = re.findall(r"data-authority=\"([0-9]+)\"><h3>Ministry for the Environment", page)
    assert post(client, f"/console/admin/authorities/{entry}", name="Ministry for the Environment",
                covers="Environmental regulation and waste", source="Added by the integrity team").status_code == 303
    assert "Environmental regulation and waste" in client.get("/console/admin/authorities").text

    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert authority_id(officer.get(case).text, "Ministry for the Environment")
    assert officer.get("/console/admin/authorities").status_code == 404
    token = csrf_token(client.get("/console/admin/authorities").text)
    assert client.post(f"/console/admin/authorities/{entry}/remove", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    assert "Ministry for the Environment" not in client.get("/console/admin/authorities").text


def test_assignment_only_to_a_reader(app, installation, today):
    add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    page = officer.get(case).text
    assert re.search(r'id="assignee" data-officer="">Nobody<', page)
    cat = re.search(r'<option value="([0-9]+)">Cat Colleague', page).group(1)
    assert post(officer, case + "/assign", officer=cat).status_code == 303
    assert re.search(rf'id="assignee" data-officer="{cat}">Cat Colleague<', officer.get(case).text)
    ctx = open_context(installation.data_dir)
    ben = ctx.db.execute("SELECT id FROM accounts WHERE name = 'Ben Other'").fetchone()[0]
    refused = post(officer, case + "/assign", officer=str(ben))
    assert refused.status_code == 400
    assert re.search(rf'id="assignee" data-officer="{cat}"', officer.get(case).text)
    assert post(officer, case + "/assign", officer="").status_code == 303
    assert 'data-officer="">Nobody<' in officer.get(case).text
    events = [(e, d) for e, _, d in audit_events(installation) if e == "assignment"]
    assert len(events) == 2
    # Ben reads no case of this channel: he cannot assign it either, and gets the same 404.
    stranger = app.test_client()
    sign_in(stranger, installation.other_officer)
    assert stranger.post(case + "/assign", data={"csrf_token": csrf_token(stranger.get("/console/").text),
                                                 "officer": str(ben)}).status_code == 404


def test_internal_notes_are_for_readers_only_and_never_stored_in_clear(app, installation):
    colleague = add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    receipt = disclose_to(discloser := app.test_client(), details="Invoices paid twice.")
    officer, case = officer_on_case(app, installation.officer)
    note = f"Internal: the finance manager may be involved. {MARKER}"
    assert post(officer, case + "/notes", note=note).status_code == 303
    empty = post(officer, case + "/notes", note="   ")
    assert empty.status_code == 400 and "Write the note first" in empty.text
    assert note in officer.get(case).text
    other, _ = officer_on_case(app, colleague)
    assert note in other.get(case).text
    status = open_status(discloser, receipt)
    assert MARKER not in status and "finance manager" not in status
    assert files_containing(installation.data_dir, MARKER.encode()) == []
    [(event, detail)] = [(e, d) for e, _, d in audit_events(installation) if e == "note_added"]
    assert MARKER not in detail and "finance" not in detail
    # The discloser's receipt key opens the case key, but the notes are under the officers-only key.
    ctx = open_context(installation.data_dir)
    sealed_to = {r[0] for r in ctx.db.execute("SELECT account_id FROM internal_keys").fetchall()}
    readers = {r[0] for r in ctx.db.execute("SELECT account_id FROM case_keys WHERE account_id IS NOT NULL").fetchall()}
    assert sealed_to == readers and None not in sealed_to
