"""What a person leaves behind: after an officer is offboarded, every page says what is true now. A case
assigned to them is "Not assigned (was: NAME, who has left)" on its page and in the inbox, and the "Not
assigned" filter finds it, until someone assigns it again."""
from __future__ import annotations

import re

from tests.conftest import add_account, run_cli
from tests.support.audit import account_id
from tests.support.console import case_links, sign_in
from tests.support.workflow import disclose_to, post

LEFT = "Not assigned (was: <bdi>Cat Colleague</bdi>, who has left)"


def assignee_cell(html: str, case_url: str) -> str:
    row = re.search(r'<tr[^>]*>(?:(?!</tr>).)*href="%s"(?:(?!</tr>).)*</tr>' % re.escape(case_url), html, re.S)
    assert row, "the case is not in the list"
    return re.search(r'data-label="Assigned to">(.*?)</td>', row.group(0), re.S).group(1)


def case_assigned_to_cat(app, installation):
    """A case Ana (signed in) assigned to Cat, a fellow officer of its channel: (ana, case, cat, cat_id)."""
    cat = add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    disclose_to(app.test_client(), details="Invoices paid twice.")
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    [case] = case_links(ana.get("/console/").text)
    cat_id = re.search(r'<option value="(\d+)">Cat Colleague', ana.get(case).text).group(1)
    assert post(ana, case + "/assign", officer=cat_id).status_code == 303
    return ana, case, cat, cat_id


def test_a_case_assigned_to_an_officer_who_left_says_so_and_is_not_assigned(app, installation):
    data_dir = installation.data_dir
    ana, case, cat, cat_id = case_assigned_to_cat(app, installation)
    assert ">Cat Colleague</dd>" in ana.get(case).text

    run_cli(data_dir, "officer", "offboard", "--email", cat.email)
    page = ana.get(case).text
    assert LEFT in re.search(r'<dd id="assignee".*?</dd>', page, re.S).group(0)
    # The inbox, and its "Not assigned" filter (the second place the departed officer showed up).
    assert assignee_cell(ana.get("/console/").text, case) == LEFT
    assert case in case_links(ana.get("/console/?assignee=unassigned").text)
    assert case not in case_links(ana.get(f"/console/?assignee={cat_id}").text)

    # Assigned again: what is true now is only the new assignee.
    ana_id = re.search(r'<option value="(\d+)">Ana Officer', ana.get(case).text).group(1)
    assert post(ana, case + "/assign", officer=ana_id).status_code == 303
    page = ana.get(case).text
    assert "who has left" not in page and ">Ana Officer</dd>" in page


def test_a_deletion_request_by_an_officer_who_left_names_them_as_gone(app, installation, monkeypatch):
    import datetime as dt

    from portal.core import clock
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    disclose_to(app.test_client(), details="Invoices paid twice.")
    run_cli(data_dir, "channel", "retention", "Audit and Risk", "--months", "1")
    ana, cat_client = app.test_client(), app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    assert sign_in(cat_client, cat).status_code == 303
    [case] = case_links(ana.get("/console/").text)
    assert post(ana, case + "/status", status="closed", reason="Dealt with.").status_code == 303
    later = clock.now_utc() + dt.timedelta(days=40)
    monkeypatch.setattr(clock, "now_utc", lambda: later)
    ref = case.rsplit("/", 1)[1]
    assert post(cat_client, f"/console/retention/{ref}/request", page="/console/retention/").status_code == 303
    assert "Cat Colleague asked for its deletion" in ana.get("/console/retention/").text
    run_cli(data_dir, "officer", "offboard", "--email", cat.email)
    page = ana.get("/console/retention/").text
    assert "Cat Colleague (who has left) asked for its deletion" in page


def test_a_pending_identity_release_asked_by_an_officer_who_left_names_them_as_gone(app, installation):
    from tests.support.workflow import officer_on_case, open_status
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    discloser = app.test_client()
    open_status(discloser, disclose_to(discloser, contact="021 555 0199"))
    cat_client, url = officer_on_case(app, cat)
    ana, _ = officer_on_case(app, installation.officer)
    assert post(cat_client, url + "/identity", url, confirm_passphrase=cat.passphrase, recipient="WorkSafe inspector",
                ground="health_safety", reason="Workers are at risk now.", consultation="not_practicable",
                consultation_note="The risk is immediate.").status_code == 303
    assert "by Cat Colleague." in ana.get(url).text
    run_cli(data_dir, "officer", "offboard", "--email", cat.email)
    page = ana.get(url).text
    assert 'data-state="pending"' in page and "by Cat Colleague (who has left)." in page


def test_a_saved_view_of_an_officer_who_left_says_so_and_where_their_cases_went(app, installation):
    """Issue 24 review, M2: the view still filters on the departed officer's id (so it finds none),
    and says why: who has left, that their cases are now not assigned, with the view that has them."""
    from tests.support import csrf_token
    data_dir = installation.data_dir
    ana, case, cat, cat_id = case_assigned_to_cat(app, installation)
    page = ana.get("/console/").text
    saved = ana.post("/console/views", data={"csrf_token": csrf_token(page), "view_name": "Cat's cases",
                                             "assignee": cat_id})
    assert saved.status_code == 303
    [view] = re.findall(r'<a href="([^"]+)">Cat&#39;s cases</a>', ana.get("/console/").text)
    assert case in case_links(ana.get(view.replace("&amp;", "&")).text)
    assert 'id="departed-assignee"' not in ana.get(view.replace("&amp;", "&")).text

    run_cli(data_dir, "officer", "offboard", "--email", cat.email)
    shown = ana.get(view.replace("&amp;", "&")).text
    notice = re.search(r'<div[^>]*id="departed-assignee".*?</div>', shown, re.S)
    assert notice, shown
    assert "<bdi>Cat Colleague</bdi> has left; their cases are now not assigned." in notice.group(0)
    assert 'href="/console/?assignee=unassigned"' in notice.group(0)
    # The filter shows what is applied, not "Anyone or nobody".
    select = re.search(r'<select id="filter-assignee".*?</select>', shown, re.S).group(0)
    assert re.search(rf'<option value="{cat_id}" selected>Cat Colleague \(who has left\)</option>', select), select
    assert '<option value="" selected>' not in select
    # Where the case went: the "Not assigned" view has it.
    assert case in case_links(ana.get("/console/?assignee=unassigned").text)


def test_a_departed_officer_who_never_shared_a_channel_answers_as_an_unknown_id_does(app, installation):
    """Issue 24 review, L3: `?assignee=N` must not tell an offboarded account from a missing one."""
    data_dir = installation.data_dir
    run_cli(data_dir, "channel", "add", "Finance")  # a channel Ana is not in
    dee = add_account(data_dir, "officer", "dee@agency.govt.nz", "Dee Elsewhere", channels=("Finance",))
    dee_id = account_id(data_dir, dee.email)
    run_cli(data_dir, "officer", "offboard", "--email", dee.email)
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    departed = ana.get(f"/console/?assignee={dee_id}").text
    unknown = ana.get("/console/?assignee=987654").text
    assert 'id="departed-assignee"' not in departed and 'id="departed-assignee"' not in unknown
    assert "has left" not in departed
