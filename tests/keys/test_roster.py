"""Readers that no one adds alone (issue 21): each channel's signed roster, checked at every seal.

Attacks by someone who can write the database but not the files outside it (the roots file, the
head file, installation.json): a swapped public key, an officer or a recovery key added by SQL, a
statement forged or deleted. Each gets nothing sealed to it, the officers are warned in the
console, and `portal audit verify` names the record.
"""
from __future__ import annotations

import json
import re

import crypto
from portal.core.context import open_context
from portal.keys import roster_files
from tests.conftest import MARKER, add_account, run_cli
from tests.support import csrf_token, disclosure_fields, post_multipart
from tests.support.console import sign_in
from tests.support.discloser import disclose
from tests.support.roster import vouch_for
from tests.support import database

SEALED_TABLES = ("case_keys", "internal_keys", "identity_keys", "recovery_copies")


def _db(data_dir):
    return database.connect(data_dir)


def _verify(data_dir):
    from click.testing import CliRunner

    from portal.cli import main
    return CliRunner().invoke(main, ["--data", str(data_dir), "audit", "verify"])


def _opens_anything(private_key: bytes, data_dir) -> bool:
    conn = _db(data_dir)
    try:
        for table in SEALED_TABLES:
            for [sealed] in conn.execute(f"SELECT sealed_key FROM {table}"):
                try:
                    crypto.open_sealed(private_key, sealed)
                    return True
                except crypto.DecryptionError:
                    continue
    finally:
        conn.close()
    return False


def _inbox(app, officer) -> str:
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    return client.get("/console/").text


def test_a_new_channels_roster_starts_at_its_first_officers_first_sign_in(installation):
    data_dir = installation.data_dir
    ctx = open_context(data_dir)
    ana_id, ana_signing = ctx.db.execute(
        "SELECT id, signing_public_key FROM accounts WHERE email = ?", [installation.officer.email]
    ).fetchone()
    roots = roster_files.read_roots(ctx.settings.roster_roots_path)
    channel_id = ctx.db.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    assert roots[channel_id] == ana_signing  # pinned outside the database by the portal itself
    assert roster_files.read_heads(data_dir)[channel_id].length == 1
    shown = run_cli(data_dir, "roster", "show").output
    assert f"Audit and Risk: root {crypto.key_fingerprint(ana_signing)} (pinned), 1 statement(s)" in shown
    assert _verify(data_dir).exit_code == 0
    assert ana_id


def test_a_public_key_swapped_in_the_database_gets_nothing_and_is_named(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    attacker_private, attacker_public = crypto.generate_keypair()
    with _db(data_dir) as conn:
        conn.execute("UPDATE accounts SET public_key = ? WHERE email = ?", [attacker_public, cat.email])
    disclose(app.test_client())
    # The disclosure still reached Ana, the reader the roster admits; the swapped key opens nothing.
    conn = _db(data_dir)
    recipients = [r for [r] in conn.execute("SELECT recipient FROM case_keys")]
    ana_id = conn.execute("SELECT id FROM accounts WHERE email = ?", [installation.officer.email]).fetchone()[0]
    assert f"account:{ana_id}" in recipients and len(recipients) == 2  # Ana and the discloser
    assert not _opens_anything(attacker_private, data_dir)
    # Ana is told, on her inbox and on the roster page, and the audit names the record.
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    assert "roster statement(s) wait for your signature" in client.get("/console/").text
    page = client.get("/console/roster").text
    assert "The database holds a new key for" in page and crypto.key_fingerprint(attacker_public) in page
    verdict = _verify(data_dir)
    assert verdict.exit_code == 1
    assert "the public key of Cat Colleague in the database is not the one the roster of Audit and Risk" \
        in verdict.output


def test_an_officer_added_by_sql_gets_nothing_and_is_named(app, installation):
    data_dir = installation.data_dir
    attacker_private, attacker_public = crypto.generate_keypair()
    with _db(data_dir) as conn:
        conn.execute("INSERT INTO accounts (email, name, role, public_key, wrapped_private_key, totp_secret,"
                     " created_day) VALUES ('mallory@agency.govt.nz', 'Mallory', 'officer', ?, ?, 'A', "
                     "'2026-12-01')", [attacker_public, b"\x00"])
        mallory = conn.execute("SELECT id FROM accounts WHERE email = 'mallory@agency.govt.nz'").fetchone()[0]
        conn.execute("INSERT INTO channel_officers (channel_id, account_id, state) VALUES "
                     "((SELECT id FROM channels WHERE name = 'Audit and Risk'), ?, 'confirmed')", [mallory])
    disclose(app.test_client())
    assert not _opens_anything(attacker_private, data_dir)
    verdict = _verify(data_dir)
    assert verdict.exit_code == 1 and f"membership of account {mallory} in Audit and Risk" in verdict.output


def test_a_recovery_key_written_by_sql_gets_no_copy_and_is_named(app, installation):
    data_dir = installation.data_dir
    attacker_private, attacker_public = crypto.generate_keypair()
    with _db(data_dir) as conn:
        conn.execute("UPDATE channels SET recovery_public_key = ? WHERE name = 'Audit and Risk'",
                     [attacker_public])
    disclose(app.test_client())
    conn = _db(data_dir)
    assert conn.execute("SELECT COUNT(*) FROM recovery_copies").fetchone()[0] == 0
    assert not _opens_anything(attacker_private, data_dir)
    verdict = _verify(data_dir)
    assert verdict.exit_code == 1 and "recovery key of Audit and Risk" in verdict.output


def test_a_channel_whose_only_reader_is_not_admitted_refuses_the_disclosure_keeping_the_text(app, installation):
    data_dir = installation.data_dir
    _, attacker_public = crypto.generate_keypair()
    with _db(data_dir) as conn:
        conn.execute("UPDATE accounts SET public_key = ? WHERE email = ?",
                     [attacker_public, installation.officer.email])
    client = app.test_client()
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, MARKER))
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert MARKER in response.text  # what was typed comes back, to send later
    assert _db(data_dir).execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0


def test_a_statement_forged_or_deleted_in_the_database_is_caught(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    conn = _db(data_dir)
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    assert conn.execute("SELECT COUNT(*) FROM roster_statements WHERE channel_id = ?",
                        [channel_id]).fetchone()[0] == 2
    # Cat's admission deleted: the roster is shorter than its head kept outside the database.
    conn.execute("DELETE FROM roster_statements WHERE channel_id = ? AND seq = 2", [channel_id])
    assert "was deleted or changed" in _inbox(app, installation.officer)
    verdict = _verify(data_dir)
    assert verdict.exit_code == 1 and "not the one recorded outside it" in verdict.output
    # A statement signed by a key the roster does not know admits nobody.
    mallory_seed = crypto.new_signing_key()
    _, mallory_key = crypto.generate_keypair()
    body = crypto.encode_statement(channel_id, 2, crypto.statement_hash(
        conn.execute("SELECT body FROM roster_statements WHERE channel_id = ? AND seq = 1",
                     [channel_id]).fetchone()[0]),
        "admit", 99, mallory_key, crypto.signing_public_key(mallory_seed), "2026-12-01")
    conn.execute("INSERT INTO roster_statements VALUES (?, 2, ?, ?)",
                 [channel_id, body, crypto.pack_signatures([crypto.sign_statement(mallory_seed, body)])])
    html = _inbox(app, installation.officer)
    assert "Statement 2 does not verify" in html
    assert cat


def test_an_officer_signs_a_newcomers_admission_on_the_roster_page(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"],
                      vouched=False)
    disclose(app.test_client())
    conn = _db(data_dir)
    cat_id = conn.execute("SELECT id, public_key FROM accounts WHERE email = ?", [cat.email]).fetchone()
    assert conn.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [cat_id[0]]).fetchone()[0] == 0
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    page = client.get("/console/roster").text
    assert crypto.key_fingerprint(cat_id[1]) in page and "Admit" in page
    head = roster_files.read_heads(data_dir)[1].head.hex()[:16]
    assert f'<code class="roster-head">{head}</code>' in page  # the head is shown to officers
    channel_id = re.search(r'name="channel" value="(\d+)"', page).group(1)
    signed = client.post("/console/roster/sign", data={"csrf_token": csrf_token(page), "channel": channel_id,
                                                       "officer": str(cat_id[0]), "kind": "admit"})
    assert signed.status_code == 303 and "signed=admit" in signed.headers["Location"]
    assert "Signed." in client.get(signed.headers["Location"]).text
    disclose(app.test_client())
    assert conn.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [cat_id[0]]).fetchone()[0] == 1
    assert _verify(data_dir).exit_code == 0
    # Nothing to sign twice.
    again = client.post("/console/roster/sign", data={"csrf_token": csrf_token(page), "channel": channel_id,
                                                      "officer": str(cat_id[0]), "kind": "admit"})
    assert again.status_code == 404


def test_a_roots_file_changed_without_a_hand_over_keeps_sealing_to_the_earlier_root(app, installation):
    data_dir = installation.data_dir
    ctx = open_context(data_dir)
    path = ctx.settings.roster_roots_path
    roots = json.loads(path.read_text())
    roots = {channel: crypto.signing_public_key(crypto.new_signing_key()).hex() for channel in roots}
    path.write_text(json.dumps(roots))
    disclose(app.test_client())
    ana_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [installation.officer.email]).fetchone()[0]
    assert ctx.db.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [ana_id]).fetchone()[0] == 1
    assert "names another root" in _inbox(app, installation.officer)
    assert _verify(data_dir).exit_code == 1


def test_a_channel_from_before_rosters_seals_as_before_until_an_officer_starts_it(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    ctx = open_context(data_dir)
    channel_id = ctx.db.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    # As an upgraded installation has it: no statement, no root, no head for the channel.
    with _db(data_dir) as conn:
        conn.execute("DELETE FROM roster_statements WHERE channel_id = ?", [channel_id])
        conn.execute("DELETE FROM audit_log WHERE event = 'roster_statement' AND channel_id = ?", [channel_id])
    for name in (ctx.settings.roster_roots_path, data_dir / roster_files.HEAD_FILE):
        document = json.loads(name.read_text())
        document.pop(str(channel_id), None)
        name.write_text(json.dumps(document))
    disclose(app.test_client())
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    assert ctx.db.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [cat_id]).fetchone()[0] == 1
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    assert "has no signed roster yet" in client.get("/console/").text
    page = client.get("/console/roster").text
    started = client.post("/console/roster/sign", data={"csrf_token": csrf_token(page), "channel": str(channel_id),
                                                        "officer": "", "kind": "start"})
    assert started.status_code == 303
    assert "has no signed roster yet" not in client.get("/console/").text
    assert ctx.db.execute("SELECT COUNT(*) FROM roster_statements WHERE channel_id = ?",
                          [channel_id]).fetchone()[0] == 2  # the root (Ana) and Cat's admission
    # The start is audited, statement by statement.
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'roster_statement' AND channel_id = ?",
                          [channel_id]).fetchone()[0] == 2


def _sign(client, channel_id, officer_id, kind):
    page = client.get("/console/roster").text
    return client.post("/console/roster/sign", data={"csrf_token": csrf_token(page), "channel": str(channel_id),
                                                      "officer": str(officer_id), "kind": kind})


def _root_holder(data_dir, channel_id):
    from portal.keys import roster
    ctx = open_context(data_dir)
    try:
        return roster.load(ctx, channel_id).verified.root_holder()
    finally:
        ctx.db.conn.close()


def test_the_root_holder_hands_the_root_to_another_reader(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    conn = _db(data_dir)
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    cat_id = conn.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    assert "Hand the root of Audit and Risk to" in client.get("/console/roster").text
    # Cat cannot take it while Ana reads the channel.
    other = app.test_client()
    assert sign_in(other, cat).status_code == 303
    assert _sign(other, channel_id, cat_id, "handover").status_code == 404
    done = _sign(client, channel_id, cat_id, "handover")
    assert done.status_code == 303 and "signed=handover" in done.headers["Location"]
    assert _root_holder(data_dir, channel_id) == cat_id
    assert _verify(data_dir).exit_code == 0


def test_a_majority_of_the_other_readers_hand_over_a_gone_holders_root(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    dan = add_account(data_dir, "officer", "dan@agency.govt.nz", "Dan Third", ["Audit and Risk"])
    conn = _db(data_dir)
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    ana_id, cat_id = (conn.execute("SELECT id FROM accounts WHERE email = ?", [e]).fetchone()[0]
                      for e in (installation.officer.email, cat.email))
    run_cli(data_dir, "officer", "offboard", "--email", installation.officer.email)
    assert _root_holder(data_dir, channel_id) == ana_id  # gone, but the root is still hers
    cat_client, dan_client = app.test_client(), app.test_client()
    assert sign_in(cat_client, cat).status_code == 303 and sign_in(dan_client, dan).status_code == 303
    page = cat_client.get("/console/roster").text
    assert "its root holder no longer reads it" in page and "0 have so far" in page
    first = _sign(cat_client, channel_id, cat_id, "handover")
    assert "signed=handover-waiting" in first.headers["Location"]
    assert _root_holder(data_dir, channel_id) == ana_id  # one of two is not a majority
    assert "1 have so far" in dan_client.get("/console/roster").text
    second = _sign(dan_client, channel_id, cat_id, "handover")
    assert "signed=handover" in second.headers["Location"] and "waiting" not in second.headers["Location"]
    assert _root_holder(data_dir, channel_id) == cat_id
    # Now Ana's removal can be signed, and the roster still verifies.
    assert _sign(cat_client, channel_id, ana_id, "remove").status_code == 303
    assert _verify(data_dir).exit_code == 0


def test_a_grant_of_every_case_verifies_the_roster_once(app, installation, monkeypatch):
    from portal.keys import access, roster
    from tests.conftest import officer_key
    data_dir = installation.data_dir
    for _ in range(4):
        disclose(app.test_client(), files=())
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    ctx = open_context(data_dir)
    ana, ana_key = officer_key(ctx, installation.officer)
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    calls = []
    real = roster.signed.verify_chain
    monkeypatch.setattr(roster.signed, "verify_chain", lambda *a: calls.append(1) or real(*a))
    roster._CACHE.clear()
    granted = access.grant(ctx, ana, ana_key, cat_id, "Audit and Risk")
    assert len(granted.granted) == 4 and len(calls) == 1


def test_a_rotation_row_written_into_the_database_reseals_nothing(app, installation):
    """A database writer cannot pose as an interrupted rotation to have an officer's copies re-sealed
    to their key at the officer's next sign-in (review finding)."""
    data_dir = installation.data_dir
    disclose(app.test_client(), files=())
    attacker_private, attacker_public = crypto.generate_keypair()
    with _db(data_dir) as conn:
        conn.execute("INSERT INTO key_rotations (account_id, new_public_key, new_wrapped_private_key,"
                     " old_wrapped_private_key) SELECT id, ?, wrapped_private_key, wrapped_private_key"
                     " FROM accounts WHERE email = ?", [attacker_public, installation.officer.email])
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    assert MARKER in client.get(re.findall(r'href="(/console/cases/[^"/]+)"', client.get("/console/").text)[0]).text
    assert not _opens_anything(attacker_private, data_dir)
    conn = _db(data_dir)
    assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'key_rotation_refused'").fetchone()[0] == 1


def test_deleting_a_channels_whole_roster_does_not_switch_it_off(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    attacker_private, attacker_public = crypto.generate_keypair()
    with _db(data_dir) as conn:
        conn.execute("DELETE FROM roster_statements")
        conn.execute("UPDATE accounts SET public_key = ? WHERE email = ?", [attacker_public, cat.email])
        conn.execute("UPDATE channels SET recovery_public_key = ? WHERE name = 'Audit and Risk'",
                     [attacker_public])
    client = app.test_client()
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, MARKER))
    assert response.status_code == 503 and MARKER in response.text
    assert not _opens_anything(attacker_private, data_dir)
    assert "statements were deleted" in _inbox(app, installation.officer)


def test_cutting_the_end_off_a_chain_brings_no_removed_reader_back(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    conn = _db(data_dir)
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    cat_id, cat_key = conn.execute("SELECT id, public_key FROM accounts WHERE email = ?", [cat.email]).fetchone()
    membership = conn.execute("SELECT * FROM channel_officers WHERE account_id = ?", [cat_id]).fetchone()
    conn.execute("DELETE FROM channel_officers WHERE account_id = ?", [cat_id])  # as a removal leaves it
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    assert _sign(client, channel_id, cat_id, "remove").status_code == 303
    # The "removed" statement deleted and Cat's membership put back, both in the database alone.
    conn.execute("DELETE FROM roster_statements WHERE channel_id = ? AND seq = 3", [channel_id])
    conn.execute(f"INSERT INTO channel_officers VALUES ({', '.join('?' * len(membership))})", membership)
    discloser = app.test_client()
    token = csrf_token(discloser.get("/disclose").text)
    response = post_multipart(discloser, "/disclose", disclosure_fields(token, MARKER))
    assert response.status_code == 503 and MARKER in response.text  # nothing sealed while it is cut
    assert conn.execute("SELECT COUNT(*) FROM case_keys WHERE account_id = ?", [cat_id]).fetchone()[0] == 0
    assert "a statement was deleted or changed" in _inbox(app, installation.officer)
    assert cat_key


def test_odd_rows_in_the_roster_tables_never_give_a_500(app, installation):
    data_dir = installation.data_dir
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    client.get("/console/roster")  # records what Ana has seen
    with _db(data_dir) as conn:
        # Of the wrong types where SQLite's columns take them; PostgreSQL's refuse those: nonsense there.
        conn.execute("INSERT INTO roster_statements VALUES (?, ?, ?, ?)",
                     [1, 2, b"text body", b"\x05"] if database.on_postgres() else [1, 2, "text body", 5])
        conn.execute("UPDATE roster_seen SET root = ?, head = ?",
                     [b"abc", b"\x07"] if database.on_postgres() else ["abc", 7])
    assert app.test_client().get("/disclose").status_code == 200
    assert client.get("/console/").status_code == 200 and client.get("/console/roster").status_code == 200
    (data_dir / roster_files.HEAD_FILE).write_text(json.dumps({"1": {"length": -1, "head": "00", "root": "00"}}))
    assert app.test_client().get("/disclose").status_code == 200
    assert client.get("/console/").status_code == 200


def test_audit_verify_names_a_granted_copy_deleted_in_the_database(app, installation):
    from portal.keys import access
    from tests.conftest import officer_key
    data_dir = installation.data_dir
    disclose(app.test_client(), files=())
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    ctx = open_context(data_dir)
    ana, ana_key = officer_key(ctx, installation.officer)
    cat_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    [ref] = access.grant(ctx, ana, ana_key, cat_id, "Audit and Risk").granted
    assert _verify(data_dir).exit_code == 0
    with _db(data_dir) as conn:
        conn.execute("DELETE FROM case_keys WHERE account_id = ?", [cat_id])
    verdict = _verify(data_dir)
    assert verdict.exit_code == 1 and f"was given case {ref}, but they hold no copy" in verdict.output


def test_a_membership_written_into_the_database_cannot_make_its_account_a_root(app, installation):
    """A new channel's roster starts by itself only for a first officer whose membership an
    audited step made: one written into the database gets no roster of its own (review)."""
    data_dir = installation.data_dir
    run_cli(data_dir, "channel", "add", "Fresh")
    mallory = add_account(data_dir, "officer", "mallory@agency.govt.nz", "Mallory Other", ["Procurement"])
    conn = _db(data_dir)
    fresh = conn.execute("SELECT id FROM channels WHERE name = 'Fresh'").fetchone()[0]
    mallory_id = conn.execute("SELECT id FROM accounts WHERE email = ?", [mallory.email]).fetchone()[0]
    conn.execute("INSERT INTO channel_officers (channel_id, account_id, state) VALUES (?, ?, 'confirmed')",
                 [fresh, mallory_id])
    assert sign_in(app.test_client(), mallory).status_code == 303
    assert conn.execute("SELECT COUNT(*) FROM roster_statements WHERE channel_id = ?", [fresh]).fetchone()[0] == 0
    verdict = _verify(data_dir)
    assert verdict.exit_code == 1 and f"membership of account {mallory_id} in Fresh" in verdict.output
    # A first officer the operator adds (audited per channel) starts it at their first sign-in.
    eve = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve First", ["Fresh"], vouched=False)
    assert eve and conn.execute("SELECT COUNT(*) FROM roster_statements WHERE channel_id = ?",
                                [fresh]).fetchone()[0] == 0  # not alone: Mallory's row is there


def test_a_holder_whose_membership_row_alone_changed_keeps_the_root(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    conn = _db(data_dir)
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    ana_id, cat_id = (conn.execute("SELECT id FROM accounts WHERE email = ?", [e]).fetchone()[0]
                      for e in (installation.officer.email, cat.email))
    conn.execute("UPDATE channel_officers SET state = 'pending' WHERE account_id = ?", [ana_id])
    client = app.test_client()
    assert sign_in(client, cat).status_code == 303
    assert "its root holder no longer reads it" not in client.get("/console/roster").text
    assert _sign(client, channel_id, cat_id, "handover").status_code == 404
    assert _root_holder(data_dir, channel_id) == ana_id


def test_signatures_planted_for_a_hand_over_count_for_nothing(app, installation):
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    dan = add_account(data_dir, "officer", "dan@agency.govt.nz", "Dan Third", ["Audit and Risk"])
    conn = _db(data_dir)
    channel_id = conn.execute("SELECT id FROM channels WHERE name = 'Audit and Risk'").fetchone()[0]
    cat_id = conn.execute("SELECT id FROM accounts WHERE email = ?", [cat.email]).fetchone()[0]
    run_cli(data_dir, "officer", "offboard", "--email", installation.officer.email)
    from portal.keys import roster
    ctx = open_context(data_dir)
    cat_signing = roster.load(ctx, channel_id).verified.readers[cat_id].signing_key
    body = roster.next_statement(ctx, channel_id, "handover", officer=cat_id, signing_key=cat_signing)
    fakes = [crypto.sign_statement(crypto.new_signing_key(), body) for _ in range(2)]
    conn.execute("INSERT INTO roster_handovers VALUES (?, ?, ?, ?)",
                 [channel_id, cat_id, body, crypto.pack_signatures(fakes)])
    cat_client, dan_client = app.test_client(), app.test_client()
    assert sign_in(cat_client, cat).status_code == 303 and sign_in(dan_client, dan).status_code == 303
    assert "0 have so far" in cat_client.get("/console/roster").text
    assert "handover-waiting" in _sign(cat_client, channel_id, cat_id, "handover").headers["Location"]
    assert "handover-waiting" not in _sign(dan_client, channel_id, cat_id, "handover").headers["Location"]
    assert _root_holder(data_dir, channel_id) == cat_id
    # A row that is not a hand-over at all leaves the page working.
    conn.execute("INSERT INTO roster_handovers VALUES (?, ?, ?, ?)",
                 [channel_id, -1, b"y", b"z"] if database.on_postgres() else [channel_id, "x", "y", "z"])
    assert cat_client.get("/console/roster").status_code == 200


def test_the_roster_is_printed_by_the_cli_and_its_root_shown_on_the_public_keys_page(app, installation):
    from click.testing import CliRunner

    from portal.cli import main
    data_dir = installation.data_dir
    cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    ctx = open_context(data_dir)
    ana_signing = ctx.db.execute("SELECT signing_public_key FROM accounts WHERE email = ?",
                                 [installation.officer.email]).fetchone()[0]
    printed = run_cli(data_dir, "channel", "roster", "Audit and Risk").output.splitlines()
    assert printed[0] == f"root {crypto.key_fingerprint(ana_signing)} (pinned)"
    assert printed[1].startswith("1 root ") and "Ana Officer" in printed[1]
    assert printed[2].startswith("2 admit ") and cat.name in printed[2]
    page = app.test_client().get("/keys").text
    assert crypto.key_fingerprint(ana_signing) in page and 'id="signing-key"' in page
    assert cat.name not in page  # the public page names no reader
    with _db(data_dir) as conn:
        conn.execute("UPDATE roster_statements SET signatures = ? WHERE seq = 2", [bytes(96)])
    broken = CliRunner().invoke(main, ["--data", str(data_dir), "channel", "roster", "Audit and Risk"])
    assert broken.exit_code == 1 and "DOES NOT VERIFY" in broken.output and "Statement 2" in broken.output
    assert "does not verify just now" in app.test_client().get("/keys").text


def test_a_roots_file_the_portal_cannot_write_is_pinned_by_the_operators_step(installation, monkeypatch, tmp_path):
    """Production: the roots file is read-only to the portal. A new channel's roster still starts at
    its first officer's first sign-in, its root is reported as not pinned, and `portal roster pin
    --output` writes the file the operator installs (docs/deploy.md, 7b)."""
    from click.testing import CliRunner

    from portal.cli import main
    data_dir = installation.data_dir
    roots = tmp_path / "not-writable-here" / "roster-roots.json"  # its folder does not exist
    monkeypatch.setenv("PORTAL_ROSTER_ROOTS", str(roots))
    run_cli(data_dir, "channel", "add", "Fresh")
    eve = add_account(data_dir, "officer", "eve@agency.govt.nz", "Eve First", ["Fresh"])
    ctx = open_context(data_dir)
    eve_signing = ctx.db.execute("SELECT signing_public_key FROM accounts WHERE email = ?",
                                 [eve.email]).fetchone()[0]
    assert not roots.exists()
    assert "Fresh: root " in (shown := run_cli(data_dir, "roster", "show").output) and "NOT PINNED" in shown
    wrong = CliRunner().invoke(main, ["--data", str(data_dir), "roster", "pin", "Fresh", "--fingerprint",
                                      "AAAA-AAAA-AAAA-AAAA-AAAA", "--output", str(tmp_path / "next.json")])
    assert wrong.exit_code == 1 and not (tmp_path / "next.json").exists()
    run_cli(data_dir, "roster", "pin", "Fresh", "--fingerprint", crypto.key_fingerprint(eve_signing),
            "--output", str(tmp_path / "next.json"))
    roots.parent.mkdir()
    (tmp_path / "next.json").rename(roots)  # as root installs it
    fresh = ctx.db.execute("SELECT id FROM channels WHERE name = 'Fresh'").fetchone()[0]
    assert roster_files.read_roots(roots)[fresh] == eve_signing
    assert "Fresh: root " in (shown := run_cli(data_dir, "roster", "show").output)
    assert "Fresh: root " + crypto.key_fingerprint(eve_signing) + " (pinned)" in shown
