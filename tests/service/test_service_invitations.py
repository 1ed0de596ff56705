"""An organisation's first administrator and first officer invited by the service operator (`portal
org invite`, issue 29): a one-time link of that organisation, kept only as a keyed hash, through which
they make their own account; used, expired, wrong or another organisation's, it gets one plain refusal."""
from __future__ import annotations

import hashlib
import re
import sqlite3

from werkzeug.test import Client

from portal.service.dispatch import service_app
from portal.service.operator import operator_dir
from portal.service.registry import data_dir_of, organisation
from tests.conftest import Officer, run_cli
from tests.service.test_organisations import make_service, portal
from tests.support import csrf_token, files_containing, form_for
from tests.support.enrolment import STRONG


def invite(service, slug, role, email, name, *channels):
    args = ["org", "invite", slug, "--role", role, "--email", email, "--name", name, "--service", str(service),
            "--base-url", "https://pd.example.govt.nz"]
    for channel in channels:
        args += ["--channel", channel]
    made = portal(*args)
    assert made.exit_code == 0, made.output
    [link] = re.findall(rf"https://pd\.example\.govt\.nz(/o/{slug}/console/enrol/[A-Za-z0-9_-]+)", made.output)
    return link


def enrol(client, link, email, name) -> Officer:
    """Every step of the link, in the organisation's pages: passphrase, second factor, recovery codes."""
    prefix = link.split("/console/")[0]
    page = client.get(link)
    assert page.status_code == 200, page.text
    chose = client.post(link, data={"csrf_token": csrf_token(page.text), "passphrase": STRONG,
                                    "passphrase_again": STRONG})
    assert chose.status_code == 303 and chose.headers["Location"] == f"{prefix}/console/setup/second-factor"
    step = client.get(chose.headers["Location"])
    person = Officer(email, name, STRONG, re.search(r'id="totp-secret">([A-Z2-7]+)<', step.text).group(1))
    done = client.post(f"{prefix}/console/setup/second-factor", data={"csrf_token": csrf_token(step.text),
                                                                     "totp": person.code()})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.text, done.text
    return person


def sign_in(client, prefix, person):
    token = csrf_token(client.get(f"{prefix}/console/login").text)
    return client.post(f"{prefix}/console/login", data={"csrf_token": token, "email": person.email,
                                                        "passphrase": person.passphrase, "totp": person.code()})


def test_the_first_administrator_and_officer_make_their_own_accounts_through_a_link(tmp_path):
    service = make_service(tmp_path)
    a_dir = data_dir_of(service, "a")
    link = invite(service, "a", "admin", "ada@a.govt.nz", "Ada Admin")
    token = link.rsplit("/", 1)[1]
    # Kept only as a keyed hash: neither the token nor its plain SHA-256 is in any file.
    assert files_containing(service, token.encode()) == []
    assert files_containing(service, hashlib.sha256(token.encode()).hexdigest().encode()) == []

    client = Client(service_app(service))
    admin = enrol(client, link, "ada@a.govt.nz", "Ada Admin")
    signed = Client(service_app(service))
    assert sign_in(signed, "/o/a", admin).status_code == 303
    assert signed.get("/o/a/console/admin/").status_code == 200  # an administrator of a, and nowhere else
    assert sign_in(signed, "/o/b", admin).status_code == 400
    # What they chose is theirs: no file of the service holds the passphrase, nor its TOTP secret in
    # the operator's installation.
    assert files_containing(service, STRONG.encode()) == []
    assert files_containing(operator_dir(service), admin.totp_secret.encode()) == []

    # The operator starts an organisation, no more: a second administrator, or an officer for a
    # channel that has one, is refused; a new channel's first officer is invited.
    again = portal("org", "invite", "a", "--role", "admin", "--email", "x@a.govt.nz", "--name", "X",
                   "--service", str(service))
    assert again.exit_code != 0 and "has an administrator" in again.output
    taken = portal("org", "invite", "a", "--role", "officer", "--email", "y@a.govt.nz", "--name", "Y",
                   "--channel", "Audit and Risk", "--service", str(service))
    assert taken.exit_code != 0 and "has an officer" in taken.output
    run_cli(a_dir, "channel", "add", "Procurement")
    officer = enrol(Client(service_app(service)), invite(service, "a", "officer", "pat@a.govt.nz", "Pat Officer",
                                                         "Procurement"), "pat@a.govt.nz", "Pat Officer")
    db = sqlite3.connect(a_dir / "portal.db")
    assert db.execute("SELECT role FROM accounts WHERE email = ?", [admin.email]).fetchone() == ("admin",)
    assert db.execute("SELECT ch.name FROM channel_officers co JOIN channels ch ON ch.id = co.channel_id"
                      " JOIN accounts a ON a.id = co.account_id WHERE a.email = ?", [officer.email]).fetchall() \
        == [("Procurement",)]
    db.close()
    # In the service's audit: the organisation and the role, never the person.
    db = sqlite3.connect(operator_dir(service) / "portal.db")
    details = [d for (d,) in db.execute("SELECT detail FROM audit_log WHERE event = 'organisation_invitation'")]
    db.close()
    org_id = organisation(service, "a").id
    assert details == [f'{{"organisation":"{org_id}","role":"admin"}}', f'{{"organisation":"{org_id}","role":"officer"}}']
    assert files_containing(operator_dir(service), b"ada@a.govt.nz") == []


def test_a_used_expired_wrong_or_other_organisations_link_gets_the_same_refusal(tmp_path):
    service = make_service(tmp_path)
    client = Client(service_app(service))
    used = invite(service, "a", "admin", "ada@a.govt.nz", "Ada Admin")
    enrol(client, used, "ada@a.govt.nz", "Ada Admin")
    expired = invite(service, "b", "admin", "bo@b.govt.nz", "Bo Admin")
    db = sqlite3.connect(data_dir_of(service, "b") / "portal.db")
    db.execute("UPDATE invitations SET expires_at = expires_at - 72 * 3600 - 1")
    db.commit()
    db.close()
    run_cli(data_dir_of(service, "b"), "channel", "add", "Procurement")
    live = invite(service, "b", "officer", "cy@b.govt.nz", "Cy Officer", "Procurement")

    refusals = []
    for link in (used, expired, "/o/a/console/enrol/" + "x" * 43, live.replace("/o/b/", "/o/a/")):
        fresh, prefix = Client(service_app(service)), link.split("/console/")[0]
        page = fresh.get(link)
        posted = fresh.post(link, data={"csrf_token": csrf_token(fresh.get(f"{prefix}/console/login").text),
                                        "passphrase": STRONG, "passphrase_again": STRONG})
        # The same words at either organisation, but for the organisation's place in its links.
        refusals += [(r.status_code, r.text.replace("/o/b/", "/o/a/")) for r in (page, posted)]
    assert refusals[0][0] == 404 and "link" in refusals[0][1]
    assert all(refusal == refusals[0] for refusal in refusals), [r[0] for r in refusals]
    # The live one still works where it belongs.
    assert Client(service_app(service)).get(live).status_code == 200


def test_an_organisations_administrator_invites_with_a_link_under_its_own_path(tmp_path):
    service = make_service(tmp_path)
    client = Client(service_app(service))
    admin = enrol(client, invite(service, "a", "admin", "ada@a.govt.nz", "Ada Admin"), "ada@a.govt.nz", "Ada Admin")
    assert sign_in(client, "/o/a", admin).status_code == 303
    action = "/o/a/console/admin/invitations"
    fields = dict(form_for(client.get(action).text, action)["fields"]) | {
        "invite_email": "ivy@a.govt.nz", "display_name": "Ivy Invited", "invite_channel": "Audit and Risk"}
    made = client.post(action, data=fields)
    assert made.status_code == 200, made.text
    [path] = re.findall(r"http://localhost(/[^\s<\"]*/console/enrol/[A-Za-z0-9_-]+)", made.text)
    assert path.startswith("/o/a/console/enrol/")
    assert Client(service_app(service)).get(path).status_code == 200


def test_a_link_made_before_tokens_were_keyed_still_opens_until_it_expires(tmp_path):
    service = make_service(tmp_path)
    link = invite(service, "a", "admin", "ada@a.govt.nz", "Ada Admin")
    token = link.rsplit("/", 1)[1]
    db = sqlite3.connect(data_dir_of(service, "a") / "portal.db")
    db.execute("UPDATE invitations SET token_hash = ?", [hashlib.sha256(token.encode()).hexdigest()])
    db.commit()
    db.close()
    enrol(Client(service_app(service)), link, "ada@a.govt.nz", "Ada Admin")
    assert Client(service_app(service)).get(link).status_code == 404  # once
