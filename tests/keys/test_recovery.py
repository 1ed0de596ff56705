"""Continuity without escrow (issues 16 and 21): a recovery key made offline as SLIP-39 shares, its public half
asked for on the CLI but used only once an officer of the channel confirms it in the console after comparing its
fingerprint with the custodians'; every case key of the channel sealed to it (new cases at once, earlier ones by a
reader pressing a button in their own console session), and `portal channel recover` re-sealing the channel's
cases to an officer from the threshold of shares."""
from __future__ import annotations

import re

from click.testing import CliRunner

import crypto
from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.conftest import add_account, run_cli
from tests.support import csrf_token
from tests.support.conflicts import disclose_excluding
from tests.support.console import case_links, sign_in
from tests.support.keys import CONTACT, NOTE, new_recovery_key, opens, set_recovery_key
from tests.support.workflow import disclose_to, post


def recover(data_dir, shares: list[str], to: str, channel: str = "Audit and Risk"):
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "recover", channel, "--to", to],
                              input="\n".join(shares) + "\n")


def all_bytes(data_dir) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())


def printed_fingerprint(data_dir) -> tuple[list[str], str, str]:
    """`portal recovery-key new`: the shares, the public key and the fingerprint given to the custodians."""
    out = run_cli(data_dir, "recovery-key", "new", "--threshold", "3", "--shares", "5").output
    shares = re.findall(r"^share [0-9] of 5: (.+)$", out, re.M)
    [public] = re.findall(r"^public key: ([0-9a-f]{64})$", out, re.M)
    [words] = re.findall(r"^fingerprint: ([A-Z2-7-]{24}) ", out, re.M)
    assert words == crypto.key_fingerprint(bytes.fromhex(public))
    return shares, public, words


def decide_in_console(client, fingerprint: str, decision: str = "confirm"):
    page = client.get("/console/memberships").text
    [channel] = re.findall(r'name="channel" value="([0-9]+)">\s*<input type="hidden" name="fingerprint" value="'
                           + re.escape(fingerprint) + '"', page)
    return client.post("/console/recovery/decide", data={"csrf_token": csrf_token(page), "channel": channel,
                                                         "fingerprint": fingerprint, "decision": decision})


def seal_in_console(client):
    page = client.get("/console/memberships").text
    [channel] = re.findall(r'action="/console/recovery/seal">\s*<input name="csrf_token"[^>]*>'
                           r'(?:<input type="hidden" name="page_for"[^>]*>)?\s*'
                           r'<input type="hidden" name="channel" value="([0-9]+)"', page)
    return client.post("/console/recovery/seal", data={"csrf_token": csrf_token(page), "channel": channel})


def recovery_copy_count(ctx, case_ref: str | None = None) -> int:
    if case_ref is None:
        return ctx.db.execute("SELECT COUNT(*) FROM recovery_copies").fetchone()[0]
    return ctx.db.execute("SELECT COUNT(*) FROM recovery_copies r JOIN cases c ON c.id = r.case_id WHERE c.ref = ?",
                          [case_ref]).fetchone()[0]


def case_ids(ctx) -> set[int]:
    return {row[0] for row in ctx.db.execute("SELECT id FROM cases")}


def new_case_key_copy(ctx, before: set[int]) -> bytes | None:
    """The recovery copy of the one case made since `before` (row ids are random, so not the highest)."""
    [case_id] = case_ids(ctx) - before
    row = ctx.db.execute("SELECT sealed_key FROM recovery_copies WHERE case_id = ? AND key_table = 'case_keys'",
                         [case_id]).fetchone()
    return row[0] if row else None


def test_seal_recovery_on_the_command_line_refuses_and_names_the_console_page(installation):
    data_dir, ana = installation.data_dir, installation.officer
    for args in (["channel", "seal-recovery", "Audit and Risk", "--email", ana.email, "--passphrase-stdin"],
                 ["channel", "seal-recovery", "Audit and Risk"]):
        result = CliRunner().invoke(portal_cli, ["--data", str(data_dir), *args], input=ana.passphrase + "\n")
        assert result.exit_code == 2
        assert result.output.strip().count("\n") == 0 and "/console/memberships" in result.output
        assert "Who reads your channels" in result.output


def test_a_recovery_key_seals_nothing_until_an_officer_confirms_it_in_the_console(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    shares, public, words = printed_fingerprint(data_dir)
    secret = crypto.recovery_private_key(shares[:3])
    asked = run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public).output
    assert f"fingerprint: {words}" in asked and "Nothing is sealed to it yet" in asked
    ctx = open_context(data_dir)
    assert ctx.db.execute("SELECT recovery_public_key FROM channels WHERE name = 'Audit and Risk'").fetchone()[0] is None
    entry = ctx.db.execute("SELECT actor, detail FROM audit_log WHERE event = 'recovery_key_requested'").fetchall()
    assert entry and entry[0][0] is None and words in entry[0][1]

    # A disclosure before confirmation: its case key has no recovery copy; the recovery key opens nothing.
    before = case_ids(ctx)
    disclose_to(app.test_client(), details="Before the confirmation.")
    assert new_case_key_copy(ctx, before) is None and recovery_copy_count(ctx) == 0
    # The custodians' shares recover nothing yet either.
    assert "has no recovery key" in recover(data_dir, shares[:3], ana.email).output

    # An officer of another channel sees nothing to decide and cannot decide it.
    ben = app.test_client()
    assert sign_in(ben, installation.other_officer).status_code == 303
    assert words not in ben.get("/console/memberships").text and words not in ben.get("/console/").text
    page = ben.get("/console/memberships").text
    channel_id = ctx.db.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    assert ben.post("/console/recovery/decide", data={"csrf_token": csrf_token(page), "channel": channel_id,
                                                      "fingerprint": words, "decision": "confirm"}).status_code == 404

    # Ana sees it in her inbox's attention area and on the memberships page, in the custodians' words.
    officer = app.test_client()
    assert sign_in(officer, ana).status_code == 303
    inbox = officer.get("/console/").text
    assert 'id="pending-recovery"' in inbox and words in inbox
    assert words in officer.get("/console/memberships").text
    # A wrong fingerprint (a request replaced since the page was shown) decides nothing.
    page = officer.get("/console/memberships").text
    assert officer.post("/console/recovery/decide", data={"csrf_token": csrf_token(page), "channel": channel_id,
                        "fingerprint": "AAAA-AAAA-AAAA-AAAA-AAAA", "decision": "confirm"}).status_code == 404
    confirmed = decide_in_console(officer, words)
    assert confirmed.status_code == 303
    assert ctx.db.execute("SELECT recovery_public_key FROM channels WHERE id = ?", [channel_id]).fetchone()[0] \
        == bytes.fromhex(public)
    ana_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [ana.email]).fetchone()[0]
    assert ctx.db.execute("SELECT actor FROM audit_log WHERE event = 'recovery_key_set'").fetchone()[0] == ana_id
    assert "confirmed" in officer.get("/console/memberships").text

    # From now on a new disclosure's case key has a recovery copy, which the recovery key opens.
    before = case_ids(ctx)
    disclose_to(app.test_client(), details="After the confirmation.")
    copy = new_case_key_copy(ctx, before)
    assert copy is not None and opens(secret, copy)
    # The earlier case waits for a reader's button, in her own session; then it is sealed too.
    memberships = officer.get("/console/memberships").text
    assert "1 earlier case has no copy" in memberships and "you read 1 of them" in memberships
    sealed = seal_in_console(officer)
    assert sealed.status_code == 303
    assert "The recovery key can now open 1 case more." in officer.get(sealed.headers["Location"]).text
    assert recovery_copy_count(ctx) == 6
    assert ctx.db.execute("SELECT actor, detail FROM audit_log WHERE event = 'recovery_sealed'").fetchone() \
        == (ana_id, '{"cases":1,"left":0}')


def test_a_refused_recovery_key_is_never_sealed_to(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    _, public, words = printed_fingerprint(data_dir)
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public)
    officer = app.test_client()
    assert sign_in(officer, ana).status_code == 303
    assert decide_in_console(officer, words, "refuse").status_code == 303
    disclose_to(app.test_client())
    ctx = open_context(data_dir)
    assert recovery_copy_count(ctx) == 0 and ctx.db.execute("SELECT COUNT(*) FROM recovery_requests").fetchone()[0] == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'recovery_key_refused'").fetchone()[0] == 1
    assert "refused: nothing is sealed to it" in officer.get("/console/memberships").text


def test_recovery_from_shares_reseals_the_channel_to_a_new_officer_skipping_excluded_cases(app, installation):
    data_dir = installation.data_dir
    # A case from before the channel had a recovery key, with a note (officers-only key) and contact details.
    disclose_to(app.test_client(), details="Invoices paid twice.", contact=CONTACT)
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    [earlier] = case_links(ana.get("/console/").text)
    assert post(ana, earlier + "/notes", note=NOTE).status_code == 303

    shares, public, words = printed_fingerprint(data_dir)
    secret = crypto.recovery_private_key(shares[:3])
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public)
    # Ana confirms it in her console session, then seals the earlier case there.
    assert decide_in_console(ana, words).status_code == 303
    assert seal_in_console(ana).status_code == 303
    # Cat joins the channel; a new case excluding Cat is sealed to the recovery key at once.
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    assert disclose_excluding(app.test_client(), "Cat Colleague", details="About Cat's team.").status_code == 200
    ctx = open_context(data_dir)
    assert recovery_copy_count(ctx) == 6  # 2 cases x 3 keys
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
    assert "1 case of 'Audit and Risk' re-sealed" in done.output
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
    data_dir, ana = installation.data_dir, installation.officer
    shares, public = new_recovery_key(data_dir)
    no_key = recover(data_dir, shares[:3], ana.email)
    assert no_key.exit_code != 0 and "has no recovery key" in no_key.output
    set_recovery_key(data_dir, "Audit and Risk", public, ana)
    stranger = recover(data_dir, shares[:3], installation.other_officer.email)
    assert stranger.exit_code != 0 and "is not a confirmed officer of Audit and Risk" in stranger.output
    bad = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "set-recovery", "Audit and Risk", "abc"])
    assert bad.exit_code != 0 and "64 hexadecimal characters" in bad.output
    # A key nothing can be sealed to (a low-order point) is refused, not left to break every disclosure.
    zero = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "set-recovery", "Audit and Risk",
                                           "00" * 32, "--replace"])
    assert zero.exit_code != 0 and "not a usable public key" in zero.output
    # Replacing the key (and with it every recovery copy) must be said, waits for an officer too, and the
    # officers see it listed.
    _, other_public = new_recovery_key(data_dir)
    silent = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "channel", "set-recovery", "Audit and Risk",
                                             other_public])
    assert silent.exit_code != 0 and "--replace" in silent.output
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", other_public, "--replace")
    ctx = open_context(data_dir)
    assert ctx.db.execute("SELECT recovery_public_key FROM channels WHERE name = 'Audit and Risk'").fetchone()[0] \
        == bytes.fromhex(public)  # the confirmed one stays until an officer confirms the replacement
    officer = app.test_client()
    assert sign_in(officer, ana).status_code == 303
    inbox = officer.get("/console/").text
    assert "recovery key (fingerprint" in inbox and "asked for" in inbox
    assert "replacing the channel's current one" in officer.get("/console/memberships").text
    assert decide_in_console(officer, crypto.key_fingerprint(bytes.fromhex(other_public))).status_code == 303
    assert ctx.db.execute("SELECT recovery_public_key FROM channels WHERE name = 'Audit and Risk'").fetchone()[0] \
        == bytes.fromhex(other_public)
    disclose_to(app.test_client())        # disclosures still go through
    few = CliRunner().invoke(portal_cli, ["recovery-key", "new", "--threshold", "6", "--shares", "5"])
    assert few.exit_code != 0 and "threshold" in few.output


def test_a_pending_recovery_key_is_in_the_officers_digest(installation):
    from portal.core.clock import now_utc
    from portal.operations import notifications
    data_dir = installation.data_dir
    _, public, _ = printed_fingerprint(data_dir)
    ctx = open_context(data_dir)
    slot = notifications.slot_of(ctx, now_utc())  # the latest digest time, when the digests are due
    assert all("recovery" not in d.kinds for d in notifications.due_digests(ctx, slot))
    run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public)
    digests = {d.email: d for d in notifications.due_digests(ctx, slot)}
    assert digests[installation.officer.email].kinds == ["recovery"]
    assert digests[installation.officer.email].counts["recovery"] == 1


def test_the_recovery_key_to_confirm_is_put_in_plain_words(app, installation):
    """New-user review (issue 25): the confirmation spoke of keys "sealed to", "offline" and a
    "roster root" handed on; an officer deciding whether to confirm reads what each thing does."""
    _, public, words = printed_fingerprint(installation.data_dir)
    run_cli(installation.data_dir, "channel", "set-recovery", "Audit and Risk", public)
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    page = officer.get("/console/memberships").text
    section = page[page.index('id="recovery-keys"'):page.index("Changes you had not seen")]
    assert words in section and "Confirm the recovery key of Audit and Risk" in section
    text = re.sub(r"<[^>]+>", " ", section)
    for jargon in ("sealed", "Seal", "offline", "root", "signing key", "share"):
        assert jargon not in text, jargon
    assert "a computer that is never online" in text and "their part of it" in text
    assert "put another officer in charge of this channel's list of officers" in text
