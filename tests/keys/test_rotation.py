"""Key rotation (issues 16 and 21), in the officer's console ("Replace my keys"), never on the server's
command line: a new key pair under a NEW passphrase replaces the old and every key they hold is re-sealed
to it, in batches; a rotation killed half-way leaves every copy readable (by the old key or the new, both
under the new passphrase) and carries on from the console or at sign-in, including a case that arrived
meanwhile; the old passphrase (which an operator may have copied) opens nothing new."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

import crypto
from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.support import csrf_token
from tests.support.console import case_links, sign_in
from tests.support.keys import opens
from tests.support.tracing import traced
from tests.support.workflow import disclose_to

KEY_TABLES = ("case_keys", "internal_keys", "identity_keys")
NEW_PASSPHRASE = "quartz lantern orbit meadow 4417"


def officer_copies(ctx, email: str) -> list[tuple[str, str, bytes]]:
    account_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email]).fetchone()[0]
    return [(t, case_id, sealed) for t in KEY_TABLES for case_id, sealed in ctx.db.execute(
        f"SELECT case_id, sealed_key FROM {t} WHERE account_id = ?", [account_id]).fetchall()]


def wrapped_key(ctx, email: str, passphrase: str) -> bytes:
    wrapped = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [email]).fetchone()[0]
    return crypto.unwrap_private_key(wrapped, passphrase)


def unwraps_anything(ctx, email: str, passphrase: str) -> bool:
    """Whether the passphrase unwraps any wrapped key of this officer (in accounts or their rotation)."""
    account_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email]).fetchone()[0]
    wrapped = [w for (w,) in ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE id = ?", [account_id])]
    for row in ctx.db.execute("SELECT new_wrapped_private_key, old_wrapped_private_key FROM key_rotations"
                              " WHERE account_id = ?", [account_id]):
        wrapped += [w for w in row if w is not None]
    for w in wrapped:
        try:
            crypto.unwrap_private_key(w, passphrase)
            return True
        except crypto.CryptoError:
            pass
    return False


def replace_keys(client, current: str, new: str = NEW_PASSPHRASE, again: str | None = None):
    page = client.get("/console/account/keys")
    assert page.status_code == 200, page.status_code
    return client.post("/console/account/keys", data={
        "csrf_token": csrf_token(page.text), "current_passphrase": current, "passphrase": new,
        "passphrase_again": new if again is None else again})


def resume_from_console(client, passphrase: str):
    page = client.get("/console/account/keys").text
    return client.post("/console/account/keys/resume", data={"csrf_token": csrf_token(page),
                                                             "passphrase": passphrase})


# Run in a child process that is killed between batches: the console's own request, through the app.
CHILD = """
import json, sys
from portal.web.app import create_app
args = json.loads(sys.stdin.read())
app = create_app(args["data_dir"])
app.config.update(TESTING=True, PORTAL_ROTATION_BATCH_SIZE=1, PORTAL_ROTATION_PAUSE_SECONDS=0.3)
client = app.test_client()
for name, value in args["cookies"]:
    client.set_cookie(name, value)
client.post("/console/account/keys", data=args["form"])
"""


def kill_rotation_half_way(app, installation, client) -> tuple[bytes, bytes]:
    """Four cases, a console rotation of Ana's key in batches of one case, the serving process killed
    (SIGKILL) after a few batches; then a disclosure arrives. Returns (old private key, new private key)."""
    data_dir, ana = installation.data_dir, installation.officer
    for n in range(4):
        disclose_to(app.test_client(), details=f"Disclosure number {n}.", contact=f"contact {n}")
    ctx = open_context(data_dir)
    old_key = wrapped_key(ctx, ana.email, ana.passphrase)
    assert len(officer_copies(ctx, ana.email)) == 12
    assert sign_in(client, ana).status_code == 303
    page = client.get("/console/account/keys").text
    form = {"csrf_token": csrf_token(page), "current_passphrase": ana.passphrase,
            "passphrase": NEW_PASSPHRASE, "passphrase_again": NEW_PASSPHRASE}
    cookies = [(c.key, c.value) for c in client._cookies.values()]
    process = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write(json.dumps({"data_dir": str(data_dir), "cookies": cookies, "form": form}).encode())
    process.stdin.close()
    new_key, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        row = ctx.db.execute("SELECT new_wrapped_private_key FROM key_rotations").fetchone()
        if row is not None:
            new_key = new_key or crypto.unwrap_private_key(row[0], NEW_PASSPHRASE)
            if sum(opens(new_key, s) for _, _, s in officer_copies(ctx, ana.email)) >= 3:
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    # Half-way: some copies under the new key, some under the old, and each opens with one of them.
    copies = officer_copies(ctx, ana.email)
    moved = sum(opens(new_key, s) for _, _, s in copies)
    assert 3 <= moved < 12
    assert all(opens(old_key, s) or opens(new_key, s) for _, _, s in copies)
    # Already, the old passphrase unwraps nothing the database holds.
    assert not unwraps_anything(ctx, ana.email, ana.passphrase)
    # A disclosure arrives meanwhile: sealed to the new public key, so nothing of it for the old key.
    disclose_to(app.test_client(), details="Arrived during the rotation.")
    arrived = [s for _, case_id, s in officer_copies(ctx, ana.email) if case_id not in {c for _, c, _ in copies}]
    assert len(arrived) == 3 and all(opens(new_key, s) and not opens(old_key, s) for s in arrived)
    return old_key, new_key


def assert_rotated(installation, old_key: bytes, new_key: bytes) -> None:
    ctx = open_context(installation.data_dir)
    assert wrapped_key(ctx, installation.officer.email, NEW_PASSPHRASE) == new_key
    copies = officer_copies(ctx, installation.officer.email)
    assert len(copies) == 15 and all(opens(new_key, s) and not opens(old_key, s) for _, _, s in copies)
    assert ctx.db.execute("SELECT COUNT(*) FROM key_rotations").fetchone()[0] == 0
    # The operator's copy of the old passphrase unwraps nothing at all.
    assert not unwraps_anything(ctx, installation.officer.email, installation.officer.passphrase)


def read_every_case(app, person) -> str:
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    links = case_links(client.get("/console/").text)
    assert len(links) == 5
    pages = [client.get(link) for link in links]
    assert all(p.status_code == 200 for p in pages)
    return "".join(p.text for p in pages)


def test_rotate_key_on_the_command_line_refuses_and_names_the_console_page(installation):
    ana = installation.officer
    for args in (["officer", "rotate-key", "--email", ana.email, "--passphrase-stdin"], ["officer", "rotate-key"]):
        result = CliRunner().invoke(portal_cli, ["--data", str(installation.data_dir), *args],
                                    input=ana.passphrase + "\n")
        assert result.exit_code == 2
        assert result.output.strip().count("\n") == 0 and "Replace my keys" in result.output
        assert "/console/account/keys" in result.output
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM key_rotations").fetchone()[0] == 0
    assert wrapped_key(ctx, ana.email, ana.passphrase)  # nothing changed


@pytest.mark.slow
def test_a_rotation_killed_half_way_loses_nothing_and_resumes_from_the_console(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    client = app.test_client()
    old_key, new_key = kill_rotation_half_way(app, installation, client)
    # The same console session shows how far it got and carries it on with the new passphrase.
    page = client.get("/console/account/keys").text
    assert " done, " in page and "to do" in page
    done, to_do = map(int, __import__("re").search(r"(\d+) cases? done, (\d+) to do", page).groups())
    assert done >= 1 and to_do >= 1 and done + to_do == 5
    # `portal under-way` lists it too (review L2), and where it is carried on.
    listed = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "under-way"]).stdout
    assert listed == (f"a key rotation of {ana.email}: {done} of 5 cases done; carried on by the console,"
                      " Replace my keys (/console/account/keys), or signing in with the new passphrase\n")
    wrong = resume_from_console(client, ana.passphrase)  # the old one does not carry it on
    assert wrong.status_code == 400 and "not the new passphrase" in wrong.text
    carried = resume_from_console(client, NEW_PASSPHRASE)
    assert carried.status_code == 303 and "done=1" in carried.headers["Location"]
    assert "Your keys were replaced" in client.get(carried.headers["Location"]).text
    assert_rotated(installation, old_key, new_key)
    assert CliRunner().invoke(portal_cli, ["--data", str(data_dir), "under-way"]).stdout == \
        "Nothing is under way.\n"
    assert [e for (e,) in open_context(data_dir).db.execute(
        "SELECT event FROM audit_log WHERE event LIKE 'key_rot%' ORDER BY seq")] == ["key_rotation_started", "key_rotated"]
    pages = read_every_case(app, replace(ana, passphrase=NEW_PASSPHRASE))
    assert "Arrived during the rotation." in pages and "contact 3" in pages


@pytest.mark.slow
def test_signing_in_during_an_interrupted_rotation_finishes_it(app, installation):
    old_key, new_key = kill_rotation_half_way(app, installation, app.test_client())
    # The old passphrase no longer signs in; the new one does, and finishes the rotation.
    assert sign_in(app.test_client(), installation.officer).status_code != 303
    pages = read_every_case(app, replace(installation.officer, passphrase=NEW_PASSPHRASE))
    assert "Arrived during the rotation." in pages and "Disclosure number 0." in pages
    assert_rotated(installation, old_key, new_key)


def test_a_console_rotation_needs_a_new_strong_passphrase_and_ends_other_sessions(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    disclose_to(app.test_client())
    client, other = app.test_client(), app.test_client()
    assert sign_in(client, ana).status_code == 303
    account = client.get("/console/account").text
    assert 'href="/console/account/keys"' in account and "Replace my keys" in account
    [case] = case_links(client.get("/console/").text)
    ctx = open_context(data_dir)
    before = ctx.db.execute("SELECT public_key FROM accounts WHERE email = ?", [ana.email]).fetchone()[0]
    old_key = wrapped_key(ctx, ana.email, ana.passphrase)
    # A wrong current passphrase, the same passphrase again, a weak or mistyped new one: nothing changes.
    for response, text in ((replace_keys(client, "not the passphrase at all"), "current passphrase is not right"),
                           (replace_keys(client, ana.passphrase, ana.passphrase), "Choose a new passphrase"),
                           (replace_keys(client, ana.passphrase, "password1"), "not replaced"),
                           (replace_keys(client, ana.passphrase, again="something else entirely"), "not the same")):
        assert response.status_code == 400 and text in response.text, text
    assert ctx.db.execute("SELECT public_key FROM accounts WHERE email = ?", [ana.email]).fetchone()[0] == before
    assert client.get(case).status_code == 200
    assert sign_in(other, replace(ana)).status_code == 303

    done = replace_keys(client, ana.passphrase)
    assert done.status_code == 303
    after = ctx.db.execute("SELECT public_key FROM accounts WHERE email = ?", [ana.email]).fetchone()[0]
    assert after != before
    new_key = wrapped_key(ctx, ana.email, NEW_PASSPHRASE)
    # This browser goes on with the new key; every other session (holding the old key) has ended.
    assert client.get(case).status_code == 200
    assert other.get(case).status_code == 303
    # The old passphrase: no sign-in, no key unwrapped, no case key re-sealed to the new key opens with it.
    assert sign_in(app.test_client(), ana).status_code != 303
    assert not unwraps_anything(ctx, ana.email, ana.passphrase)
    copies = officer_copies(ctx, ana.email)
    assert copies and all(opens(new_key, s) and not opens(old_key, s) for _, _, s in copies)
    # A later disclosure too: sealed to the new key only.
    disclose_to(app.test_client(), details="After the rotation.")
    copies = officer_copies(ctx, ana.email)
    assert len(copies) == 6 and not any(opens(old_key, s) for _, _, s in copies)
    fresh = app.test_client()
    assert sign_in(fresh, replace(ana, passphrase=NEW_PASSPHRASE)).status_code == 303
    links = case_links(fresh.get("/console/").text)
    assert len(links) == 2 and all(fresh.get(link).status_code == 200 for link in links)


def test_a_passphrase_change_waits_for_an_interrupted_rotation(app, installation, monkeypatch):
    """The rotation keeps the old key wrapped under its new passphrase until it is done: a passphrase change
    meanwhile would strand the cases not yet re-sealed, so it is refused until the rotation is finished."""
    from portal.keys import accounts, credentials, rotation
    data_dir, ana = installation.data_dir, installation.officer
    disclose_to(app.test_client())
    client = app.test_client()
    assert sign_in(client, ana).status_code == 303
    ctx = open_context(data_dir)
    account = accounts.get_account_by_email(ctx, ana.email)
    old_key = credentials.unwrap_with_passphrase(ctx, account.id, ana.passphrase)
    # Begun elsewhere and interrupted before its first batch: a rotation that stopped right after `start`.
    monkeypatch.setattr(rotation, "_carry_on", lambda *a, **k: rotation.Rotated(0, False))
    rotation.start(ctx, account, old_key, ana.passphrase, NEW_PASSPHRASE,
                   keep_session=client.get_cookie(app.config["PORTAL_CONSOLE_COOKIE"]).value)
    monkeypatch.undo()
    before = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE id = ?", [account.id]).fetchone()[0]
    page = client.get("/console/account").text
    strong = "velvet compass harbour quietly 2291"
    refused = client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page), "current_passphrase": NEW_PASSPHRASE, "passphrase": strong,
        "passphrase_again": strong})
    assert refused.status_code == 400 and "change of your key pair is under way" in refused.text
    assert ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE id = ?", [account.id]).fetchone()[0] == before
    assert "0 cases done, 1 to do" in client.get("/console/account/keys").text
    assert resume_from_console(client, NEW_PASSPHRASE).status_code == 303
    assert not rotation.pending(ctx, account.id)
    new_key = wrapped_key(ctx, ana.email, NEW_PASSPHRASE)
    assert all(opens(new_key, s) for _, _, s in officer_copies(ctx, ana.email))


def test_a_rotation_begun_before_the_upgrade_is_finished_at_sign_in_with_its_passphrase(app, installation):
    """A rotation the old command line began (before migration 14): its new key wrapped under the unchanged
    passphrase in key_rotations, the old key still in accounts. Signing in finishes it, losing nothing."""
    from portal.keys import credentials
    data_dir, ana = installation.data_dir, installation.officer
    disclose_to(app.test_client())
    ctx = open_context(data_dir)
    account_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [ana.email]).fetchone()[0]
    new_key, new_public = crypto.generate_keypair()
    ctx.db.execute("INSERT INTO key_rotations (account_id, new_public_key, new_wrapped_private_key) VALUES (?, ?, ?)",
                   [account_id, new_public, credentials.wrap(ctx, new_key, ana.passphrase)])
    client = app.test_client()
    assert sign_in(client, ana).status_code == 303
    [case] = case_links(client.get("/console/").text)
    assert client.get(case).status_code == 200
    assert wrapped_key(ctx, ana.email, ana.passphrase) == new_key
    assert all(opens(new_key, s) for _, _, s in officer_copies(ctx, ana.email))
    assert ctx.db.execute("SELECT COUNT(*) FROM key_rotations").fetchone()[0] == 0


def test_a_rotation_re_seals_a_bounded_batch_of_cases_per_transaction(app, installation, monkeypatch):
    """Issue 23: rows per transaction, counted from the statements the console's rotation runs; after
    each batch, outside any transaction, the writers waiting behind it go first."""
    from portal.keys import rotation
    cases, batch = 5, 2
    for n in range(cases):
        disclose_to(app.test_client(), details=f"Disclosure number {n}.")
    app.config.update(PORTAL_ROTATION_BATCH_SIZE=batch)
    yields = []
    monkeypatch.setattr(rotation, "yield_to_writers", lambda db, longest: yields.append(db.conn.in_transaction))
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    with traced() as trace:
        assert replace_keys(client, installation.officer.passphrase).status_code == 303
    updates = re.compile(rf"^\s*UPDATE ({'|'.join(KEY_TABLES)}) SET sealed_key", re.I)
    written = [sum(1 for sql in t if updates.match(sql)) for t in trace.transactions()]
    batches = [t for t in trace.transactions() if any("cases_done_through" in sql for sql in t)
               and any(updates.match(sql) for sql in t)]
    assert len(batches) == -(-cases // batch)  # ceil: each batch its own transaction
    assert max(written) <= batch * len(KEY_TABLES)  # no transaction re-seals more than a batch
    assert sum(written) == cases * len(KEY_TABLES)  # each copy once
    # Reads are bounded too: every transaction reads the copies of at most `batch` cases (the second
    # pass, for copies made from the old public key meanwhile, is batched like the first), and the
    # last one, which deletes the old key's wrapping, reads none.
    reads = re.compile(rf"^\s*SELECT case_id, sealed_key FROM ({'|'.join(KEY_TABLES)}) WHERE", re.I)
    for transaction in trace.transactions():
        for sql in filter(reads.match, transaction):
            assert "case_id IN (" in sql and sql.split("IN (", 1)[1].count(",") < batch
    [last] = [t for t in trace.transactions() if any("DELETE FROM key_rotations" in sql for sql in t)]
    assert not any(reads.match(sql) for sql in last)
    assert sum(1 for t in trace.transactions() if any(reads.match(sql) for sql in t)) == 2 * len(batches)
    assert yields == [False] * (2 * len(batches))
    assert run_cli_verify(installation.data_dir) == 0


def run_cli_verify(data_dir) -> int:
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"]).exit_code
