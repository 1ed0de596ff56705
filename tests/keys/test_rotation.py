"""Key rotation (issue 16): an officer's new key pair replaces the old and every key they hold is re-sealed to
it, in batches; a rotation killed half-way leaves every copy readable (by the old key or the new, both under
the passphrase) and carries on when run again, including a case that arrived meanwhile."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

import crypto
from portal.core.context import open_context
from tests.conftest import run_cli
from tests.support.console import case_links, sign_in
from tests.support.workflow import disclose_to
from tests.support.keys import opens

KEY_TABLES = ("case_keys", "internal_keys", "identity_keys")


def officer_copies(ctx, email: str) -> list[tuple[str, str, bytes]]:
    account_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email]).fetchone()[0]
    return [(t, case_id, sealed) for t in KEY_TABLES for case_id, sealed in ctx.db.execute(
        f"SELECT case_id, sealed_key FROM {t} WHERE account_id = ?", [account_id]).fetchall()]




def wrapped_key(ctx, email: str, passphrase: str) -> bytes:
    wrapped = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [email]).fetchone()[0]
    return crypto.unwrap_private_key(wrapped, passphrase)


def kill_rotation_half_way(app, installation) -> tuple[bytes, bytes]:
    """Four cases, a rotation of Ana's key in batches of one, killed (SIGKILL) after a few batches; then a
    disclosure arrives, sealed to the old key. Returns (old private key, new private key)."""
    data_dir, ana = installation.data_dir, installation.officer
    for n in range(4):
        disclose_to(app.test_client(), details=f"Disclosure number {n}.", contact=f"contact {n}")
    ctx = open_context(data_dir)
    old_key = wrapped_key(ctx, ana.email, ana.passphrase)
    assert len(officer_copies(ctx, ana.email)) == 12

    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "--data", str(data_dir), "officer", "rotate-key", "--email", ana.email,
         "--passphrase-stdin", "--batch-size", "1", "--batch-pause", "0.3"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write((ana.passphrase + "\n").encode())
    process.stdin.close()
    new_key, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        row = ctx.db.execute("SELECT new_wrapped_private_key FROM key_rotations").fetchone()
        if row is not None:
            new_key = new_key or crypto.unwrap_private_key(row[0], ana.passphrase)
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
    # A disclosure arrives meanwhile, sealed to the old public key.
    disclose_to(app.test_client(), details="Arrived during the rotation.")
    return old_key, new_key


def assert_rotated(installation, old_key: bytes, new_key: bytes) -> None:
    ctx = open_context(installation.data_dir)
    assert wrapped_key(ctx, installation.officer.email, installation.officer.passphrase) == new_key
    copies = officer_copies(ctx, installation.officer.email)
    assert len(copies) == 15 and all(opens(new_key, s) and not opens(old_key, s) for _, _, s in copies)
    assert ctx.db.execute("SELECT COUNT(*) FROM key_rotations").fetchone()[0] == 0


def read_every_case(app, person) -> str:
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    links = case_links(client.get("/console/").text)
    assert len(links) == 5
    pages = [client.get(link) for link in links]
    assert all(p.status_code == 200 for p in pages)
    return "".join(p.text for p in pages)


@pytest.mark.slow
def test_a_rotation_killed_half_way_loses_nothing_and_resumes(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    old_key, new_key = kill_rotation_half_way(app, installation)
    out = run_cli(data_dir, "officer", "rotate-key", "--email", ana.email, "--passphrase-stdin",
                  input=ana.passphrase + "\n").output
    assert "an interrupted rotation carried on" in out
    assert_rotated(installation, old_key, new_key)
    assert [e for (e,) in open_context(data_dir).db.execute(
        "SELECT event FROM audit_log WHERE event LIKE 'key_rot%' ORDER BY seq")] == ["key_rotation_started", "key_rotated"]
    pages = read_every_case(app, ana)
    assert "Arrived during the rotation." in pages and "contact 3" in pages


@pytest.mark.slow
def test_signing_in_during_an_interrupted_rotation_finishes_it(app, installation):
    old_key, new_key = kill_rotation_half_way(app, installation)
    pages = read_every_case(app, installation.officer)  # every case, whichever key its copy was under
    assert "Arrived during the rotation." in pages and "Disclosure number 0." in pages
    assert_rotated(installation, old_key, new_key)


def test_rotation_ends_sessions_and_a_wrong_passphrase_changes_nothing(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    disclose_to(app.test_client())
    client = app.test_client()
    assert sign_in(client, ana).status_code == 303
    [case] = case_links(client.get("/console/").text)
    ctx = open_context(data_dir)
    before = ctx.db.execute("SELECT public_key FROM accounts WHERE email = ?", [ana.email]).fetchone()[0]
    from click.testing import CliRunner
    from portal.cli import main as portal_cli
    wrong = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "officer", "rotate-key", "--email", ana.email,
                                            "--passphrase-stdin"], input="not the passphrase at all\n")
    assert wrong.exit_code != 0 and "do not match" in wrong.output
    assert client.get(case).status_code == 200
    run_cli(data_dir, "officer", "rotate-key", "--email", ana.email, "--passphrase-stdin", input=ana.passphrase + "\n")
    assert ctx.db.execute("SELECT public_key FROM accounts WHERE email = ?", [ana.email]).fetchone()[0] != before
    assert client.get(case).status_code == 303  # the session held the old key: it has ended
    assert sign_in(client, ana).status_code == 303 and client.get(case).status_code == 200


def test_a_passphrase_change_waits_for_an_interrupted_rotation(app, installation):
    """The rotation's new key is wrapped under the passphrase it began with: a passphrase change meanwhile
    would strand the cases already re-sealed to it, so it is refused until the rotation is finished."""
    from portal.keys import credentials
    from tests.support import csrf_token
    data_dir, ana = installation.data_dir, installation.officer
    disclose_to(app.test_client())
    client = app.test_client()
    assert sign_in(client, ana).status_code == 303
    ctx = open_context(data_dir)
    account_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [ana.email]).fetchone()[0]
    new_key, new_public = crypto.generate_keypair()
    ctx.db.execute("INSERT INTO key_rotations VALUES (?, ?, ?)",
                   [account_id, new_public, credentials.wrap(ctx, new_key, ana.passphrase)])   # begun elsewhere
    before = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE id = ?", [account_id]).fetchone()[0]
    page = client.get("/console/account").text
    strong = "quartz lantern orbit meadow 4417"
    refused = client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(page), "current_passphrase": ana.passphrase, "passphrase": strong,
        "passphrase_again": strong})
    assert refused.status_code == 400 and "change of your key pair is under way" in refused.text
    assert ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE id = ?", [account_id]).fetchone()[0] == before
    out = run_cli(data_dir, "officer", "rotate-key", "--email", ana.email, "--passphrase-stdin",
                  input=ana.passphrase + "\n").output
    assert "an interrupted rotation carried on" in out
    assert wrapped_key(ctx, ana.email, ana.passphrase) == new_key
