"""The inbox's "What needs you" (issue 25): actions waiting for a second officer (an identity release, a
membership), counts in working days, sortable column headers, and a new officer's empty inbox."""
from __future__ import annotations

import re

from tests.conftest import add_account
from tests.support.console import sign_in
from tests.support.enrolment import enrol
from tests.support.workflow import disclose_to, officer_on_case, post, today  # noqa: F401 (a fixture)


def needs_you(page: str) -> str:
    return re.search(r'<ul id="queue-counts">(.*?)</ul>', page, re.S).group(1)


def test_an_identity_release_waiting_for_a_second_officer_is_in_what_needs_you(app, installation):
    carol = add_account(installation.data_dir, "officer", "carol@agency.govt.nz", "Carol Second", ["Audit and Risk"])
    disclose_to(app.test_client(), contact="Jo, 021 555 0199")
    ana, url = officer_on_case(app, installation.officer)
    carol_client, _ = officer_on_case(app, carol)
    ref = url.rsplit("/", 1)[1]
    assert "data-count=\"identity-release\"" not in ana.get("/console/").text
    assert post(ana, url + "/identity", url, confirm_passphrase=installation.officer.passphrase,
                recipient="WorkSafe inspector", ground="health_safety", reason="Workers are at risk now.",
                consultation="not_practicable", consultation_note="The risk is immediate.").status_code == 303
    waiting = needs_you(carol_client.get("/console/").text)
    assert f'href="/console/cases/{ref}#identity"' in waiting and "s 17 needs a second officer" in waiting
    # The officer who asked cannot confirm their own release: it is not theirs to do.
    assert 'data-count="identity-release"' not in ana.get("/console/").text
    assert post(carol_client, url + "/identity/1/confirm", url, confirm_passphrase=carol.passphrase).status_code == 303
    assert 'data-count="identity-release"' not in carol_client.get("/console/").text


def test_a_new_officer_waiting_to_be_confirmed_is_told_so_and_the_officers_see_it_in_what_needs_you(app, installation):
    admin = add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    client = app.test_client()
    sign_in(client, admin)
    page = post(client, "/console/admin/invitations", "/console/admin/", invite_email="bob@agency.govt.nz",
                display_name="Bob Real", invite_channel="Audit and Risk")
    [link] = re.findall(r'(/console/enrol/[A-Za-z0-9_-]+)<', page.text)
    disclose_to(app.test_client(), summary="Fuel cards used at weekends")
    newcomer = app.test_client()
    enrol(newcomer, link, "bob@agency.govt.nz", "Bob Real")
    empty = newcomer.get("/console/").text
    assert 'id="queue-empty">You are waiting to be confirmed' in empty
    ana = app.test_client()
    sign_in(ana, installation.officer)
    waiting = needs_you(ana.get("/console/").text)
    assert 'data-count="memberships"' in waiting and "1 person waiting to read one of your channels" in waiting
    # An officer confirmed in a channel with no case yet hears only that there is nothing yet.
    ben = app.test_client()
    sign_in(ben, installation.other_officer)
    assert 'id="queue-empty">There are no disclosures for you yet.' in ben.get("/console/").text


def test_column_headers_order_the_queue_by_get_links(app, installation):
    disclose_to(app.test_client(), summary="Fuel cards used at weekends")
    ana = app.test_client()
    sign_in(ana, installation.officer)
    page = ana.get("/console/", query_string={"status": "received"}).text
    heads = dict((sort, href.replace("&amp;", "&")) for href, sort in
                 re.findall(r'<th[^>]*>.*?<a href="([^"]+)" data-sort="([a-z]+)"', page, re.S))
    heads.update((sort, href.replace("&amp;", "&"))
                 for href, sort in re.findall(r'<a href="([^"]+)" data-sort="([a-z]+)"', page))
    assert set(heads) == {"attention", "deadline", "received", "activity"}
    assert heads["deadline"] == "/console/?status=received&sort=deadline"  # the filters are kept
    ordered = ana.get(heads["deadline"]).text
    assert re.search(r'<th scope="col" role="columnheader" aria-sort="ascending"><a [^>]*data-sort="deadline"', ordered)


def test_days_left_are_working_days_however_far_the_deadline(app, installation, today):
    today.set("2026-12-10")  # the deadline is 36 calendar days away, across the summer close
    disclose_to(app.test_client(), summary="Fuel cards used at weekends")
    ana, url = officer_on_case(app, installation.officer)
    case_page = ana.get(url).text
    working = re.search(r"(\d+) working days? left", case_page).group(1)
    row = re.search(r'<span class="days-left">(.*?)</span>', ana.get("/console/").text, re.S).group(1)
    assert working == "20" and row.strip() == "20 working days left"  # the case page's count, not 36 days
    today.set("2027-03-15")
    later = app.test_client()
    sign_in(later, installation.officer)
    late = re.search(r'<span class="days-left">(.*?)</span>', later.get("/console/").text, re.S).group(1)
    assert re.fullmatch(r"overdue by \d+ working days", late.strip())
