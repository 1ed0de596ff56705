"""A channel and its cases moved from one organisation of a service to another (issue 29;
docs/organisations.md, "Moving a channel"): `portal org move-ask`, the sending officer admits the
receiving officer into the channel's roster and gives them every case (in their own console
session), the receiving officer confirms naming the sending roster's head, and `portal org
move-channel` moves the cases, finishing an interrupted run at the next one."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from werkzeug.test import Client

from portal.service import channel_moves
from portal.service.dispatch import service_app
from portal.service.operator import operator_dir
from portal.service.registry import data_dir_of, organisation
from tests.conftest import MARKER, add_account, run_cli
from tests.service.test_organisations import portal
from tests.service.test_service_operator import sign_in
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from
from tests.support.console import ATTACHMENT
from tests.support import database

REPO = Path(__file__).resolve().parents[2]


def make_two(tmp_path):
    """Organisation a (channel Audit and Risk, officer Ana) and b (channel Integrity, officers Ben
    and Cat)."""
    service = tmp_path / "service"
    assert portal("service", "init", str(service), "--insecure-fast-kdf").exit_code == 0
    for slug, name in (("a", "Agency A"), ("b", "Board B")):
        assert portal("org", "create", slug, "--name", name, "--service", str(service),
                      "--insecure-fast-kdf").exit_code == 0
    a, b = data_dir_of(service, "a"), data_dir_of(service, "b")
    run_cli(a, "channel", "add", "Audit and Risk")
    run_cli(b, "channel", "add", "Integrity")
    ana = add_account(a, "officer", "ana@a.govt.nz", "Ana Sender", ["Audit and Risk"])
    ben = add_account(b, "officer", "ben@b.govt.nz", "Ben Receiver", ["Integrity"])
    cat = add_account(b, "officer", "cat@b.govt.nz", "Cat Bystander", ["Integrity"])
    return service, ana, ben, cat


def disclose(client, with_file: bool) -> str:
    form = client.get("/o/a/disclose")
    files = [("attachments", "minutes.pdf", ATTACHMENT)] if with_file else []
    sent = post_multipart(client, "/o/a/disclose", disclosure_fields(csrf_token(form.text), MARKER), files)
    assert sent.status_code == 200, sent.text
    return receipt_from(sent.text)


def cases_of(data_dir) -> list[tuple[str, str]]:
    db = database.connect(data_dir)
    try:
        return sorted(db.execute("SELECT id, ref FROM cases"))
    finally:
        db.close()


def rows_with_case(data_dir) -> int:
    db = database.connect(data_dir)
    try:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if any(c[1] == "case_id" for c in db.execute(f"PRAGMA table_info('{n}')"))]
        return sum(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)
    finally:
        db.close()


def move(service):
    return portal("org", "move-channel", "a", "--to", "b", "--service", str(service))


def grant_every_case(client, person, label):
    """At /console/access, every case of the channel to the officer labelled `label`, with the
    passphrase asked again."""
    page = client.get("/o/a/console/access/").text
    officer = re.search(rf'<option value="([0-9]+)">{re.escape(label)}', page).group(1)
    fields = {"csrf_token": csrf_token(page), "channel": "Audit and Risk", "officer": officer, "case": ""}
    asked = client.post("/o/a/console/access/grant", data=fields)
    assert 'name="confirm_passphrase"' in asked.text
    done = client.post("/o/a/console/access/grant", data={**fields, "csrf_token": csrf_token(asked.text),
                                                          "confirm_passphrase": person.passphrase})
    assert done.status_code == 200 and 'id="granted"' in done.text, done.text


# Run as `portal org move-channel a --to b`, but the process ends (exit 3, nothing cleaned up, as
# SIGKILL would) on entering the named step of portal.service.channel_moves for the first time.
_KILLED_AT = """
import os, sys
from portal.service import channel_moves
def _die(*args, **kwargs):
    os._exit(3)
setattr(channel_moves, sys.argv[1], _die)
from portal.cli import main
main(prog_name="portal", args=sys.argv[2:])
"""


def move_killed_at(service, step: str) -> subprocess.CompletedProcess:
    assert callable(getattr(channel_moves, step))  # the step still exists under that name
    return subprocess.run(
        [sys.executable, "-c", _KILLED_AT, step, "org", "move-channel", "a", "--to", "b", "--service",
         str(service)], env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)


def test_a_channel_moves_once_both_sides_confirm_and_an_interrupted_move_finishes(tmp_path):
    service, ana, ben, cat = make_two(tmp_path)
    a, b = data_dir_of(service, "a"), data_dir_of(service, "b")
    web = Client(service_app(service))
    receipts = [disclose(web, with_file=True), disclose(web, with_file=False), disclose(web, with_file=False)]
    sender = Client(service_app(service))
    assert sign_in(sender, "/o/a", ana).status_code == 303
    refs = sorted(re.findall(r'href="/o/a/console/cases/([^"/]+)"', sender.get("/o/a/console/").text))
    assert len(refs) == 3
    moving = cases_of(a)

    asked = portal("org", "move-ask", "a", "Audit and Risk", "--to", "b", "--into", "Integrity",
                   "--officer", "ben@b.govt.nz", "--service", str(service))
    assert asked.exit_code == 0, asked.output
    [printed] = re.findall(r"Ben Receiver <ben@b.govt.nz>: fingerprint (\S+)", asked.output)
    before = rows_with_case(a), rows_with_case(b)

    # Neither side has confirmed: refused, nothing moved.
    refused = move(service)
    assert refused.exit_code != 0 and "nothing was moved" in refused.output
    assert (rows_with_case(a), rows_with_case(b)) == before

    # Ana compares Ben's fingerprint and confirms him: her session signs his admission.
    page = sender.get("/o/a/console/memberships").text
    assert printed in page and "Ben Receiver" in page
    visitor = re.search(r'name="officer" value="(\d+)"', page).group(1)
    channel = re.search(r'name="channel" value="(\d+)"', page).group(1)
    assert sender.post("/o/a/console/memberships/decide", data={
        "csrf_token": csrf_token(page), "channel": channel, "officer": visitor,
        "decision": "confirm"}).status_code == 303
    # Admitted but given no case yet: still refused.
    refused = move(service)
    assert refused.exit_code != 0 and "nothing was moved" in refused.output
    grant_every_case(sender, ana, "Ben Receiver")
    # The receiving side has not confirmed: still refused, nothing moved.
    refused = move(service)
    assert refused.exit_code != 0 and "receiving channel" in refused.output
    assert cases_of(a) == moving and cases_of(b) == []

    # Ben confirms at b, naming the head Ana reads him from her roster page.
    head = re.search(r'class="roster-head">([0-9a-f]+)<', sender.get("/o/a/console/roster").text).group(1)
    receiver = Client(service_app(service))
    assert sign_in(receiver, "/o/b", ben).status_code == 303
    page = receiver.get("/o/b/console/memberships").text
    move_id = re.search(r'name="move" value="([0-9a-f]+)"', page).group(1)
    wrong = receiver.post("/o/b/console/memberships/arrivals", data={
        "csrf_token": csrf_token(page), "move": move_id, "roster_head": "not a head"})
    assert wrong.status_code == 400 and "16 letters and digits" in wrong.text
    confirmed = receiver.post("/o/b/console/memberships/arrivals", data={
        "csrf_token": csrf_token(page), "move": move_id, "roster_head": head.upper()})
    assert confirmed.status_code == 303

    # Killed (by move_killed_at, a wrapper outside the portal's code) after writing its first case
    # to b and before removing it from a: the worst moment.
    db = sqlite3.connect(b / "portal.db")
    arriving = lambda: db.execute("SELECT COUNT(*) FROM arriving_cases").fetchone()[0]  # noqa: E731
    killed = move_killed_at(service, "_remove_from_sender")
    assert killed.returncode == 3, killed.stderr
    assert len(cases_of(b)) == 1 and cases_of(a) == moving and arriving() == 1
    # Run again and killed once that case is gone from a, before it is marked arrived at b.
    killed = move_killed_at(service, "_arrived")
    assert killed.returncode == 3, killed.stderr
    assert len(cases_of(b)) == 1 and len(cases_of(a)) == 2 and arriving() == 1
    db.close()
    # The next run finishes it: every case in b exactly once, none left in a.
    done = move(service)
    assert done.exit_code == 0 and "3 case(s) moved" in done.output, done.output
    assert cases_of(b) == moving and cases_of(a) == []
    db = sqlite3.connect(b / "portal.db")
    assert db.execute("SELECT COUNT(*) FROM arriving_cases").fetchone()[0] == 0
    db.close()

    # Ben opens every case through his console, the attachment included.
    inbox = receiver.get("/o/b/console/").text
    assert sorted(re.findall(r'href="/o/b/console/cases/([^"/]+)"', inbox)) == refs
    for ref in refs:
        case = receiver.get(f"/o/b/console/cases/{ref}")
        assert case.status_code == 200 and MARKER in case.text
        attachment = re.search(r'href="(/o/b/console/cases/[^"]+/attachments/[^"]+)"', case.text)
        if attachment:
            assert receiver.get(attachment.group(1)).data == ATTACHMENT
    # Cat, an officer of the receiving channel not admitted by the sending side, reads none of them.
    bystander = Client(service_app(service))
    assert sign_in(bystander, "/o/b", cat).status_code == 303
    assert not re.findall(r'href="/o/b/console/cases/', bystander.get("/o/b/console/").text)
    for ref in refs:
        assert MARKER not in bystander.get(f"/o/b/console/cases/{ref}").text
    # And a has them no more.
    assert not re.findall(r'href="/o/a/console/cases/', sender.get("/o/a/console/").text)

    # Each discloser's receipt finds their case at b's status page, and nothing at a's.
    for receipt in receipts:
        for slug, found in (("b", True), ("a", False)):
            discloser = Client(service_app(service))
            form = discloser.get(f"/o/{slug}/status")
            opened = discloser.post(f"/o/{slug}/status", data={"csrf_token": csrf_token(form.text),
                                                              "receipt": receipt}, follow_redirects=True)
            assert ('id="case-status"' in opened.text) is found, re.sub(r"<[^>]+>", " ", opened.text)[-1500:]

    # No plaintext in either data directory; both chains and the service's verify and say it.
    for data_dir in (a, b):
        assert files_containing(data_dir, MARKER.encode()) == []
        verified = portal("--data", str(data_dir), "audit", "verify")
        assert verified.exit_code == 0, verified.output
    assert portal("--data", str(operator_dir(service)), "audit", "verify").exit_code == 0
    db = sqlite3.connect(operator_dir(service) / "portal.db")
    events = [e for (e,) in db.execute("SELECT event FROM audit_log WHERE event LIKE 'channel_move%'")]
    details = [d for (d,) in db.execute("SELECT detail FROM audit_log WHERE event = 'channel_move'")]
    db.close()
    assert events == ["channel_move_ask", "channel_move"]
    assert organisation(service, "a").id in details[0] and '"cases":3' in details[0]
    for data_dir, event in ((a, "channel_moved_out"), (b, "channel_arrived")):
        db = database.connect(data_dir)
        assert db.execute("SELECT COUNT(*) FROM audit_log WHERE event = ?", [event]).fetchone()[0] == 1
        db.close()


def test_refused_without_the_sending_side_or_once_its_roster_changed_and_the_visitor_cannot_sign_in(tmp_path):
    service, ana, ben, cat = make_two(tmp_path)
    a, b = data_dir_of(service, "a"), data_dir_of(service, "b")
    disclose(Client(service_app(service)), with_file=False)
    moving = cases_of(a)
    assert portal("org", "move-ask", "a", "Audit and Risk", "--to", "b", "--into", "Integrity",
                  "--officer", "ben@b.govt.nz", "--service", str(service)).exit_code == 0
    sender = Client(service_app(service))
    assert sign_in(sender, "/o/a", ana).status_code == 303
    head = re.search(r'class="roster-head">([0-9a-f]+)<', sender.get("/o/a/console/roster").text).group(1)
    # The receiving side confirms first: the sending side has admitted nobody, so nothing moves.
    receiver = Client(service_app(service))
    assert sign_in(receiver, "/o/b", ben).status_code == 303
    page = receiver.get("/o/b/console/memberships").text
    move_id = re.search(r'name="move" value="([0-9a-f]+)"', page).group(1)
    assert receiver.post("/o/b/console/memberships/arrivals", data={
        "csrf_token": csrf_token(page), "move": move_id, "roster_head": head}).status_code == 303
    # Confirmed once: the form is gone, and a second post finds nothing.
    assert 'name="move"' not in receiver.get("/o/b/console/memberships").text
    assert receiver.post("/o/b/console/memberships/arrivals", data={
        "csrf_token": csrf_token(page), "move": move_id, "roster_head": head}).status_code == 404
    refused = move(service)
    assert refused.exit_code != 0 and "nothing was moved" in refused.output
    assert cases_of(a) == moving and cases_of(b) == []

    # Ana admits Ben and gives him the case: her admission changes the roster's head, so the head
    # Ben confirmed no longer holds and nothing moves.
    page = sender.get("/o/a/console/memberships").text
    assert sender.post("/o/a/console/memberships/decide", data={
        "csrf_token": csrf_token(page), "channel": re.search(r'name="channel" value="(\d+)"', page).group(1),
        "officer": re.search(r'name="officer" value="(\d+)"', page).group(1),
        "decision": "confirm"}).status_code == 303
    grant_every_case(sender, ana, "Ben Receiver")
    refused = move(service)
    assert refused.exit_code != 0 and "roster head" in refused.output
    assert cases_of(a) == moving and cases_of(b) == []

    # Ben's row in a holds his public halves only: his own credentials open nothing there.
    visitor = Client(service_app(service))
    assert sign_in(visitor, "/o/a", ben).status_code != 303
    assert visitor.get("/o/a/console/").status_code == 303  # still signed out
