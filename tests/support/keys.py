"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import re

import crypto
from tests.conftest import run_cli

NOTE = "Internal: the invoices match the second supplier."


CONTACT = "ring me on 021 555 0199"


def new_recovery_key(data_dir) -> tuple[list[str], str]:
    out = run_cli(data_dir, "recovery-key", "new", "--threshold", "3", "--shares", "5").output
    shares = re.findall(r"^share [0-9] of 5: (.+)$", out, re.M)
    [public] = re.findall(r"^public key: ([0-9a-f]{64})$", out, re.M)
    assert len(shares) == 5 and len(set(shares)) == 5
    return shares, public


def opens(private_key: bytes, sealed: bytes) -> bool:
    try:
        crypto.open_sealed(private_key, sealed)
        return True
    except crypto.DecryptionError:
        return False


def set_recovery_key(data_dir, channel: str, public: str, officer, *extra: str) -> str:
    """`portal channel set-recovery` and the confirmation by an officer of the channel, through the domain
    function the console's button calls (tests that exercise the confirmation itself use the console).
    Returns the fingerprint the command printed."""
    from portal.core.context import open_context
    from portal.keys import accounts, recovery_requests, signing_keys

    out = run_cli(data_dir, "channel", "set-recovery", channel, public, *extra).output
    [fingerprint] = re.findall(r"fingerprint: ([A-Z2-7]{4}(?:-[A-Z2-7]{4}){4})", out)
    ctx = open_context(data_dir)
    try:
        account = accounts.get_account_by_email(ctx, officer.email)
        [pending] = [p for p in recovery_requests.pending_for(ctx, account) if p.channel_name == channel]
        seed = signing_keys.open_seed(ctx, account.id, officer.passphrase)
        recovery_requests.decide(ctx, account, pending.channel_id, fingerprint, confirm=True,
                                 signing_seed=seed)
    finally:
        ctx.db.conn.close()
    return fingerprint
