"""Continuity without escrow through the CLI (issue 16): a recovery key made offline as SLIP-39 shares, its
public half imported, every case key of the channel sealed to it (new cases at once, earlier ones by a reader),
and `portal channel recover` re-sealing the channel's cases to an officer from the threshold of shares."""
from __future__ import annotations

import re

from click.testing import CliRunner

import crypto
from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.conftest import add_account, run_cli
from tests.support.console import case_links, sign_in
from tests.support.keys import CONTACT, NOTE
from tests.support.conflicts import disclose_excluding
from tests.support.workflow import disclose_to, post
from tests.support.keys import new_recovery_key




def recover(data_dir, shares: list[str], to: str, channel: str = "Audit and Risk"):
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "recover", channel, "--to", to],
                              input="\n".join(shares) + "\n")


def all_bytes(data_dir) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())


def test_recovery_from_shares_reseals_the_channel_to_a_new_officer_skipping_excluded_cases(app, installation):
    data_dir = installation.data_dir
    # A case from before the channel had a recovery key, with a note (officers-only key) and contact details.
    disclose_to(app.test_client(), details="Invoices paid twice.", contact=CONTACT)
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    [earlier] = case_links(ana.get("/console/").text)
    assert post(ana, earlier + "/notes", note=NOTE).status_code == 303

    shares, public = new_recovery_key(data_dir)
    secret = crypto.recovery_private_key(shares[:3])
    imported = run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public).output
    assert "1 earlier case(s) are not yet" in imported
    # The earlier case is sealed by an officer who reads it.
    sealed = run_cli(data_dir, "channel", "seal-recovery", "Audit and Risk", "--email", installation.officer.email,
                     "--passphrase-stdin", input=installation.officer.passphrase + "\n").output
    assert "1 case(s) sealed" in sealed
    # Cat joins the channel; a new case excluding Cat is sealed to the recovery key at once.
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    assert disclose_excluding(app.test_client(), "Cat Colleague", details="About Cat's team.").status_code == 200
    ctx = open_context(data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM recovery_copies").fetchone()[0] == 6  # 2 cases x 3 keys
    # Only the public half is on the server: the private half is in no file.
    assert secret not in all_bytes(data_dir)

    # Two shares are fewer than the threshold: a clear failure, nothing re-sealed.
    too_few = recover(data_dir, shares[:2], cat.email)
    assert too_few.exit_code != 0
    assert "do not make a recovery key" in too_few.output and "3 mnemonics" in too_few.output
    # Shares of another recovery key are refused too.
    others, _ = new_recovery_key(data_dir)
    wrong = recover(data_dir, others[:3], cat.email)
    assert wrong.exit_code != 0 and "not the one of Audit and Risk" in wrong.output
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    assert ctx.db.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [cat_id]).fetchone()[0] == 0

    # Three shares, any three, with stray spaces and blank lines, recover.
    done = recover(data_dir, ["", "  " + shares[4].upper() + "  ", shares[1], "", shares[3]], cat.email)
    assert done.exit_code == 0, done.output
    assert "1 case(s) of 'Audit and Risk' re-sealed" in done.output
    assert "Skipped, because the discloser excluded this officer" in done.output

    cat_client = app.test_client()
    assert sign_in(cat_client, cat).status_code == 303
    assert case_links(cat_client.get("/console/").text) == [earlier]
    page = cat_client.get(earlier).text
    assert "Invoices paid twice." in page and NOTE in page and CONTACT in page
    entry = ctx.db.execute("SELECT subject, detail FROM audit_log WHERE event = 'recovery_used'").fetchall()
    assert entry and entry[0][0] == cat_id and '"cases":1' in entry[0][1] and '"excluded"' not in entry[0][1]  # not told to the officer
    # No share or secret reached the database, a log or any file.
    assert not any(share.encode() in all_bytes(data_dir) for share in shares)
    assert secret not in all_bytes(data_dir)


def test_recovery_needs_a_channel_key_and_a_confirmed_officer(app, installation):
    data_dir = installation.data_dir
    shares, public = new_recovery_key(data_dir)
    no_key = recover(data_dir, shares[:3], installation.officer.email)
    assert no_key.exit_code != 0 and "has no recovery key" in no_key.output
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public)
    stranger = recover(data_dir, shares[:3], installation.other_officer.email)
    assert stranger.exit_code != 0 and "is not a confirmed officer of Audit and Risk" in stranger.output
    bad = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "set-recovery", "Audit and Risk", "abc"])
    assert bad.exit_code != 0 and "64 hexadecimal characters" in bad.output
    # A key nothing can be sealed to (a low-order point) is refused, not left to break every disclosure.
    zero = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "set-recovery", "Audit and Risk",
                                           "00" * 32, "--replace"])
    assert zero.exit_code != 0 and "not a usable public key" in zero.output
    # Replacing the key (and with it every recovery copy) must be said, and the officers see it listed.
    _, other_public = new_recovery_key(data_dir)
    silent = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "set-recovery", "Audit and Risk",
                                             other_public])
    assert silent.exit_code != 0 and "--replace" in silent.output
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", other_public, "--replace")
    from tests.support.console import sign_in as console_sign_in
    officer = app.test_client()
    assert console_sign_in(officer, installation.officer).status_code == 303
    inbox = officer.get("/console/").text
    assert "recovery key (fingerprint" in inbox and "replaced" in inbox
    disclose_to(app.test_client())        # disclosures still go through
    few = CliRunner().invoke(portal_cli, ["recovery-key", "new", "--threshold", "6", "--shares", "5"])
    assert few.exit_code != 0 and "threshold" in few.output
