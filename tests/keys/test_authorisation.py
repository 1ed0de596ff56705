"""Who may do what: every route of the app, taken from its own URL map, called as every role, each answer
checked against the table below. A route added without a row here fails `test_every_route_has_a_row`.

Roles:
- anonymous: a browser with no cookies;
- discloser: a browser that made the disclosure but has no status session open;
- discloser_status: the same discloser with the case's status session open;
- officer: an officer of the case's channel (holds its key);
- other_officer: an officer of another channel;
- late_officer: an officer whom an administrator asked to add to the case's channel, a membership still
  pending (no officer of the channel has confirmed it), so no key;
- admin: an administrator;
- excluded: an officer of the case's channel whom the discloser excluded (conflict of interest): no key,
  so the same answers as an officer of another channel.

Each cell is the expected status code, or (code, text) where the text must appear in the answer: in the
Location header of a redirect, else in the body. CSRF is switched off here: it is checked by its own tests;
this table is about who, not about forms.
"""
from __future__ import annotations

import re

import pytest

from tests.conftest import add_account, run_cli
from tests.support import disclosure_fields, post_multipart, receipt_from
from tests.support.console import ATTACHMENT

ROLES = ("anonymous", "discloser", "discloser_status", "officer", "other_officer", "late_officer", "admin", "excluded")

LOGIN = (303, "/console/login")
HIDDEN = 404
CONFIRM = (200, 'name="confirm_passphrase"')


def everyone(expected):
    return {role: expected for role in ROLES}


def console(officer, *, admin=HIDDEN, signed_out=LOGIN, others=None):
    """A console route: signed-out roles get `signed_out`; `others` for officers of other channels."""
    others = HIDDEN if others is None else others
    return {"anonymous": signed_out, "discloser": signed_out, "discloser_status": signed_out, "officer": officer,
            "other_officer": others, "late_officer": others, "admin": admin, "excluded": others}


TABLE: dict[tuple[str, str], dict] = {
    ("static", "GET"): everyone(200),
    ("discloser.security_txt", "GET"): everyone((200, "Contact: mailto:security@agency.govt.nz")),
    ("discloser.index", "GET"): everyone(200),
    # Sets the `lang` cookie alone and goes back (portal.web.languages): anyone may.
    ("languages.choose", "GET"): everyone((303, "/")),
    ("discloser.disclose_form", "GET"): everyone(200),
    ("discloser.disclose_post", "POST"): everyone((200, 'id="receipt"')),
    ("discloser.confirm_receipt", "POST"): everyone(200),
    # Sealed in the browser (issue 27): JSON only; the form body every role sends here is plaintext,
    # refused unread, before the token or the session is looked at.
    ("discloser.sealed_setup", "GET"): everyone((200, '"csrf_token"')),
    ("discloser.sealed_disclose", "POST"): everyone((400, '"plaintext"')),
    ("discloser.sealed_received", "GET"): everyone((404, '"not-found"')),
    ("discloser.sealed_status_setup", "GET"): everyone((200, '"csrf_token"')),
    ("discloser.sealed_roots", "GET"): everyone((200, '"roots"')),
    # Not signed in this world: 404 for all alike (signed: tests/operations/test_demo_team.py).
    ("discloser.sealed_bundle_file", "GET"): everyone(HIDDEN),
    ("discloser.sealed_status", "POST"): everyone((400, '"plaintext"')),
    ("discloser.sealed_reply", "POST"): everyone((400, '"plaintext"')),
    ("discloser.sealed_upload_begin", "POST"): everyone((400, '"plaintext"')),
    # An upload is its page's session's alone: nobody else learns whether it exists.
    ("discloser.sealed_upload_state", "GET"): everyone((404, '"not-found"')),
    ("discloser.sealed_upload_part", "PUT"): everyone((404, '"not-found"')),
    ("discloser.sealed_upload_rebind", "POST"): everyone((400, '"plaintext"')),
    # Only within a keyless status session (a check with script), which no role here has.
    ("discloser.sealed_attachment", "GET"): everyone((404, '"not-found"')),
    ("discloser.status", "GET"): {**everyone((200, 'name="receipt"')), "discloser_status": (200, 'id="case-status"')},
    # A wrong (well-formed) receipt: the same answer whoever asks.
    ("discloser.status_post", "POST"): everyone((400, "We could not open a disclosure with that code")),
    ("discloser.status_messages", "GET"): everyone((303, "/status#thread")),
    ("discloser.status_reply", "POST"): {**everyone(401), "discloser_status": (303, "/status")},
    ("discloser.status_logout", "POST"): everyone((303, "/status/signed-out")),
    ("discloser.hand_over_original", "POST"): {**everyone((303, "/status")), "discloser_status": 404},
    ("discloser.signed_out", "GET"): everyone(200),
    # Not acknowledged yet in this world: nothing signed to give; without a status session, the status page.
    ("discloser.acknowledgement", "GET"): {**everyone((303, "/status")),
                                           "discloser_status": (404, "has not been acknowledged yet")},
    # The printable proof: within a status session, once acknowledged (not yet in this world).
    ("discloser.proof", "GET"): {**everyone((303, "/status")), "discloser_status": (404, "has not been acknowledged yet")},
    ("discloser.verify", "GET"): everyone((200, 'id="proof-file"')),
    ("discloser.verify_download", "GET"): everyone((200, "Check a proof of disclosure")),
    ("discloser.signing_key", "GET"): everyone((200, 'id="signing-key"')),
    ("discloser.keys", "GET"): everyone((200, 'id="roster-roots"')),
    ("console.login", "GET"): everyone(200),
    ("console.login_post", "POST"): everyone((400, "Those details did not work")),
    ("console.logout", "POST"): everyone(LOGIN),
    # Without the passphrase field: the step that asks for it, never the action itself.
    # (The late officer's sessions were ended by their removal from a channel, which runs just before.)
    ("console.sign_out_everywhere", "POST"): {**console(CONFIRM, admin=CONFIRM, others=CONFIRM),
                                              "late_officer": (303, "/console/login")},
    ("console.inbox", "GET"): console((200, "Disclosures you can read"), admin=(303, "/console/admin/"),
                                      others=(200, "Disclosures you can read")),
    ("console.case", "GET"): console((200, "Payments to a director")),
    # Searching by words (issue 25): each officer searches their own cases only; not for administrators.
    ("console.search_cases", "POST"): console((200, "Search your cases"), admin=HIDDEN,
                                              others=(200, "Search your cases")),
    # Saved views: each officer's own. The officer's view (saved by the row above, so view 1) is removed by
    # them and is 404 for anyone else, as a view that does not exist.
    ("console.save_view", "POST"): console((303, "notice=view-saved"), admin=HIDDEN,
                                           others=(303, "notice=view-saved")),
    ("console.remove_view", "POST"): console((303, "notice=view-removed"), admin=HIDDEN, others=HIDDEN),
    # Without `before`: back to the case page (which answers for itself).
    ("console.case_messages", "GET"): console((303, "#thread")),
    ("console.attachment", "GET"): console((200, "<svg onload")),
    # [hidden details] Any file may be checked again into a clean copy (this one is of no kind the
    # checks read: no copy, and the case page says so); no original was kept in this world.
    ("console.clean_copy", "POST"): console((303, "copy=unknown")),
    ("console.original", "GET"): console(HIDDEN),
    ("console.case_reply", "POST"): console((303, "done=reply")),
    ("console.case_acknowledge", "POST"): console((303, "done=acknowledged")),
    ("console.case_status", "POST"): console(303),
    ("console.case_step", "POST"): console(303),
    ("console.case_extension", "POST"): console(303),
    ("console.case_assign", "POST"): console(303),
    ("console.case_note", "POST"): console((303, "done=note")),
    ("console.case_referral", "POST"): console((303, "done=referral")),
    # Referral to another member organisation exists only in a service (tests/service/test_member_referrals.py).
    ("console.case_member_referral", "POST"): console(HIDDEN),
    # Closing many cases at once (s 15): every officer sees their own queue's view; a batch without a reason
    # closes nothing, before any case is looked up (closing and refusing are in tests/casework/test_bulk_close.py).
    ("console.bulk_close_page", "GET"): console((200, "Close several cases"), others=(200, "Close several cases")),
    ("console.bulk_close_post", "POST"): console((400, "Nothing was closed"), others=(400, "Nothing was closed")),
    ("console.interests", "GET"): console((200, "Your declared interests"), others=(200, "Your declared interests")),
    ("console.declare_interest", "POST"): console((303, "/console/interests"), others=(303, "/console/interests")),
    # Only the officer's own declaration: the officer who made it succeeds, anyone else gets 404.
    ("console.remove_interest", "POST"): console((303, "/console/interests")),
    ("admin.overview", "GET"): console(HIDDEN, admin=(200, "<h1>Channels</h1>"), others=HIDDEN),
    # The administrators' console (issue 25): a page each, and actions that refuse an empty form.
    ("admin.officers", "GET"): console(HIDDEN, admin=(200, "<h1>Officers</h1>"), others=HIDDEN),
    ("admin.invitations_page", "GET"): console(HIDDEN, admin=(200, "<h1>Invitations</h1>"), others=HIDDEN),
    ("admin.revoke_invitation", "POST"): console(HIDDEN, admin=(400, "nothing was changed"), others=HIDDEN),
    ("admin.resend_invitation", "POST"): console(HIDDEN, admin=(400, "nothing was changed"), others=HIDDEN),
    ("admin.offboarding_page", "GET"): console(HIDDEN, admin=(200, "<h1>Offboarding</h1>"), others=HIDDEN),
    ("admin.propose_offboarding", "POST"): console(HIDDEN, admin=(400, "Nothing was asked"), others=HIDDEN),
    ("admin.withdraw_offboarding", "POST"): console(HIDDEN, admin=(400, "nothing was changed"), others=HIDDEN),
    ("admin.settings", "GET"): console(HIDDEN, admin=(200, "<h1>Settings</h1>"), others=HIDDEN),
    ("admin.change_setting", "POST"): console(HIDDEN, admin=(400, "Nothing was saved"), others=HIDDEN),
    ("admin.add_channel", "POST"): console(HIDDEN, admin=(303, "/console/admin/"), others=HIDDEN),
    ("admin.add_membership", "POST"): console(HIDDEN, admin=(303, "/console/admin/"), others=HIDDEN),
    ("admin.authorities", "GET"): console(HIDDEN, admin=(200, "<h1>Appropriate authorities</h1>"), others=HIDDEN),
    ("admin.edit_authority", "GET"): console(HIDDEN, admin=(200, "Change Commerce Commission"), others=HIDDEN),
    ("admin.add_authority", "POST"): console(HIDDEN, admin=(303, "/console/admin/authorities"), others=HIDDEN),
    ("admin.change_authority", "POST"): console(HIDDEN, admin=(303, "/console/admin/authorities"), others=HIDDEN),
    ("admin.remove_authority", "POST"): console(HIDDEN, admin=(303, "/console/admin/authorities"), others=HIDDEN),
    # An authority's contact, as disclosers are given it (issue 25): the administrator's alone.
    ("admin.authority_contact", "GET"): console(HIDDEN, admin=(200, "The contact of the Commerce Commission"), others=HIDDEN),
    ("admin.change_authority_contact", "POST"): console(
        HIDDEN, admin=(303, "/console/admin/authorities?notice=contact-changed"), others=HIDDEN),
    ("admin.restore_authority_contact", "POST"): console(
        HIDDEN, admin=(303, "/console/admin/authorities?notice=contact-shipped"), others=HIDDEN),
    # Enrolment: a live link opens for anyone but a signed-in administrator; set-up pages need a set-up session.
    ("enrol.enrol", "GET"): {**everyone((200, "Set up your account")), "admin": (403, "administrator cannot set up")},
    ("enrol.enrol_post", "POST"): {**everyone((400, "not the same")), "admin": (403, "administrator cannot set up")},
    ("enrol.setup_passphrase", "GET"): everyone(LOGIN),
    ("enrol.setup_passphrase_post", "POST"): everyone(LOGIN),
    ("enrol.setup_second_factor", "GET"): everyone(LOGIN),
    ("enrol.second_factor_post", "POST"): everyone(LOGIN),
    # Every account's own credentials, administrators' too.
    ("enrol.account", "GET"): console((200, "Your account"), admin=(200, "Your account"), others=(200, "Your account")),
    ("enrol.daily_reminder", "POST"): console((303, "/console/account"), admin=(303, "/console/account"),
                                              others=(303, "/console/account")),
    ("enrol.change_passphrase", "POST"): console((400, "not changed"), admin=(400, "not changed"),
                                                 others=(400, "not changed")),
    ("enrol.start_second_factor", "POST"): console((400, "Nothing was changed"), admin=(400, "Nothing was changed"),
                                                   others=(400, "Nothing was changed")),
    ("enrol.confirm_second_factor", "POST"): console((400, "not changed"), admin=(400, "not changed"),
                                                     others=(400, "not changed")),
    # An officer's own keys (portal.web.keys.own_keys): officers only, never an administrator (who holds no case key).
    ("own_keys.replace_keys", "GET"): console((200, "Replace my keys"), others=(200, "Replace my keys")),
    ("own_keys.replace_keys_post", "POST"): console((400, "not replaced"), others=(400, "not replaced")),
    ("own_keys.resume_rotation", "POST"): console((400, "not carried on"), others=(400, "not carried on")),
    # No recovery key waits for Audit and Risk, and it has none to seal to: nothing for anyone to do.
    ("own_keys.decide_recovery_key", "POST"): console(HIDDEN),
    ("own_keys.seal_recovery", "POST"): console(HIDDEN),
    ("enrol.memberships_page", "GET"): console((200, "Who reads your channels"), others=(200, "Who reads your channels")),
    # Refusing Lou's pending membership: only a reader of the channel may, once; the pending officer never.
    ("enrol.decide_membership", "POST"): console((303, "/console/memberships")),
    # No channel moves here from another organisation: nothing to confirm for anyone (the move's
    # confirmation is in tests/service/test_channel_moves.py).
    ("enrol.confirm_arrival", "POST"): console(HIDDEN),
    ("roster.roster_page", "GET"): console((200, "The signed roster of your channels"),
                                           others=(200, "The signed roster of your channels")),
    # Signing what is not pending (Ben is no member of Audit and Risk): nobody can; success is in
    # tests/keys/test_roster.py.
    ("roster.sign", "POST"): console(HIDDEN),
    ("admin.invite", "POST"): console(HIDDEN, admin=(200, 'id="enrolment-link"'), others=HIDDEN),
    ("admin.remove_membership", "POST"): console(HIDDEN, admin=(303, "/console/admin/"), others=HIDDEN),
    ("audit_log.entries", "GET"): console((200, "Audit log"), admin=(200, "Audit log"), others=(200, "Audit log")),
    ("audit_log.export", "POST"): console(CONFIRM, admin=CONFIRM, others=CONFIRM),
    # s 17: the passphrase is asked before anything is looked up, so the same page for every officer.
    ("confidentiality.release", "POST"): console(CONFIRM, others=CONFIRM),
    ("confidentiality.confirm", "POST"): console(CONFIRM, others=CONFIRM),
    ("confidentiality.export", "POST"): console(CONFIRM, others=CONFIRM),
    # No consent question was asked in this world.
    ("confidentiality.consent", "POST"): {**everyone((303, "/status")),
                                          "discloser_status": (400, "already been answered")},
    # Oral disclosures: any officer may record one for their own channels (an empty form here: refused).
    ("oral.record_form", "GET"): console((200, 'name="details"'), others=(200, 'name="details"')),
    ("oral.record", "POST"): console((400, "was not recorded"), others=(400, "was not recorded")),
    ("oral.confirm", "POST"): console((400, "was not made orally")),
    ("case_record.record", "GET"): console((200, 'id="printed-by"')),
    # Grants: every officer sees the form (for their own channels); the passphrase is asked before anything
    # is looked up, so the same page for every officer.
    ("access.page", "GET"): console((200, "Give another officer access"), others=(200, "Give another officer access")),
    ("access.grant", "POST"): console(CONFIRM, others=CONFIRM),
    # Each officer counts the cases they can read; administrators read none.
    ("statistics.page", "GET"): console((200, 'id="cases-received"'), others=(200, 'id="cases-received"')),
    ("statistics.export", "GET"): console((200, "period_from"), others=(200, "period_from")),
    # Retention: officers only; a case one does not read is the same 404 as none. The case here is open,
    # so asking for its deletion is refused with the reason; a hold works on any case (then lifted).
    ("retention.overview", "GET"): console((200, "Retention and legal holds"),
                                           others=(200, "Retention and legal holds")),
    ("retention.place_hold", "POST"): console((303, "/console/retention/")),
    ("retention.release_hold", "POST"): console((303, "/console/retention/")),
    ("retention.request_deletion", "POST"): console((409, "Only a closed case")),
    # Only the deletions the signed-in officer confirmed: nothing of anyone else's.
    ("retention.carry_on", "POST"): console((303, "/console/retention/"), others=(303, "/console/retention/")),
    ("retention.withdraw", "POST"): console((409, "No deletion of this case has been requested")),
    ("retention.confirm_deletion", "POST"): console(CONFIRM, others=CONFIRM),
}

# Calls that end the caller's session go last, so that they do not change the other answers.
# Removing the late officer from a channel ends their sessions too (issue 16): it comes first of these.
LAST = ("admin.remove_membership", "console.sign_out_everywhere", "console.logout", "discloser.status_logout")


@pytest.fixture
def world(app, installation):
    data_dir = installation.data_dir
    run_cli(data_dir, "setting", "set", "security_contact", "security@agency.govt.nz")
    run_cli(data_dir, "channel", "add", "Finance")
    admin = add_account(data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    late = add_account(data_dir, "officer", "lou@agency.govt.nz", "Lou Late", ["Procurement"])
    eve = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve Excluded", ["Audit and Risk"])

    from portal.web.app import create_app
    app = create_app(data_dir)  # read the security contact just set
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    discloser = app.test_client()
    eve_id = re.search(r'value="(\d+)"> ?<label for="exclude-\d+">Eve Excluded<', discloser.get("/disclose").text).group(1)
    page = post_multipart(discloser, "/disclose", disclosure_fields("", "What I saw.") + [("exclude", eve_id)],
                          [("attachments", "minutes.pdf", ATTACHMENT)])
    receipt = receipt_from(page.text)
    status_client = app.test_client()
    status_client.get("/status")  # [flood] the form page brings its no-script ticket
    status_client.post("/status", data={"receipt": receipt})

    clients = {"anonymous": app.test_client(), "discloser": discloser, "discloser_status": status_client}
    for role, person in (("officer", installation.officer), ("other_officer", installation.other_officer),
                         ("late_officer", late), ("admin", admin), ("excluded", eve)):
        clients[role] = app.test_client()
        response = clients[role].post("/console/login", data={"email": person.email, "passphrase": person.passphrase,
                                                              "totp": person.code()})
        assert response.status_code == 303, role
    admin_page = clients["admin"].get("/console/admin/officers").text
    lou_id = re.search(r'<option value="(\d+)">Lou Late', admin_page).group(1)
    assert clients["admin"].post("/console/admin/memberships",
                                 data={"officer": lou_id, "channel": "Audit and Risk"}).status_code == 303
    inbox = clients["officer"].get("/console/").text
    ref = re.search(r'href="/console/cases/([^"/]+)"', inbox).group(1)
    case_page = clients["officer"].get(f"/console/cases/{ref}").text
    attachment_id = re.search(r'/attachments/([^"]+)"', case_page).group(1)
    ben_id = re.search(r'<option value="(\d+)">Ben Other', admin_page).group(1)
    directory = clients["admin"].get("/console/admin/authorities").text
    commerce = re.search(r'data-authority="(\d+)"><h3>Commerce Commission[ <]', directory).group(1)
    spare = re.search(r'data-authority="(\d+)"><h3>Electoral Commission[ <]', directory).group(1)
    assert clients["officer"].post("/console/interests", data={"interest": "A cousin in Finance."}).status_code == 303
    interest_id = re.search(r'data-interest="(\d+)"', clients["officer"].get("/console/interests").text).group(1)
    audit_id = re.search(r'name="channel" value="(\d+)"', clients["officer"].get("/console/memberships").text).group(1)
    token = re.search(r"/console/enrol/(\S+)", run_cli(data_dir, "officer", "invite", "--email", "new@agency.govt.nz",
                                                       "--name", "Nell New", "--channel", "Finance").output).group(1)
    return {"app": app, "clients": clients, "ref": ref, "attachment_id": attachment_id, "ben_id": ben_id,
            "receipt": receipt, "authority_id": commerce, "spare_authority_id": spare, "interest_id": interest_id,
            "lou_id": lou_id, "audit_channel_id": audit_id, "token": token,
            "people": {"officer": installation.officer, "other_officer": installation.other_officer,
                       "late_officer": late, "admin": admin, "excluded": eve}}


def _request(world, endpoint: str, method: str, rule) -> tuple[str, dict]:
    """The URL and the form for one call: a well-formed request that an allowed role would succeed with."""
    values = {"ref": world["ref"], "attachment_id": world["attachment_id"], "filename": "portal.css",
              "authority_id": world["spare_authority_id" if endpoint == "admin.remove_authority" else "authority_id"],
              "interest_id": world["interest_id"], "seq": 1, "view_id": 1, "token": world["token"],
              "original_id": "0" * 32, "upload_id": "0" * 32, "n": 0, "code": "en",
              "name": "release-key.json"}
    path = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
    forms = {
        "discloser.confirm_receipt": {"receipt": world["receipt"], "expected": world["receipt"]},
        "discloser.status_post": {"receipt": "GJET-6E55-502R-48AS-DB"},
        "discloser.status_reply": None,  # multipart, below
        "discloser.sealed_disclose": {"details": "Typed in clear."},
        "discloser.sealed_status": {"receipt": "GJET-6E55-502R-48AS-DB"},
        "discloser.sealed_reply": {"message": "Typed in clear."},
        "discloser.sealed_upload_begin": {"details": "Typed in clear."},
        "discloser.sealed_upload_rebind": {"details": "Typed in clear."},
        "console.login_post": {"email": "nobody@agency.govt.nz", "passphrase": "not a passphrase", "totp": "123456"},
        "console.case_reply": {"message": "We are looking into it."},
        "console.case_acknowledge": {"message": "We have your disclosure."},
        "console.case_status": {"status": "assessing", "reason": "", "expected_timeframe": ""},
        "console.case_step": {"step": "inform"},
        "console.bulk_close_post": {"case": world["ref"], "reason": ""},
        "console.search_cases": {"words": "director"},
        "console.save_view": {"view_name": "New cases", "status": "received"},
        "console.case_extension": {"expected_timeframe": "About six more weeks", "update_every": "20"},
        "console.case_assign": {"officer": ""},
        "console.declare_interest": {"interest": "A side business."},
        "confidentiality.release": {"recipient": "NZ Police", "ground": "investigation", "reason": "Fraud."},
        "confidentiality.consent": {"request": "1", "answer": "yes"},
        "console.case_note": {"note": "Checked the ledger."},
        "console.case_referral": {"authority": "Director of the Serious Fraud Office", "concerns": "general",
                                  "consultation": "consulted", "reason": "Bribery."},
        "admin.add_channel": {"name": "A channel", "description": ""},
        "admin.add_authority": {"covers": "Something", "source": "Added in a test"},
        "admin.change_authority": {"name": "Commerce Commission", "covers": "Competition", "source": "Schedule 2"},
        "admin.change_authority_contact": {"website": "https://comcom.govt.nz", "checked": "y"},
        "admin.remove_authority": {"confirm": "yes"},  # past the page that asks first
        "admin.add_membership": {"officer": world["ben_id"], "channel": "Audit and Risk"},
        "enrol.enrol_post": {"passphrase": "violet harbour engine quietly", "passphrase_again": "something else"},
        "enrol.confirm_arrival": {"move": "0123456789abcdef", "roster_head": "0123456789abcdef"},
        "enrol.decide_membership": {"channel": world["audit_channel_id"], "officer": world["lou_id"],
                                    "decision": "refuse"},
        "admin.remove_membership": {"member": world["lou_id"], "from_channel": "Procurement"},
        "roster.sign": {"channel": world["audit_channel_id"], "officer": world["ben_id"], "kind": "admit"},
        "own_keys.decide_recovery_key": {"channel": world["audit_channel_id"], "fingerprint": "AAAA-AAAA-AAAA-AAAA-AAAA",
                                         "decision": "confirm"},
        "own_keys.seal_recovery": {"channel": world["audit_channel_id"]},
        "retention.place_hold": {"ref": world["ref"]},
        "oral.confirm": {"understanding": "We understand that invoices were paid twice."},
    }
    return path, forms.get(endpoint, {})


def _call(client, world, endpoint: str, method: str, rule, role: str):
    path, form = _request(world, endpoint, method, rule)
    if method == "GET":
        return client.get(path)
    if method == "PUT":
        return client.put(path, data=b"a part", content_type="application/octet-stream")
    if endpoint in ("discloser.disclose_post", "discloser.status_reply"):
        fields = (disclosure_fields("", f"Seen by {role}.") if endpoint == "discloser.disclose_post"
                  else [("message", f"More from {role}.")])
        return post_multipart(client, path, fields)
    if endpoint == "admin.add_channel":
        form = {**form, "name": f"Channel made as {role}"}
    if endpoint == "admin.add_authority":
        form = {**form, "name": f"Authority made as {role}"}
    if endpoint == "admin.invite":
        form = {"invite_email": f"invited-{role}@agency.govt.nz", "display_name": f"Invited {role}", "invite_channel": "Audit and Risk"}
    if endpoint == "console.login_post":
        # One failed sign-in per address: several to one address would pause it (portal.guard.sign_in_budget).
        form = {**form, "email": f"nobody-{role}@agency.govt.nz"}
    return client.post(path, data=form)


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule


def test_every_route_has_a_row(app):
    routes = {(endpoint, method) for endpoint, method, _ in _routes(app)}
    assert routes - set(TABLE) == set(), "routes without a row in the authorisation table"
    assert set(TABLE) - routes == set(), "rows for routes that no longer exist"
    assert all(set(row) == set(ROLES) for row in TABLE.values())


def test_every_route_answers_every_role_as_the_table_says(world):
    app, clients = world["app"], world["clients"]
    routes = sorted(_routes(app), key=lambda r: (r[0] in LAST, LAST.index(r[0]) if r[0] in LAST else 0))
    wrong = []
    for endpoint, method, rule in routes:
        for role in ROLES:
            expected = TABLE[(endpoint, method)][role]
            code, text = expected if isinstance(expected, tuple) else (expected, None)
            response = _call(clients[role], world, endpoint, method, rule, role)
            where = (response.headers.get("Location", "") if 300 <= response.status_code < 400
                     else response.get_data().decode("utf-8", errors="replace"))
            if response.status_code != code or (text and text not in where):
                wrong.append(f"{method} {endpoint} as {role}: got {response.status_code} "
                             f"{where[:80] if 300 <= response.status_code < 400 else ''}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    # And the calls that end sessions did end them.
    assert clients["officer"].get("/console/").status_code == 303
    assert 'id="case-status"' not in clients["discloser_status"].get("/status").text


def test_with_the_right_passphrase_the_weighty_actions_still_refuse_the_wrong_roles(world):
    """The table above stops at the step that asks the passphrase again; past it, with each role's own
    right passphrase, a case's release, export, grant and deletion are still refused to everyone who may
    not read the case, and nothing is done."""
    app, clients = world["app"], world["clients"]
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    for endpoint in ("confidentiality.release", "confidentiality.confirm", "confidentiality.export",
                     "access.grant", "retention.confirm_deletion"):
        path, form = _request(world, endpoint, "POST", rules[endpoint])
        for role in ("other_officer", "late_officer", "excluded", "admin"):
            response = clients[role].post(path, data={**form, "confirm_passphrase": world["people"][role].passphrase})
            assert response.status_code in (400, 404), (endpoint, role, response.status_code)
            assert "attachment" not in response.headers.get("Content-Disposition", ""), (endpoint, role)
            assert 'name="confirm_passphrase"' not in response.get_data(as_text=True), (endpoint, role)
    # The case is untouched: its reader still reads it, with no release made and no grant given.
    page = clients["officer"].get(f"/console/cases/{world['ref']}").text
    assert "data-release=" not in page
