"""A lost root holder (issue 21): a quorum of the channel's recovery custodians hands the root of its
signed roster on, with the Ed25519 key derived from the recovery secret (crypto.roster's
custodians_signing_public), carried by the roster's recovery statement once an officer confirmed it."""
from __future__ import annotations

import re

from click.testing import CliRunner

import crypto
from crypto import roster as signed
from portal.cli import main
from portal.core.context import open_context
from tests.conftest import add_account, run_cli
from tests.support.console import sign_in
from tests.support.keys import set_recovery_key


def _new_key(data_dir) -> tuple[list[str], str, str]:
    """`portal recovery-key new`: (shares, public key hex, custodians key hex)."""
    out = run_cli(data_dir, "recovery-key", "new", "--threshold", "3", "--shares", "5").output
    shares = re.findall(r"^share [0-9] of 5: (.+)$", out, re.M)
    [public] = re.findall(r"^public key: ([0-9a-f]{64})$", out, re.M)
    [custodians] = re.findall(r"^custodians key: ([0-9a-f]{64})$", out, re.M)
    return shares, public, custodians


def _hand_over(data_dir, channel: str, email: str, shares: list[str]):
    return CliRunner().invoke(main, ["--data", str(data_dir), "roster", "hand-over", channel, "--to", email],
                              input="\n".join(shares) + "\n")


def _state(data_dir, channel: str):
    from portal.keys import channels, roster
    ctx = open_context(data_dir)
    try:
        return roster.load(ctx, channels.find_channel(ctx, channel).id)
    finally:
        ctx.db.conn.close()


def _account_id(data_dir, email: str) -> int:
    ctx = open_context(data_dir)
    try:
        return ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email]).fetchone()[0]
    finally:
        ctx.db.conn.close()


def _refused(result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert words in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_recovery_key_new_prints_the_custodians_key_derived_from_its_shares(installation):
    shares, public, custodians = _new_key(installation.data_dir)
    secret = crypto.recovery_private_key(shares[2:])
    assert crypto.public_key_of(secret).hex() == public
    assert signed.custodians_signing_public(secret).hex() == custodians
    assert signed.check_ed25519_public(bytes.fromhex(custodians)) and custodians != public


def test_set_recovery_refuses_a_custodians_key_that_is_not_an_ed25519_key(installation):
    _, public, _ = _new_key(installation.data_dir)
    for bad in ("abc", "00" * 32, public[:-2] + "zz"):
        result = CliRunner().invoke(main, ["--data", str(installation.data_dir), "channel", "set-recovery",
                                           "Audit and Risk", public, "--custodians-key", bad])
        _refused(result, "custodians' key must be")


def test_the_custodians_hand_a_gone_holders_root_to_a_reader(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    shares, public, custodians = _new_key(data_dir)

    # The officer who confirms the key sees the custodians' key's words beside the recovery key's.
    asked = run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public,
                    "--custodians-key", custodians).output
    assert custodians in asked
    client = app.test_client()
    assert sign_in(client, ana).status_code == 303
    page = client.get("/console/memberships").text
    words = crypto.key_fingerprint(bytes.fromhex(custodians))
    assert f'<code class="custodians-fingerprint">{words}</code>' in page

    set_recovery_key(data_dir, "Audit and Risk", public, ana, "--custodians-key", custodians)
    state = _state(data_dir, "Audit and Risk")
    assert state.verified.recovery_key.hex() == public
    assert state.verified.recovery_signing_key.hex() == custodians

    ana_id, cat_id = _account_id(data_dir, ana.email), _account_id(data_dir, cat.email)
    # While Ana reads the channel, only she hands her root on.
    _refused(_hand_over(data_dir, "Audit and Risk", cat.email, shares[:3]), "still reads it")
    run_cli(data_dir, "officer", "offboard", "--email", ana.email)
    assert _state(data_dir, "Audit and Risk").verified.root_holder() == ana_id

    # Refused: shares of another recovery key, too few shares, an officer the roster does not admit.
    other_shares, _, _ = _new_key(data_dir)
    _refused(_hand_over(data_dir, "Audit and Risk", cat.email, other_shares[:3]), "not the one")
    _refused(_hand_over(data_dir, "Audit and Risk", cat.email, shares[:2]), "do not make a recovery key")
    dan = add_account(data_dir, "officer", "dan@agency.govt.nz", "Dan Unvouched", ["Audit and Risk"],
                      vouched=False)
    _refused(_hand_over(data_dir, "Audit and Risk", dan.email, shares[:3]), "does not admit")
    _refused(_hand_over(data_dir, "Audit and Risk", installation.other_officer.email, shares[:3]),
             "is not a confirmed officer")
    assert _state(data_dir, "Audit and Risk").verified.root_holder() == ana_id

    done = _hand_over(data_dir, "Audit and Risk", cat.email, shares[1:4])
    assert done.exit_code == 0, done.output
    assert f"handed to {cat.email}" in done.output
    state = _state(data_dir, "Audit and Risk")
    assert state.problem is None and state.verified.root_holder() == cat_id
    ctx = open_context(data_dir)
    try:
        entry = ctx.db.execute("SELECT subject, detail FROM audit_log WHERE event ="
                               " 'roster_custodians_handover'").fetchall()
    finally:
        ctx.db.conn.close()
    assert len(entry) == 1 and entry[0][0] == cat_id and words in entry[0][1]
    assert run_cli(data_dir, "audit", "verify").exit_code == 0
    # Cat now holds the root: the same shares cannot hand it to her again.
    # Cat now holds the root and reads the channel: the custodians hand it on no further.
    _refused(_hand_over(data_dir, "Audit and Risk", cat.email, shares[:3]), "still reads it")


def test_no_hand_over_by_custodians_whose_key_the_roster_does_not_hold(installation):
    data_dir, ben = installation.data_dir, installation.other_officer
    eve = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve Second", ["Procurement"])
    shares, public, _ = _new_key(data_dir)
    set_recovery_key(data_dir, "Procurement", public, ben)  # no --custodians-key
    assert _state(data_dir, "Procurement").verified.recovery_signing_key is None
    _refused(_hand_over(data_dir, "Procurement", eve.email, shares[:3]), "has no custodians' key")
    assert _state(data_dir, "Procurement").verified.root_holder() == _account_id(data_dir, ben.email)
    # A channel with no recovery key in its roster at all.
    _refused(_hand_over(data_dir, "Audit and Risk", installation.officer.email, shares[:3]),
             "admits no recovery key")
    _refused(_hand_over(data_dir, "No such channel", eve.email, shares[:3]), "There is no such channel")
