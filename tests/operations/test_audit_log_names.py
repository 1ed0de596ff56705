"""The audit log names what an entry is about (issue 25, review L5): a directory entry by its name,
never "directory entry: 6"; a count of channels as a count ("for 1 channel"), not "channels: 1",
which reads as an id. Over HTTP."""
from __future__ import annotations

import re

from portal.core.context import open_context
from portal.records import audit
from tests.conftest import add_account
from tests.support import csrf_token, form_for
from tests.support.console import sign_in
from tests.support.workflow import post


def _log(client) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", client.get("/console/audit").text).split())


def test_directory_changes_name_the_entry_and_an_invitation_counts_its_channels(app, installation):
    admin = app.test_client()
    assert sign_in(admin, add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
                   ).status_code == 303
    assert post(admin, "/console/admin/authorities", name="Ministry for the Environment",
                covers="Environmental regulation", source="Added by us").status_code == 303
    page = admin.get("/console/admin/authorities").text
    [entry] = re.findall(r'data-authority="([0-9]+)"><h3>Ministry for the Environment', page)
    police = re.search(r'data-authority="([0-9]+)"><h3>Commissioner of Police', page).group(1)
    token = csrf_token(page)
    assert admin.post(f"/console/admin/authorities/{entry}/remove", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    # An entry as the portal recorded them before: its number alone.
    ctx = open_context(installation.data_dir)
    audit.record(ctx, "authority_change", actor=None, detail={"authority_id": int(police)})
    audit.record(ctx, "authority_change", actor=None, detail={"authority_id": 99999})
    ctx.db.conn.commit()
    assert post(admin, "/console/admin/invitations", "/console/admin/", invite_email="fay@agency.govt.nz",
                display_name="Fay Invited", invite_channel="Audit and Risk").status_code == 200

    log = _log(admin)
    assert "directory entry" not in log
    assert "authority: Ministry for the Environment" in log
    assert "authority: Ministry for the Environment, removed: yes" in log
    assert "authority: Commissioner of Police" in log and "an entry since removed" in log
    assert "for 1 channel" in log and "channels: 1" not in log


def test_removing_a_directory_entry_asks_first(app, installation):
    admin = app.test_client()
    assert sign_in(admin, add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
                   ).status_code == 303
    page = admin.get("/console/admin/authorities").text
    police = re.search(r'data-authority="([0-9]+)"><h3>Commissioner of Police', page).group(1)
    asked = admin.post(f"/console/admin/authorities/{police}/remove", data={"csrf_token": csrf_token(page)})
    assert asked.status_code == 200
    assert "<h1>Remove the Commissioner of Police from the directory?</h1>" in asked.text
    assert 'name="confirm" value="yes"' in asked.text and "Keep it in the directory" in asked.text
    assert "<h3>Commissioner of Police</h3>" in admin.get("/console/admin/authorities").text  # still there
    removed = admin.post(f"/console/admin/authorities/{police}/remove",
                         data={"csrf_token": csrf_token(asked.text), "confirm": "yes"})
    assert removed.status_code == 303
    assert "<h3>Commissioner of Police</h3>" not in admin.get("/console/admin/authorities").text


def test_a_reloaded_invitation_makes_nothing_new_and_says_so(app, installation):
    admin = app.test_client()
    assert sign_in(admin, add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
                   ).status_code == 303
    fields = dict(form_for(admin.get("/console/admin/invitations").text, "/console/admin/invitations")["fields"])
    fields |= {"invite_email": "fay@agency.govt.nz", "display_name": "Fay Invited", "invite_channel": "Audit and Risk"}
    assert fields.get("submission_token")
    made = admin.post("/console/admin/invitations", data=fields)
    assert made.status_code == 200 and 'id="enrolment-link"' in made.text
    again = admin.post("/console/admin/invitations", data=fields)  # the browser's reload
    assert again.status_code == 200
    assert "This invitation was made already" in again.text and 'id="enrolment-link"' not in again.text
    assert 'role="alert"' not in again.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM invitations").fetchone()[0] == 1
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'invitation'").fetchone()[0] == 1


def test_an_administrators_entries_never_say_for_0_channels(app, installation):
    admin = app.test_client()
    # `portal admin add` records the account's channels, none for an administrator.
    assert sign_in(admin, add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
                   ).status_code == 303
    ctx = open_context(installation.data_dir)
    # An administrator's invitation (`portal org invite`), and one for no channel as none is made now.
    audit.record(ctx, "invitation", actor=None, detail={"channels": 0, "by_operator": True, "role": "admin"})
    audit.record(ctx, "invitation_resend", actor=None, detail={"channels": 0})
    ctx.db.conn.commit()
    log = _log(admin)
    assert "0 channels" not in log
    assert "Enrolment link made (by the server&#39;s operator, as an administrator)" in log
    assert "Enrolment link made again (the old one withdrawn) (for no channel)" in log
    assert "Account created at the command line (as an administrator)" in log
