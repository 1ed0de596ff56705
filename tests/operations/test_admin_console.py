"""The administrators' console (issue 25): pages for channels, officers, invitations, offboarding and
settings with a sub-navigation between them, every action confirmed on the page it returns to, overdue
counts per channel, and no case content anywhere."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.conftest import MARKER, add_account
from tests.support import csrf_token, form_for
from tests.support.console import sign_in
from tests.support.workflow import disclose_to, today  # noqa: F401 (a fixture)

PAGES = ("/console/admin/", "/console/admin/officers", "/console/admin/invitations",
         "/console/admin/offboarding", "/console/admin/settings", "/console/admin/authorities")


@pytest.fixture
def admin(app, installation):
    person = add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client


def _post(client, page: str, action: str, **fields):
    """Send the form of `page` that posts to `action`, as a browser would, with `fields` filled in."""
    form = dict(form_for(client.get(page).text, action)["fields"]) | fields
    return client.post(action, data=form)


def _confirmed(client, response, text: str) -> str:
    """The redirect goes back to a page that shows `text` in its role="status" confirmation."""
    assert response.status_code == 303, response.text
    page = client.get(response.headers["Location"]).text
    [notice] = re.findall(r'<p class="notice" role="status" id="admin-notice">([^<]*)</p>', page)
    assert text in notice, notice
    return page


def _ids(html: str) -> Counter:
    return Counter(re.findall(r'\sid="([^"]+)"', html))


def test_every_page_has_the_sub_navigation_unique_ids_and_no_case_content(app, installation, admin):
    discloser = app.test_client()
    disclose_to(discloser, details=MARKER, summary="Title " + MARKER)
    ana = app.test_client()
    sign_in(ana, installation.officer)
    [ref] = re.findall(r'href="/console/cases/([^"/]+)"', ana.get("/console/").text)
    for path in PAGES:
        page = admin.get(path)
        assert page.status_code == 200, path
        nav = re.search(r'<nav class="subnav" aria-label="Administration">(.*?)</nav>', page.text, re.S).group(1)
        assert re.findall(r'href="([^"]+)"', nav) == list(PAGES)
        assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == [path]
        assert MARKER not in page.text and ref not in page.text, path
        assert [i for i, n in _ids(page.text).items() if n > 1] == [], path
        for target in re.findall(r'<label for="([^"]+)"', page.text):
            assert _ids(page.text)[target] == 1, (path, target)


def test_a_channel_added_is_confirmed_and_the_overdue_cases_are_counted_per_channel(app, installation, admin, today):
    today.set("2026-03-02")
    disclose_to(app.test_client())
    disclose_to(app.test_client(), channel="Procurement")
    disclose_to(app.test_client(), channel="Procurement")
    # Two months on, nothing acknowledged: every case is past its s 13 deadline.
    today.set("2026-05-04")
    page = _confirmed(admin, _post(admin, "/console/admin/", "/console/admin/channels", name="Finance"),
                      "The channel was added")
    counts = dict(re.findall(r'<tr data-channel="([^"]+)">.*?data-overdue="(\d+)"', page, re.S))
    assert counts == {"Audit and Risk": "1", "Procurement": "2", "Finance": "0"}


def test_the_officers_page_names_each_state(app, installation, admin):
    add_account(installation.data_dir, "officer", "cal@agency.govt.nz", "Cal Unset", ["Procurement"],
                complete_setup=False)
    invited = _post(admin, "/console/admin/invitations", "/console/admin/invitations",
                    invite_email="ivy@agency.govt.nz", display_name="Ivy Invited", invite_channel="Audit and Risk")
    assert invited.status_code == 200
    _confirmed(admin, _post(admin, "/console/admin/officers", "/console/admin/memberships",
                            officer=_option(admin, "Ben Other"), channel="Audit and Risk"),
               "once an officer who reads it confirms")
    page = admin.get("/console/admin/officers").text
    states = {name: state for state, name in re.findall(r'<tr data-state="([a-z_]+)"><td><bdi>([^<]+)</bdi>', page)}
    assert states == {"Ana Officer": "enrolled", "Ben Other": "waiting", "Cal Unset": "set_up",
                      "Ivy Invited": "invited"}
    for label in ("Enrolled", "Waiting for confirmation", "Not set up yet", "Invited"):
        assert f"<td>{label}</td>" in page


def _option(client, name: str) -> str:
    return re.search(rf'<option value="(\d+)">{name} &lt;', client.get("/console/admin/officers").text).group(1)


def _link(html: str) -> str:
    return re.search(r'<code id="enrolment-link">[^<]*(/console/enrol/[A-Za-z0-9_-]+)</code>', html).group(1)


def test_a_pending_invitation_can_be_sent_again_with_a_new_link_and_withdrawn(app, installation, admin):
    made = _post(admin, "/console/admin/invitations", "/console/admin/invitations",
                 invite_email="ivy@agency.govt.nz", display_name="Ivy Invited", invite_channel="Audit and Risk")
    first = _link(made.text)
    page = admin.get("/console/admin/invitations").text
    assert 'data-invitation="ivy@agency.govt.nz"' in page and "Audit and Risk" in page
    again = _post(admin, "/console/admin/invitations", "/console/admin/invitations/resend")
    assert again.status_code == 200 and 'role="status"' in again.text
    assert "The earlier link for ivy@agency.govt.nz no longer works" in again.text
    second = _link(again.text)
    assert second != first
    newcomer = app.test_client()
    assert newcomer.get(first).status_code == 404
    assert newcomer.get(second).status_code == 200
    _confirmed(admin, _post(admin, "/console/admin/invitations", "/console/admin/invitations/revoke"),
               "The invitation was withdrawn")
    assert newcomer.get(second).status_code == 404
    assert "No invitation is waiting." in admin.get("/console/admin/invitations").text
    # Sent twice (the same form again): nothing else is withdrawn, and it says so.
    assert admin.post("/console/admin/invitations/revoke", data={
        "csrf_token": csrf_token(page), "invitation": "1", "email": "ivy@agency.govt.nz"}).status_code == 400


def test_a_console_setting_is_saved_audited_and_confirmed_but_security_settings_are_not_offered(app, installation,
                                                                                                 admin):
    page = admin.get("/console/admin/settings").text
    assert re.findall(r'data-setting="([a-z_]+)"', page) == ["security_contact", "smtp_from", "smtp_port"]
    # Every other setting of `portal setting set` is a security setting: not offered, named in plain words.
    from portal.operations.admin_console import operator_settings
    assert {"officer_session_seconds", "pow_bits", "onion_address", "public_url", "smtp_password",
            "smtp_host", "smtp_starttls"} <= set(operator_settings())
    for security in operator_settings():
        assert security not in page
    assert "how long an officer's and a discloser's sessions last" in page
    form = next(f for f in _forms(page, "/console/admin/settings") if ("setting", "security_contact") in f)
    saved = admin.post("/console/admin/settings", data=dict(form) | {"value": "security@agency.govt.nz"})
    after = _confirmed(admin, saved, "Saved. It takes effect when the portal next starts")
    assert 'value="security@agency.govt.nz"' in after
    document = json.loads((installation.data_dir / "installation.json").read_text())
    assert document["security_contact"] == "security@agency.govt.nz"
    audit = admin.get("/console/audit").text
    assert "Setting changed" in audit
    # A security setting sent by hand is refused, and nothing is written.
    refused = admin.post("/console/admin/settings", data=dict(form) | {"setting": "officer_session_seconds",
                                                                        "value": "999999"})
    assert refused.status_code == 400 and "changed on the server" in refused.text
    wrong = admin.post("/console/admin/settings", data=dict(form) | {"setting": "smtp_port", "value": "port"})
    assert wrong.status_code == 400 and 'value="port"' in wrong.text
    document = json.loads((installation.data_dir / "installation.json").read_text())
    assert "officer_session_seconds" not in document and "smtp_port" not in document
    # CSRF-protected: the same change without the token is refused.
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post("/console/admin/settings", data={"setting": "smtp_from", "value": "x@y.nz"}).status_code in (
        400, 403)


def _forms(html: str, action: str) -> list[list[tuple[str, str]]]:
    from tests.support import page_forms
    return [f["fields"] for f in page_forms(html) if f["action"] == action]


def test_offboarding_waits_for_an_officers_signature_on_the_roster_page_then_happens(app, installation, admin):
    data_dir = installation.data_dir
    cleo = add_account(data_dir, "officer", "cleo@agency.govt.nz", "Cleo Leaving", ["Audit and Risk"])
    cleo_id = _option(admin, "Cleo Leaving")
    page = _confirmed(admin, _post(admin, "/console/admin/offboarding", "/console/admin/offboarding",
                                   leaver=cleo_id), "An officer of their channels signs")
    assert 'data-offboarding="cleo@agency.govt.nz"' in page
    assert 'data-state="offboarding"><td><bdi>Cleo Leaving' in admin.get("/console/admin/officers").text
    # Nothing has changed yet: Cleo still signs in.
    assert sign_in(app.test_client(), cleo).status_code == 303
    # An officer of another channel is not asked; Ana, of Cleo's channel, is, on her roster page.
    ben = app.test_client()
    sign_in(ben, installation.other_officer)
    assert "Sign the offboarding of Cleo Leaving" not in ben.get("/console/roster").text
    assert ben.post("/console/roster/sign", data={"csrf_token": csrf_token(ben.get("/console/roster").text),
                                                  "channel": "1", "officer": cleo_id, "kind": "offboard",
                                                  "confirm_passphrase": installation.other_officer.passphrase}
                    ).status_code == 404
    ana = app.test_client()
    sign_in(ana, installation.officer)
    # Her inbox tells her, as it tells of every membership change of her channels, and lists it in
    # "What needs you" with a link to where she signs it; Ben's does not.
    inbox = ana.get("/console/").text
    assert "to be offboarded: waiting for an officer of the channel to sign" in inbox
    needs_you = re.search(r'<h2 id="needs-you">(.*?)</section>', inbox, re.S).group(1)
    [(link, words)] = re.findall(r'<li data-count="offboarding"><a href="([^"]+)">([^<]*<bdi>[^<]*</bdi>)', needs_you)
    assert link == f"/console/roster#offboard-{cleo_id}" and words.endswith("<bdi>Cleo Leaving</bdi>")
    assert f'id="offboard-{cleo_id}"' in ana.get(link.split("#")[0]).text
    assert 'data-count="offboarding"' not in ben.get("/console/").text
    roster = ana.get("/console/roster").text
    assert "Sign the offboarding of Cleo Leaving" in roster
    # The passphrase again first (it destroys Cleo's key for good): asked, and nothing done yet.
    fields = dict(form_for(roster, "/console/roster/sign")["fields"]) | {"kind": "offboard", "officer": cleo_id}
    asked = ana.post("/console/roster/sign", data=fields)
    assert asked.status_code == 200 and 'name="confirm_passphrase"' in asked.text
    wrong = ana.post("/console/roster/sign", data=fields | {"csrf_token": csrf_token(asked.text),
                                                           "confirm_passphrase": "not it"})
    assert wrong.status_code == 400 and "Nothing was done yet" in wrong.text
    assert sign_in(app.test_client(), cleo).status_code == 303  # still an officer
    signed = ana.post("/console/roster/sign", data=fields | {"csrf_token": csrf_token(asked.text),
                                                            "confirm_passphrase": installation.officer.passphrase})
    assert signed.status_code == 303
    after = ana.get(signed.headers["Location"]).text
    assert "Signed. The officer is offboarded" in after and 'role="status"' in after
    # True of a channel whose roster was never started too (the demo's): "is in the roster" was not.
    assert "signed into the roster of each of their channels that has one" in after
    assert 'data-count="offboarding"' not in ana.get("/console/").text  # nothing waits any more
    # Her removal was signed into the roster with it: nothing is left to sign for her.
    assert "Cleo Leaving" not in re.sub(r'<section class="roster".*', "", after, flags=re.S)
    assert 'data-state="offboarded"><td><bdi>Cleo Leaving' in admin.get("/console/admin/officers").text
    assert "Nothing is waiting." in admin.get("/console/admin/offboarding").text
    assert sign_in(app.test_client(), cleo).status_code != 303


def test_an_offboarding_request_can_be_withdrawn_and_needs_a_fellow_officer(app, installation, admin):
    ben_id = _option(admin, "Ben Other")
    # Ben is Procurement's only officer: nobody could sign, so it is refused with the way that remains.
    refused = _post(admin, "/console/admin/offboarding", "/console/admin/offboarding", leaver=ben_id)
    assert refused.status_code == 400 and "portal officer offboard" in refused.text
    add_account(installation.data_dir, "officer", "cleo@agency.govt.nz", "Cleo Leaving", ["Audit and Risk"])
    _post(admin, "/console/admin/offboarding", "/console/admin/offboarding", leaver=_option(admin, "Cleo Leaving"))
    _confirmed(admin, _post(admin, "/console/admin/offboarding", "/console/admin/offboarding/withdraw"),
               "The request to offboard was withdrawn")
    ana = app.test_client()
    sign_in(ana, installation.officer)
    assert "Sign the offboarding" not in ana.get("/console/roster").text


def test_membership_changes_return_to_the_officers_page_confirmed(app, installation, admin):
    # Asked from the channels page (CONTRACT.md names the form there), shown on the officers page.
    asked = _post(admin, "/console/admin/", "/console/admin/memberships", officer=_option(admin, "Ben Other"),
                  channel="Audit and Risk")
    assert asked.headers["Location"].startswith("/console/admin/officers")
    page = _confirmed(admin, asked, "once an officer who reads it confirms")
    assert 'data-state="waiting"><td><bdi>Ben Other' in page
    _confirmed(admin, _post(admin, "/console/admin/officers", "/console/admin/memberships/remove",
                            member=_option(admin, "Ben Other"), from_channel="Audit and Risk"),
               "no longer reads the channel")


def test_a_change_to_the_directory_of_authorities_is_confirmed(app, installation, admin):
    _confirmed(admin, _post(admin, "/console/admin/authorities", "/console/admin/authorities",
                            name="Office of the Ombudsman (demo)", covers="Public bodies", source="Added in a test"),
               "The directory of appropriate authorities was changed")


def test_signing_an_offboarding_is_refused_while_a_case_could_be_read_by_nobody_else(app, installation, admin):
    from tests.support import disclosure_fields, post_multipart
    add_account(installation.data_dir, "officer", "cleo@agency.govt.nz", "Cleo Leaving", ["Audit and Risk"])
    discloser = app.test_client()
    form = discloser.get("/disclose").text
    ana_id = re.search(r'value="(\d+)"> ?<label for="exclude-\d+">Ana Officer<', form).group(1)
    # The discloser excluded Ana (a conflict of interest): only Cleo reads this case.
    sent = post_multipart(discloser, "/disclose", disclosure_fields(csrf_token(form), "Only for Cleo.") +
                          [("exclude", ana_id)])
    assert sent.status_code == 200
    cleo_id = _option(admin, "Cleo Leaving")
    _post(admin, "/console/admin/offboarding", "/console/admin/offboarding", leaver=cleo_id)
    ana = app.test_client()
    sign_in(ana, installation.officer)
    roster = ana.get("/console/roster").text
    refused = ana.post("/console/roster/sign", data=dict(form_for(roster, "/console/roster/sign")["fields"]) | {
        "kind": "offboard", "officer": cleo_id, "confirm_passphrase": installation.officer.passphrase})
    assert refused.status_code == 400 and "is the only officer who can read 1 case" in refused.text
    assert 'data-offboarding="cleo@agency.govt.nz"' in admin.get("/console/admin/offboarding").text
